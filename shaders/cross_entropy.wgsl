// Softmax cross-entropy and its gradient, fused: one pass over a row's logits gathers its max,
// its sum of exponentials and its total target weight; a second pass (over workgroup memory
// when the row fits in CACHE) writes the gradient and gathers the loss. Index targets read
// 4 bytes and write 4 bytes per logit from global memory when cached, 8 + 4 when not.
//
// Every target kind becomes an effective weight row t (see target_weight); then
//   loss_row = -sum_c t_c log p_c   (a term with t_c = 0 is 0, even where p_c = 0)
//   grad     = (p * sum_c t_c - t) * scale
// where scale is 1, or 1 / (the mean's denominator), read from `norm` on the device.
//
// Entry points, dispatched in this order for one call:
//   mean_denominator                          'mean' only: norm = [denominator, 1 / denominator]
//   rows_per_thread | row_per_workgroup       row losses and the gradient
//   finalize                                  'mean' and 'sum': the scalar loss
// All share one bind-group layout.

override WG: u32 = 256u;
// The target kind changes what is read per logit, so it selects a pipeline; the rest are
// uniform flags, which cost nothing per logit and spare a compile per combination.
override PROBS: bool = false;

const WEIGHTED = 1u;
const WITH_GRAD = 2u;
const MEAN = 4u;

struct Params {
  rows: u32,
  cols: u32,
  ignore_index: i32,
  smoothing: f32,
  flags: u32,
}

@group(0) @binding(0) var<storage, read> z: array<f32>;
// int32 class ids, or float32 probabilities, by their bits.
@group(0) @binding(1) var<storage, read> targets: array<u32>;
@group(0) @binding(2) var<storage, read> weights: array<f32>;
@group(0) @binding(3) var<storage, read_write> norm: array<f32>;
@group(0) @binding(4) var<storage, read_write> row_loss: array<f32>;
@group(0) @binding(5) var<storage, read_write> grad: array<f32>;
@group(0) @binding(6) var<storage, read_write> loss: array<f32>;
@group(0) @binding(7) var<uniform> params: Params;

fn has(flag: u32) -> bool {
  return (params.flags & flag) != 0u;
}

fn class_weight(c: u32) -> f32 {
  if (has(WEIGHTED)) {
    return weights[c];
  }
  return 1.0;
}

/// The row's class id, or -1 for probability targets; `ignored` rows count for nothing.
fn label_of(row: u32) -> i32 {
  if (PROBS) {
    return -1;
  }
  return bitcast<i32>(targets[row]);
}

fn is_ignored(label: i32) -> bool {
  return !PROBS && label == params.ignore_index;
}

/// t_c: (1 - s) w[y] onehot(y) + (s / C) w for class ids, w ((1 - s) y + s / C) for probabilities.
fn target_weight(base: u32, c: u32, label: i32) -> f32 {
  let uniform_part = params.smoothing / f32(params.cols);
  if (PROBS) {
    return class_weight(c) * ((1.0 - params.smoothing) * bitcast<f32>(targets[base + c]) + uniform_part);
  }
  if (is_ignored(label)) {
    return 0.0;
  }
  var t = uniform_part * class_weight(c);
  if (i32(c) == label) {
    t += (1.0 - params.smoothing) * class_weight(c);
  }
  return t;
}

fn grad_scale() -> f32 {
  if (has(MEAN)) {
    return norm[1];
  }
  return 1.0;
}

/// One logit's share of the loss and, if asked, its gradient.
fn loss_term(v: f32, t: f32, s: vec4f) -> f32 {
  if (t == 0.0) {
    return 0.0;
  }
  return -t * log_softmax_of(v, s);
}

fn grad_of(v: f32, t: f32, s: vec4f, scale: f32, ignored: bool) -> f32 {
  if (ignored) {
    return 0.0;
  }
  return (softmax_of(v, s) * s.z - t) * scale;
}

@compute @workgroup_size(WG)
fn rows_per_thread(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let row = gid.x + gid.y * groups.x * WG;
  if (row >= params.rows) {
    return;
  }
  let base = row * params.cols;
  let label = label_of(row);
  // Sums run in blocks of BLOCK values, merged into the total, so a long row's error grows
  // with its length / BLOCK rather than with its length.
  var s = stats_empty();
  var block = stats_empty();
  for (var c = 0u; c < params.cols; c++) {
    block = stats_push(block, z[base + c]);
    block.z += target_weight(base, c, label);
    if (c % BLOCK == BLOCK - 1u) {
      s = stats_merge(s, block);
      block = stats_empty();
    }
  }
  s = stats_merge(s, block);
  let scale = grad_scale();
  let ignored = is_ignored(label);
  var total = 0.0;
  var part = 0.0;
  for (var c = 0u; c < params.cols; c++) {
    let v = z[base + c];
    let t = target_weight(base, c, label);
    part += loss_term(v, t, s);
    if (c % BLOCK == BLOCK - 1u) {
      total += part;
      part = 0.0;
    }
    if (has(WITH_GRAD)) {
      grad[base + c] = grad_of(v, t, s, scale, ignored);
    }
  }
  row_loss[row] = total + part;
}

@compute @workgroup_size(WG)
fn row_per_workgroup(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let row = wid.x + wid.y * groups.x;
  if (row >= params.rows) {
    return;
  }
  let base = row * params.cols;
  let label = label_of(row);
  var s = stats_empty();
  for (var c = lid; c < params.cols; c += WG) {
    s = stats_push(s, first_pass_value(base, c));
    s.z += target_weight(base, c, label);
  }
  s = workgroup_stats(s, lid);
  let scale = grad_scale();
  let ignored = is_ignored(label);
  var part = stats_empty();
  for (var c = lid; c < params.cols; c += WG) {
    let v = second_pass_value(base, c);
    let t = target_weight(base, c, label);
    part.z += loss_term(v, t, s);
    if (has(WITH_GRAD)) {
      grad[base + c] = grad_of(v, t, s, scale, ignored);
    }
  }
  let total = workgroup_stats(part, lid).z;
  if (lid == 0u) {
    row_loss[row] = total;
  }
}

@compute @workgroup_size(WG)
fn mean_denominator(@builtin(local_invocation_index) lid: u32) {
  var s = stats_empty();
  if (PROBS) {
    s.z = select(0.0, f32(params.rows), lid == 0u);
  } else {
    for (var i = lid; i < params.rows; i += WG) {
      let label = bitcast<i32>(targets[i]);
      if (label != params.ignore_index && label >= 0 && u32(label) < params.cols) {
        s.z += class_weight(u32(label));
      }
    }
  }
  let total = workgroup_stats(s, lid).z;
  if (lid == 0u) {
    norm[0] = total;
    norm[1] = select(1.0 / total, 0.0, total == 0.0);
  }
}

@compute @workgroup_size(WG)
fn finalize(@builtin(local_invocation_index) lid: u32) {
  var s = stats_empty();
  for (var i = lid; i < params.rows; i += WG) {
    s.z += row_loss[i];
  }
  let total = workgroup_stats(s, lid).z;
  if (lid == 0u) {
    if (has(MEAN)) {
      // The mean of nothing (no rows, or every row ignored) is NaN, as in PyTorch.
      loss[0] = select(total / norm[0], nan_f32(), norm[0] == 0.0);
    } else {
      loss[0] = total;
    }
  }
}
