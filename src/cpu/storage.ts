import type { Storage } from '../backend.js';

/** The CPU backend keeps a tensor's elements in a typed array it owns. */
export class CpuStorage implements Storage {
  constructor(readonly data: Float32Array | Int32Array) {}

  get byteLength(): number {
    return this.data.byteLength;
  }
}

/** The elements of a storage this backend made, float32 or int32. */
export function elements(storage: Storage): Float32Array | Int32Array {
  if (storage instanceof CpuStorage) return storage.data;
  throw new TypeError('cpu backend: expected a storage made by the CPU backend');
}

/** The float32 elements of a storage this backend made. */
export function floats(storage: Storage): Float32Array {
  if (storage instanceof CpuStorage && storage.data instanceof Float32Array) return storage.data;
  throw new TypeError('cpu backend: expected float32 storage made by the CPU backend');
}

/** The int32 elements of a storage this backend made. */
export function ints(storage: Storage): Int32Array {
  if (storage instanceof CpuStorage && storage.data instanceof Int32Array) return storage.data;
  throw new TypeError('cpu backend: expected int32 storage made by the CPU backend');
}
