// Batched out[batch] = op(a[batch]) · op(b[batch]) + bias for outputs of at most 16 columns:
// a classifier's logits [batch, classes] and its weight gradient xᵀ dz [features, classes].
// A 64x64 tile would leave most of its columns idle; here a workgroup of ROWS x SLICES
// invocations owns ROWS output rows and all NC columns. Each invocation runs over a 1/SLICES
// share of K with NC running sums in registers, and the shares meet in workgroup memory.
// Invocations are laid out so that neighbours read neighbouring addresses of a: along K when
// a is stored [M, K], along the rows when it is stored transposed.
//
// Specialisations, uniforms and bindings 2 to 4 (bias, out, params): interface.wgsl.

override NC: u32 = 16u;

const MAX_COLS = 16u;
// Output rows per workgroup and the slices of K each row is split into (overrides, so the
// tuner can trade K-parallelism for rows per workgroup: src/webgpu/kernels/matmul.ts).
override ROWS: u32 = 16u;
override SLICES: u32 = 8u;

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;

// shares[(row * NC + j) * SLICES + slice]
var<workgroup> shares: array<f32, ROWS * SLICES * NC>;

fn a_at(base: u32, i: u32, k: u32) -> f32 {
  if (TRANSPOSE_A) {
    return a[base + k * params.m + i];
  }
  return a[base + i * params.k + k];
}

fn b_at(base: u32, k: u32, j: u32) -> f32 {
  if (TRANSPOSE_B) {
    return b[base + j * params.k + k];
  }
  return b[base + k * params.n + j];
}

@compute @workgroup_size(ROWS * SLICES)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
  @builtin(local_invocation_index) li: u32,
) {
  let batch = wid.z;
  let block = wid.x + wid.y * groups.x;
  var local_row = li / SLICES;
  var slice = li % SLICES;
  if (TRANSPOSE_A) {
    local_row = li % ROWS;
    slice = li / ROWS;
  }
  let row = block * ROWS + local_row;
  let a_base = batch * params.a_batch_stride;
  let b_base = batch * params.b_batch_stride;
  var acc: array<f32, MAX_COLS>;
  if (row < params.m) {
    for (var k = slice; k < params.k; k += SLICES) {
      let av = a_at(a_base, row, k);
      for (var j = 0u; j < NC; j++) {
        acc[j] += av * b_at(b_base, k, j);
      }
    }
  }
  for (var j = 0u; j < NC; j++) {
    shares[(local_row * NC + j) * SLICES + slice] = acc[j];
  }
  workgroupBarrier();
  if (row < params.m) {
    // Invocation (row, slice) finishes columns slice, slice + SLICES, ...
    for (var j = slice; j < NC; j += SLICES) {
      var v = 0.0;
      for (var s = 0u; s < SLICES; s++) {
        v += shares[(local_row * NC + j) * SLICES + s];
      }
      if (HAS_BIAS) {
        v += bias[j];
      }
      store(batch * params.m * params.n + row * params.n + j, v);
    }
  }
}
