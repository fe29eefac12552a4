// Column sums of a row-major [rows, cols] matrix, one invocation per column: no workgroup
// memory, no barriers. The variant that runs where a driver refuses sum_rows.wgsl's tree.

override WG: u32 = 64u;
override ACCUMULATE: bool = false;

struct Params {
  rows: u32,
  cols: u32,
}

@group(0) @binding(0) var<storage, read> t: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let col = gid.x + gid.y * groups.x * WG;
  if (col >= params.cols) {
    return;
  }
  var sum = 0.0;
  for (var r = 0u; r < params.rows; r++) {
    sum += t[r * params.cols + col];
  }
  if (ACCUMULATE) {
    out[col] += sum;
  } else {
    out[col] = sum;
  }
}
