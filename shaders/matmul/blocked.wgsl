// Batched out[batch] = op(a[batch]) · op(b[batch]) + bias with no workgroup memory and no
// barriers, for software adapters (SwiftShader and the like). There, each invocation is a
// lane of a 4-wide CPU vector, a barrier switches between coroutines, and every load from a
// buffer is a bounds-checked gather, whatever the addresses: the cost is loads per
// multiply-add. So each invocation keeps an 8x8 output block in registers: per value of K it
// loads 8 values of a column of op(a) and 8 of a row of op(b) and does 64 multiply-adds.
//
// The inner loop has no branches: element (row, k) of op(a) sits at a_row[row] + k * a_step
// whatever the transpose (likewise for b), and rows or columns past the edge are clamped to
// the last one, read like any other, and never written.
//
// Specialisations, uniforms and bindings 2 to 4 (bias, out, params): interface.wgsl.

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;

/// Where row `row` of op(a) starts, for k = 0.
fn a_row(base: u32, row: u32) -> u32 {
  let r = min(row, params.m - 1u);
  if (TRANSPOSE_A) {
    return base + r;
  }
  return base + r * params.k;
}

/// Where column `col` of op(b) starts, for k = 0.
fn b_col(base: u32, col: u32) -> u32 {
  let c = min(col, params.n - 1u);
  if (TRANSPOSE_B) {
    return base + c * params.k;
  }
  return base + c;
}

// The workgroup's shape in invocations, each owning an 8x8 block (overrides: 8x8 or 16x16).
override WG_X: u32 = 8u;
override WG_Y: u32 = 8u;

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let col0 = gid.x * 8u;
  let row0 = gid.y * 8u;
  if (col0 >= params.n || row0 >= params.m) {
    return;
  }
  let batch = gid.z;
  let a_base = batch * params.a_batch_stride;
  let b_base = batch * params.b_batch_stride;
  let a_step = select(1u, params.m, TRANSPOSE_A);
  let b_step = select(params.n, 1u, TRANSPOSE_B);
  var a0 = a_row(a_base, row0);
  var a1 = a_row(a_base, row0 + 1u);
  var a2 = a_row(a_base, row0 + 2u);
  var a3 = a_row(a_base, row0 + 3u);
  var a4 = a_row(a_base, row0 + 4u);
  var a5 = a_row(a_base, row0 + 5u);
  var a6 = a_row(a_base, row0 + 6u);
  var a7 = a_row(a_base, row0 + 7u);
  var b0 = b_col(b_base, col0);
  var b1 = b_col(b_base, col0 + 1u);
  var b2 = b_col(b_base, col0 + 2u);
  var b3 = b_col(b_base, col0 + 3u);
  var b4 = b_col(b_base, col0 + 4u);
  var b5 = b_col(b_base, col0 + 5u);
  var b6 = b_col(b_base, col0 + 6u);
  var b7 = b_col(b_base, col0 + 7u);
  // Named accumulators, not an array: a private array indexed at run time lives in memory,
  // and its every access is a gather. r<i>l and r<i>h are row i, columns 0..3 and 4..7.
  var r0l = vec4f(0.0); var r0h = vec4f(0.0); var r1l = vec4f(0.0); var r1h = vec4f(0.0);
  var r2l = vec4f(0.0); var r2h = vec4f(0.0); var r3l = vec4f(0.0); var r3h = vec4f(0.0);
  var r4l = vec4f(0.0); var r4h = vec4f(0.0); var r5l = vec4f(0.0); var r5h = vec4f(0.0);
  var r6l = vec4f(0.0); var r6h = vec4f(0.0); var r7l = vec4f(0.0); var r7h = vec4f(0.0);
  for (var k = 0u; k < params.k; k++) {
    let lo = vec4f(b[b0], b[b1], b[b2], b[b3]);
    let hi = vec4f(b[b4], b[b5], b[b6], b[b7]);
    r0l += a[a0] * lo; r0h += a[a0] * hi;
    r1l += a[a1] * lo; r1h += a[a1] * hi;
    r2l += a[a2] * lo; r2h += a[a2] * hi;
    r3l += a[a3] * lo; r3h += a[a3] * hi;
    r4l += a[a4] * lo; r4h += a[a4] * hi;
    r5l += a[a5] * lo; r5h += a[a5] * hi;
    r6l += a[a6] * lo; r6h += a[a6] * hi;
    r7l += a[a7] * lo; r7h += a[a7] * hi;
    a0 += a_step; a1 += a_step; a2 += a_step; a3 += a_step;
    a4 += a_step; a5 += a_step; a6 += a_step; a7 += a_step;
    b0 += b_step; b1 += b_step; b2 += b_step; b3 += b_step;
    b4 += b_step; b5 += b_step; b6 += b_step; b7 += b_step;
  }
  let acc = array<vec4f, 16>(r0l, r0h, r1l, r1h, r2l, r2h, r3l, r3h, r4l, r4h, r5l, r5h, r6l, r6h, r7l, r7h);
  let out_base = batch * params.m * params.n;
  for (var i = 0u; i < 8u; i++) {
    let row = row0 + i;
    if (row >= params.m) {
      break;
    }
    for (var j = 0u; j < 8u; j++) {
      let col = col0 + j;
      if (col < params.n) {
        var v = acc[2u * i + j / 4u][j % 4u];
        if (HAS_BIAS) {
          v += bias[col];
        }
        store(out_base + row * params.n + col, v);
      }
    }
  }
}
