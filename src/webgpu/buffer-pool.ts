interface Waiting {
  readonly buffer: GPUBuffer;
  readonly batch: number;
}

/**
 * Reuses GPU buffers by size bucket (quarter steps between powers of two, so at most 25% is
 * wasted) and usage. A buffer freed while queued commands may still use it waits until the
 * batch it was freed in has been submitted; after that the queue's order makes reuse safe.
 * Free buffers beyond `capacity` bytes are destroyed.
 */
export class BufferPool {
  readonly #device: GPUDevice;
  readonly #maxBufferSize: number;
  readonly #capacity: number;
  readonly #free = new Map<string, GPUBuffer[]>();
  #waiting: Waiting[] = [];
  #freeBytes = 0;

  constructor(device: GPUDevice, capacity: number) {
    this.#device = device;
    this.#maxBufferSize = device.limits.maxBufferSize;
    this.#capacity = capacity;
  }

  /** Bytes of free buffers held for reuse. */
  get pooledBytes(): number {
    return this.#freeBytes;
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
    return this.#device.createBuffer({ label, size, usage });
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
    for (const list of this.#free.values()) for (const b of list) b.destroy();
    for (const w of this.#waiting) w.buffer.destroy();
    this.#free.clear();
    this.#waiting = [];
    this.#freeBytes = 0;
  }

  #keep(buffer: GPUBuffer): void {
    if (this.#freeBytes + buffer.size > this.#capacity) {
      buffer.destroy();
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
