import type { Storage } from '../backend.js';

/**
 * A tensor's GPU buffer. The library's own buffers come from the pool and may be larger than
 * the tensor (buckets); an app's buffer (`ctx.tensorFromGPUBuffer`) is borrowed, holds the
 * tensor from `offset` on, and is never released to the pool or destroyed.
 */
export class GpuStorage implements Storage {
  constructor(
    readonly buffer: GPUBuffer,
    readonly elements: number,
    readonly offset = 0,
    readonly borrowed = false,
  ) {}

  /** Bytes the library holds for it: the whole pool buffer; none for a borrowed one, which is the app's. */
  get byteLength(): number {
    return this.borrowed ? 0 : this.buffer.size;
  }

  /** How kernels bind it: a borrowed buffer only from its offset, over the tensor's bytes. */
  get binding(): GPUBufferBinding {
    return this.borrowed ? { buffer: this.buffer, offset: this.offset, size: this.elements * 4 } : { buffer: this.buffer };
  }
}
