import type { Backend, Storage } from './backend.js';
import type { DType, TypedArrayFor } from './dtype.js';
import { checkArity, checkKnownKeys, keysOf } from './check-options.js';
import { DisposedError, DTypeError } from './errors.js';
import { fromHalves, toHalves } from './float16.js';
import { formatShape, sizeOf, type Shape } from './shape.js';

export type { DType, TypedArrayFor };

/**
 * What `tensor.read` takes.
 *
 * @example
 * const bits = await x16.read({ dtype: 'float16' }); // Uint16Array of IEEE half bits
 */
export interface ReadOptions<T extends DType = DType> {
  /**
   * The element type of the array returned: `'float16'` gives the IEEE half bits as a
   * `Uint16Array` (a float32 tensor's values rounded to nearest even), `'float32'` (the default
   * for float tensors) a `Float32Array`. An int32 tensor reads only as `'int32'`.
   */
  readonly dtype?: T;
}

const READ_KEYS = keysOf<ReadOptions>({ dtype: true });

/** What a tensor needs from the context that made it. */
export interface TensorOwner {
  /** The elements as stored: float32, int32, or for float16 the half bits. */
  read(tensor: Internals, dtype: DType): Promise<Float32Array | Int32Array | Uint16Array>;
  release(tensor: Internals): void;
}

export interface Internals {
  readonly owner: TensorOwner;
  /** The backend that holds the storage (after a device loss, no longer the context's). */
  readonly backend: Backend;
  readonly storage: Storage;
  /** A host copy of int32 data, so labels can be validated without a GPU readback. */
  readonly hostInt32: Int32Array | null;
}

let internalsOf: (t: Tensor) => Internals | null;

/**
 * An n-dimensional array that lives on its context's backend. Create one with `ctx.tensor`;
 * ops return new tensors and never change their inputs. Free it with `dispose()` (or `using`).
 *
 * @example
 * using z = ctx.tensor(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
 * const p = ctx.softmax(z);
 * console.log(await p.read()); // Float32Array(6), each row sums to 1
 * p.dispose();
 */
export class Tensor<D extends DType = DType> {
  /** The size of each dimension, outermost first; `[]` for a scalar. */
  readonly shape: Shape;
  /** `'float32'`, `'int32'`, or `'float16'` (a storage type: ops widen it to float32). */
  readonly dtype: D;
  /** The number of elements: the product of `shape`. */
  readonly size: number;
  #internals: Internals | null;

  static {
    internalsOf = (t) => t.#internals;
  }

  /** @internal Tensors are made by a context; use `ctx.tensor`. */
  constructor(shape: Shape, dtype: D, internals: Internals) {
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.size = sizeOf(shape);
    this.#internals = internals;
  }

  /** True once `dispose()` has run. */
  get disposed(): boolean {
    return this.#internals === null;
  }

  /**
   * A fresh copy of the elements, row-major: a float16 tensor reads as the float32 values it
   * holds, or as its half bits with `{ dtype: 'float16' }`. On WebGPU this submits pending work
   * and waits for it.
   *
   * @example
   * const x = ctx.tensor(new Float32Array([0.1, 70000]), [2], 'float16');
   * await x.read();                       // Float32Array [0.0999755859375, Infinity]
   * await x.read({ dtype: 'float16' });   // Uint16Array [0x2e66, 0x7c00]
   */
  read(): Promise<TypedArrayFor<D>>;
  read<T extends DType>(options: ReadOptions<T>): Promise<T extends 'float16' ? Uint16Array : T extends 'int32' ? Int32Array : Float32Array>;
  async read(options?: ReadOptions): Promise<Float32Array | Int32Array | Uint16Array> {
    checkArity('read', arguments.length, 1);
    checkKnownKeys('read', options, READ_KEYS);
    const internals = this.#alive('read');
    const want = options?.dtype ?? (this.dtype === 'int32' ? 'int32' : 'float32');
    if (want !== 'float32' && want !== 'float16' && want !== 'int32') {
      throw new DTypeError(`read: dtype must be 'float32', 'float16' or 'int32', got ${JSON.stringify(want)}`);
    }
    if ((want === 'int32') !== (this.dtype === 'int32')) {
      throw new DTypeError(`read: ${this.toString()} cannot be read as ${want}; ${this.dtype === 'int32' ? "an int32 tensor reads as 'int32'" : "a float tensor reads as 'float32' or 'float16'"}`);
    }
    const data = await internals.owner.read(internals, this.dtype);
    if (this.dtype === 'float16') return want === 'float16' ? data : fromHalves(data as Uint16Array);
    return want === 'float16' ? toHalves(data as Float32Array) : data;
  }

  /** Frees the tensor's memory. Safe to call twice; work already queued on it still completes. */
  dispose(): void {
    const internals = this.#internals;
    if (internals === null) return;
    this.#internals = null;
    internals.owner.release(internals);
  }

  /** `dispose()`, for `using t = ctx.tensor(...)`. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** `Tensor(float32, [2, 3])`: the dtype and shape, for messages. */
  toString(): string {
    return `Tensor(${this.dtype}, ${formatShape(this.shape)}${this.disposed ? ', disposed' : ''})`;
  }

  #alive(where: string): Internals {
    if (this.#internals === null) {
      throw new DisposedError(`${where}: ${this.toString()} was used after dispose()`);
    }
    return this.#internals;
  }
}

/** @internal The context's view of a tensor: its owner, storage and host copy, or null once disposed. */
export function tensorInternals(t: Tensor): Internals | null {
  return internalsOf(t);
}
