// dz = p * (dp - sum(dp * p)) per row: the softmax Jacobian diag(p) - p pᵀ applied to dp.
// The same two variants as softmax.wgsl; the dot product travels in the statistics' z slot.
// BLOCK comes from lib/row_stats.wgsl.

override WG: u32 = 256u;

struct Params {
  rows: u32,
  cols: u32,
}

@group(0) @binding(0) var<storage, read> p: array<f32>;
@group(0) @binding(1) var<storage, read> dp: array<f32>;
@group(0) @binding(2) var<storage, read_write> dz: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn rows_per_thread(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let row = gid.x + gid.y * groups.x * WG;
  if (row >= params.rows) {
    return;
  }
  let base = row * params.cols;
  var dot = 0.0;
  var part = 0.0;
  for (var c = 0u; c < params.cols; c++) {
    part += p[base + c] * dp[base + c];
    if (c % BLOCK == BLOCK - 1u) {
      dot += part;
      part = 0.0;
    }
  }
  dot += part;
  for (var c = 0u; c < params.cols; c++) {
    dz[base + c] = p[base + c] * (dp[base + c] - dot);
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
    s.z += p[base + c] * dp[base + c];
  }
  let dot = workgroup_stats(s, lid).z;
  for (var c = lid; c < params.cols; c += WG) {
    dz[base + c] = p[base + c] * (dp[base + c] - dot);
  }
}
