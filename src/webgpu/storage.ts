import type { Storage } from '../backend.js';

/** A tensor's GPU buffer; the buffer may be larger than the tensor (pool buckets). */
export class GpuStorage implements Storage {
  constructor(
    readonly buffer: GPUBuffer,
    readonly elements: number,
  ) {}

  get byteLength(): number {
    return this.buffer.size;
  }
}
