// Batched out[batch] = op(a[batch]) · op(b[batch]) + bias, for large shapes.
// A 16x16 workgroup computes a 64x64 output tile, each invocation a 4x4 block held in
// registers, so every value read from workgroup memory feeds 4 multiply-adds. K advances
// DEPTH (an override) at a time through workgroup memory. Operands arrive in chunks of 4
// elements that are adjacent in memory (load_a, load_b: vec4 loads where the shape allows,
// see load_*.wgsl); whether a chunk runs along K or along the rows depends on the transpose. Out-of-range
// elements load as 0, so edges need no special path; writes are bounds-checked.
//
// Specialisations, uniforms and bindings 2 to 4 (bias, out, params): interface.wgsl.

const TILE = 64u;
const CHUNKS = TILE / 4u;
// K per pass through workgroup memory: 16, 32 or 64 (a multiple of 16). Deeper tiles take
// more workgroup memory (2 x 64 x DEPTH floats) for fewer barriers (src/webgpu/kernels/matmul.ts).
override DEPTH: u32 = 16u;
// The workgroup's invocations (16 x 16), which stage the tiles between them.
const STAGED = 256u;

// a_tile[k * CHUNKS + i / 4][i % 4] = op(a)[row0 + i, k0 + k]
var<workgroup> a_tile: array<vec4f, DEPTH * CHUNKS>;
// b_tile[k * CHUNKS + j / 4][j % 4] = op(b)[k0 + k, col0 + j]
var<workgroup> b_tile: array<vec4f, DEPTH * CHUNKS>;

// Each of the 256 invocations stages DEPTH / 16 chunks of each operand.
fn stage_a(base: u32, row0: u32, k0: u32, li: u32) {
  for (var c = li; c < DEPTH * CHUNKS; c += STAGED) {
    stage_a_chunk(base, row0, k0, c);
  }
}

fn stage_a_chunk(base: u32, row0: u32, k0: u32, li: u32) {
  if (TRANSPOSE_A) {
    // Stored [K, M]: a chunk is 4 adjacent rows of op(a) at one k.
    let k = li / CHUNKS;
    let i = (li % CHUNKS) * 4u;
    var v = vec4f(0.0);
    if (k0 + k < params.k && row0 + i < params.m) {
      v = load_a(base + (k0 + k) * params.m + row0 + i, min(4u, params.m - row0 - i));
    }
    a_tile[k * CHUNKS + i / 4u] = v;
  } else {
    // Stored [M, K]: a chunk is 4 adjacent k of one row.
    let i = li / (DEPTH / 4u);
    let k = (li % (DEPTH / 4u)) * 4u;
    var v = vec4f(0.0);
    if (row0 + i < params.m && k0 + k < params.k) {
      v = load_a(base + (row0 + i) * params.k + k0 + k, min(4u, params.k - k0 - k));
    }
    for (var e = 0u; e < 4u; e++) {
      a_tile[(k + e) * CHUNKS + i / 4u][i % 4u] = v[e];
    }
  }
}

fn stage_b(base: u32, col0: u32, k0: u32, li: u32) {
  for (var c = li; c < DEPTH * CHUNKS; c += STAGED) {
    stage_b_chunk(base, col0, k0, c);
  }
}

fn stage_b_chunk(base: u32, col0: u32, k0: u32, li: u32) {
  if (TRANSPOSE_B) {
    // Stored [N, K]: a chunk is 4 adjacent k of one column of op(b).
    let j = li / (DEPTH / 4u);
    let k = (li % (DEPTH / 4u)) * 4u;
    var v = vec4f(0.0);
    if (col0 + j < params.n && k0 + k < params.k) {
      v = load_b(base + (col0 + j) * params.k + k0 + k, min(4u, params.k - k0 - k));
    }
    for (var e = 0u; e < 4u; e++) {
      b_tile[(k + e) * CHUNKS + j / 4u][j % 4u] = v[e];
    }
  } else {
    // Stored [K, N]: a chunk is 4 adjacent columns at one k.
    let k = li / CHUNKS;
    let j = (li % CHUNKS) * 4u;
    var v = vec4f(0.0);
    if (k0 + k < params.k && col0 + j < params.n) {
      v = load_b(base + (k0 + k) * params.n + col0 + j, min(4u, params.n - col0 - j));
    }
    b_tile[k * CHUNKS + j / 4u] = v;
  }
}

@compute @workgroup_size(16, 16)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(local_invocation_id) lid: vec3u,
  @builtin(local_invocation_index) li: u32,
) {
  let batch = wid.z;
  let row0 = wid.y * TILE;
  let col0 = wid.x * TILE;
  let a_base = batch * params.a_batch_stride;
  let b_base = batch * params.b_batch_stride;
  var acc: array<vec4f, 4>;
  for (var k0 = 0u; k0 < params.k; k0 += DEPTH) {
    stage_a(a_base, row0, k0, li);
    stage_b(b_base, col0, k0, li);
    workgroupBarrier();
    for (var k = 0u; k < DEPTH; k++) {
      let a = a_tile[k * CHUNKS + lid.y];
      let b = b_tile[k * CHUNKS + lid.x];
      acc[0] += a.x * b;
      acc[1] += a.y * b;
      acc[2] += a.z * b;
      acc[3] += a.w * b;
    }
    workgroupBarrier();
  }
  let out_base = batch * params.m * params.n;
  for (var i = 0u; i < 4u; i++) {
    let row = row0 + lid.y * 4u + i;
    for (var j = 0u; j < 4u; j++) {
      let col = col0 + lid.x * 4u + j;
      if (row < params.m && col < params.n) {
        var v = acc[i][j];
        if (HAS_BIAS) {
          v += bias[col];
        }
        store(out_base + row * params.n + col, v);
      }
    }
  }
}
