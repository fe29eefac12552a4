// Adds one batch to a metrics accumulator acc = [loss, correct, counted, rows] on the device,
// so training can report its loss and accuracy once per epoch instead of reading back every
// batch. One workgroup walks the rows: a row is right when its first largest logit is the
// target class (the target's first largest entry, for probability targets); NaN is never
// right; ignored rows are not counted.

override WG: u32 = 256u;
override PROBS: bool = false;

struct Params {
  rows: u32,
  cols: u32,
  ignore_index: i32,
  loss_scale: f32,
}

@group(0) @binding(0) var<storage, read> z: array<f32>;
@group(0) @binding(1) var<storage, read> targets: array<u32>;
@group(0) @binding(2) var<storage, read> loss: array<f32>;
@group(0) @binding(3) var<storage, read_write> acc: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

/// The first index of the row's largest value, or -1 when the row holds NaN.
fn argmax_z(base: u32) -> i32 {
  var best = 0;
  var max = z[base];
  for (var c = 0u; c < params.cols; c++) {
    let v = z[base + c];
    if (is_nan(v)) {
      return -1;
    }
    if (v > max) {
      best = i32(c);
      max = v;
    }
  }
  return best;
}

fn argmax_targets(base: u32) -> i32 {
  var best = 0;
  var max = bitcast<f32>(targets[base]);
  for (var c = 1u; c < params.cols; c++) {
    let v = bitcast<f32>(targets[base + c]);
    if (v > max) {
      best = i32(c);
      max = v;
    }
  }
  return best;
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  var counts = stats_empty();
  for (var r = lid; r < params.rows; r += WG) {
    var truth: i32;
    if (PROBS) {
      truth = argmax_targets(r * params.cols);
    } else {
      truth = bitcast<i32>(targets[r]);
    }
    if (PROBS || truth != params.ignore_index) {
      counts.w += 1.0;
      if (argmax_z(r * params.cols) == truth) {
        counts.z += 1.0;
      }
    }
  }
  let total = workgroup_stats(counts, lid);
  if (lid == 0u) {
    acc[0] += loss[0] * params.loss_scale;
    acc[1] += total.z;
    acc[2] += total.w;
    acc[3] += f32(params.rows);
  }
}
