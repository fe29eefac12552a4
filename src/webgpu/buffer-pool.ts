interface Waiting {
  readonly buffer: GPUBuffer;
  readonly batch: number;
}

/**
 * Reuses GPU buffers by size bucket (quarter steps between powers of two, so at most 25% is
 * wasted) and usage. A buffer freed while queued commands may still use it waits until the
 * batch it was freed in has been submitted; after that the queue's order makes reuse safe.
 * Free buffers beyond `capacity` bytes are destroyed.
 *
 * Every buffer the backend makes (tensors, scratch, uniforms, read staging, timestamps) is
 * created and destroyed here, so `heldBytes` is all the device memory the backend holds and
 * `peakBytes` its high-water mark.
 */
export class BufferPool {
  readonly #device: GPUDevice;
  readonly #maxBufferSize: number;
  readonly #capacity: number;
  readonly #free = new Map<string, GPUBuffer[]>();
  #waiting: Waiting[] = [];
  #freeBytes = 0;
  #heldBytes = 0;
  #peakBytes = 0;

  constructor(device: GPUDevice, capacity: number) {
    this.#device = device;
    this.#maxBufferSize = device.limits.maxBufferSize;
    this.#capacity = capacity;
  }

  /** Bytes of free buffers held for reuse. */
  get pooledBytes(): number {
    return this.#freeBytes;
  }

  /** Bytes of every buffer made through the pool and not yet destroyed. */
  get heldBytes(): number {
    return this.#heldBytes;
  }

  /** The most `heldBytes` has been since the pool was made or `resetPeak` was called. */
  get peakBytes(): number {
    return this.#peakBytes;
  }

  resetPeak(): void {
    this.#peakBytes = this.#heldBytes;
  }

  /** A buffer outside the pool's buckets (staging, timestamps), counted until `destroyBuffer`. */
  create(descriptor: GPUBufferDescriptor): GPUBuffer {
    const buffer = this.#device.createBuffer(descriptor);
    this.#heldBytes += buffer.size;
    this.#peakBytes = Math.max(this.#peakBytes, this.#heldBytes);
    return buffer;
  }

  destroyBuffer(buffer: GPUBuffer): void {
    this.#heldBytes -= buffer.size;
    buffer.destroy();
  }

  acquire(bytes: number, usage: GPUBufferUsageFlags, label: string): GPUBuffer {
    const size = this.#bucket(bytes);
    const list = this.#free.get(`${usage}:${size}`);
    const reused = list?.pop();
    if (reused !== undefined) {
      this.#freeBytes -= size;
      reused.label = label;
      return reused;
    }
    return this.create({ label, size, usage });
  }

  /** Frees `buffer` for reuse once batch `batch` is submitted (null: right away). */
  release(buffer: GPUBuffer, batch: number | null): void {
    if (batch === null) this.#keep(buffer);
    else this.#waiting.push({ buffer, batch });
  }

  /** Batch `batch` was submitted: what was freed up to it may be reused. */
  submitted(batch: number): void {
    const still: Waiting[] = [];
    for (const w of this.#waiting) {
      if (w.batch <= batch) this.#keep(w.buffer);
      else still.push(w);
    }
    this.#waiting = still;
  }

  destroy(): void {
    for (const list of this.#free.values()) for (const b of list) this.destroyBuffer(b);
    for (const w of this.#waiting) this.destroyBuffer(w.buffer);
    this.#free.clear();
    this.#waiting = [];
    this.#freeBytes = 0;
  }

  #keep(buffer: GPUBuffer): void {
    if (this.#freeBytes + buffer.size > this.#capacity) {
      this.destroyBuffer(buffer);
      return;
    }
    const key = `${buffer.usage}:${buffer.size}`;
    const list = this.#free.get(key);
    if (list === undefined) this.#free.set(key, [buffer]);
    else list.push(buffer);
    this.#freeBytes += buffer.size;
  }

  #bucket(bytes: number): number {
    if (bytes <= 256) return Math.max(16, Math.ceil(bytes / 16) * 16);
    const step = 2 ** Math.floor(Math.log2(bytes - 1)) / 4;
    const size = Math.ceil(bytes / step) * step;
    return size <= this.#maxBufferSize ? size : Math.ceil(bytes / 16) * 16;
  }
}
