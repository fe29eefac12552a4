// Column sums of a row-major [rows, cols] matrix (and, with cols = 1, the sum of everything).
// A workgroup owns COLS adjacent columns, so neighbouring invocations read neighbouring
// addresses, and WG / COLS slices of the rows; the slices' partial sums meet in a tree.
// Each invocation sums with Kahan's compensation, so long columns keep float32 accuracy.

override WG: u32 = 256u;
override COLS: u32 = 64u;
// Add the sums into `out` instead of overwriting it (a bias gradient summed over chunks of rows).
override ACCUMULATE: bool = false;

struct Params {
  rows: u32,
  cols: u32,
}

@group(0) @binding(0) var<storage, read> t: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

var<workgroup> partial: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let slices = WG / COLS;
  let col = (wid.x + wid.y * groups.x) * COLS + lid % COLS;
  let slice = lid / COLS;
  var sum = 0.0;
  if (col < params.cols) {
    for (var r = slice; r < params.rows; r += slices) {
      sum += t[r * params.cols + col];
    }
  }
  partial[lid] = sum;
  workgroupBarrier();
  for (var stride = slices / 2u; stride > 0u; stride = stride / 2u) {
    if (slice < stride) {
      partial[lid] += partial[lid + stride * COLS];
    }
    workgroupBarrier();
  }
  if (slice == 0u && col < params.cols) {
    if (ACCUMULATE) {
      out[col] += partial[lid];
    } else {
      out[col] = partial[lid];
    }
  }
}
