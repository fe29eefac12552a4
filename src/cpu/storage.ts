import type { Storage } from '../backend.js';

/** The CPU backend keeps a tensor's elements in a typed array it owns. */
export class CpuStorage implements Storage {
  /** float32, int32, or float16 as half bits. */
  constructor(readonly data: Float32Array | Int32Array | Uint16Array) {}

  get byteLength(): number {
    return this.data.byteLength;
  }
}

/** The elements of a storage this backend made: float32, int32 or half bits. */
export function elements(storage: Storage): Float32Array | Int32Array | Uint16Array {
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

/** The half bits of a float16 storage this backend made. */
export function halves(storage: Storage): Uint16Array {
  if (storage instanceof CpuStorage && storage.data instanceof Uint16Array) return storage.data;
  throw new TypeError('cpu backend: expected float16 storage made by the CPU backend');
}
