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
    /** 2 for float16, packed two halves to a 32-bit word (the last word's high half unused for an odd count); else 4. */
    readonly elementBytes: 2 | 4 = 4,
  ) {}

  /** The bytes the elements span, rounded up to whole 32-bit words, as bindings and copies need. */
  get dataBytes(): number {
    return Math.ceil((this.elements * this.elementBytes) / 4) * 4;
  }

  /** Bytes the library holds for it: the whole pool buffer; none for a borrowed one, which is the app's. */
  get byteLength(): number {
    return this.borrowed ? 0 : this.buffer.size;
  }

  /** How kernels bind it: a borrowed buffer only from its offset, over the tensor's bytes. */
  get binding(): GPUBufferBinding {
    return this.borrowed ? { buffer: this.buffer, offset: this.offset, size: this.dataBytes } : { buffer: this.buffer };
  }
}
