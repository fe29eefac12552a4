// A row's running statistics in one pass (the "online softmax" of Milakov and Gimelshein,
// 2018): x = the max so far, y = sum(exp(v - x)) over the values so far, and two plain sums,
// z and w, that kernels use for whatever else they total over the row.
//
// -Infinity adds exp(-inf) = 0 and never becomes the max of a row with a finite value; a row
// of only -Infinity keeps x = -inf and y = 0. NaN makes y NaN. A +Infinity max makes the row
// NaN when its outputs are formed (see row_is_nan), as on the CPU backend.

/// Invocations that walk a whole row alone merge their statistics every BLOCK values.
const BLOCK = 64u;

fn stats_empty() -> vec4f {
  return vec4f(neg_inf_f32(), 0.0, 0.0, 0.0);
}

fn stats_push(a: vec4f, v: f32) -> vec4f {
  if (is_nan(v)) {
    return vec4f(a.x, nan_f32(), a.z, a.w);
  }
  if (v > a.x) {
    // Rescale the old sum to the new max; an empty sum stays 0 (and exp(-inf - v) is never formed).
    var carried = 0.0;
    if (!is_neg_inf(a.x)) {
      carried = a.y * exp(a.x - v);
    }
    return vec4f(v, carried + 1.0, a.z, a.w);
  }
  if (is_neg_inf(v)) {
    return a;
  }
  return vec4f(a.x, a.y + exp(v - a.x), a.z, a.w);
}

fn stats_merge(a: vec4f, b: vec4f) -> vec4f {
  let hi = select(b, a, a.x >= b.x);
  let lo = select(a, b, a.x >= b.x);
  var lo_sum = lo.y;
  if (!is_neg_inf(lo.x)) {
    lo_sum = lo.y * exp(lo.x - hi.x);
  }
  return vec4f(hi.x, hi.y + lo_sum, a.z + b.z, a.w + b.w);
}

fn row_is_nan(s: vec4f) -> bool {
  return is_nan(s.y) || is_pos_inf(s.x);
}

/// The row has no finite value: all -Infinity, or no columns.
fn row_is_empty(s: vec4f) -> bool {
  return is_neg_inf(s.x);
}

/// softmax(v) for a value of the row whose statistics are `s`; 0 in a row of all -Infinity.
fn softmax_of(v: f32, s: vec4f) -> f32 {
  if (row_is_nan(s)) {
    return nan_f32();
  }
  if (row_is_empty(s) || is_neg_inf(v)) {
    return 0.0;
  }
  return exp(v - s.x) / s.y;
}

/// log_softmax(v); -Infinity in a row of all -Infinity.
fn log_softmax_of(v: f32, s: vec4f) -> f32 {
  if (row_is_nan(s)) {
    return nan_f32();
  }
  if (row_is_empty(s) || is_neg_inf(v)) {
    return neg_inf_f32();
  }
  return (v - s.x) - log(s.y);
}
