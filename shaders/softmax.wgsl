// softmax and log-softmax over the last axis. Two variants:
//   rows_per_thread    one invocation per row, for short rows (C = 10 must not idle a workgroup);
//   row_per_workgroup  one workgroup per row, one pass over the row for its max and sum
//                      (online softmax), then one pass to write. Rows of up to CACHE columns
//                      are kept in workgroup memory on the first pass, so the logits are
//                      read from global memory once.
// Grids past 65535 workgroups are folded into 2-D; the row is rebuilt from both ids.

override WG: u32 = 256u;
override LOG: bool = false;

struct Params {
  rows: u32,
  cols: u32,
}

@group(0) @binding(0) var<storage, read> z: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

fn output_of(v: f32, s: vec4f) -> f32 {
  if (LOG) {
    return log_softmax_of(v, s);
  }
  return softmax_of(v, s);
}

@compute @workgroup_size(WG)
fn rows_per_thread(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let row = gid.x + gid.y * groups.x * WG;
  if (row >= params.rows) {
    return;
  }
  let base = row * params.cols;
  var s = stats_empty();
  var block = stats_empty();
  for (var c = 0u; c < params.cols; c++) {
    block = stats_push(block, z[base + c]);
    if (c % BLOCK == BLOCK - 1u) {
      s = stats_merge(s, block);
      block = stats_empty();
    }
  }
  s = stats_merge(s, block);
  for (var c = 0u; c < params.cols; c++) {
    out[base + c] = output_of(z[base + c], s);
  }
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
  var s = stats_empty();
  for (var c = lid; c < params.cols; c += WG) {
    s = stats_push(s, first_pass_value(base, c));
  }
  s = workgroup_stats(s, lid);
  for (var c = lid; c < params.cols; c += WG) {
    let v = second_pass_value(base, c);
    out[base + c] = output_of(v, s);
  }
}
