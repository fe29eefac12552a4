// What every matmul kernel shares with src/webgpu/kernels/matmul.ts: its specialisations,
// its uniforms, and bindings 2 to 4. Bindings 0 and 1 (a and b) are each kernel's own, as
// floats or as vec4s (load_*.wgsl); `store`, which writes each output, is store.wgsl's, or
// store_activation.wgsl's with a fused activation epilogue.

override TRANSPOSE_A: bool = false;
override TRANSPOSE_B: bool = false;
override HAS_BIAS: bool = false;
// Add into `out` instead of overwriting it: a gradient summed over chunks of rows
// (src/webgpu/kernels/linear-cross-entropy.ts) without a partial buffer per chunk.
override ACCUMULATE: bool = false;

struct Params {
  m: u32,
  k: u32,
  n: u32,
  a_batch_stride: u32,
  b_batch_stride: u32,
}

@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;
