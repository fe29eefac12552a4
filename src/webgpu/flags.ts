// The WebGPU flag values, fixed by the specification. Used instead of the GPUBufferUsage,
// GPUMapMode and GPUShaderStage globals, which Node's `webgpu` package defines only if the
// app copies them onto globalThis.

export const BufferUsage = {
  MAP_READ: 0x0001,
  MAP_WRITE: 0x0002,
  COPY_SRC: 0x0004,
  COPY_DST: 0x0008,
  INDEX: 0x0010,
  VERTEX: 0x0020,
  UNIFORM: 0x0040,
  STORAGE: 0x0080,
  INDIRECT: 0x0100,
  QUERY_RESOLVE: 0x0200,
} as const;

export const MAP_READ = 0x0001;

export const COMPUTE_STAGE = 0x4;
