import type { Backend, Storage } from './backend.js';
import type { DType, TypedArrayFor } from './dtype.js';
import { checkArity } from './check-options.js';
import { DisposedError } from './errors.js';
import { formatShape, sizeOf, type Shape } from './shape.js';

export type { DType, TypedArrayFor };

/** What a tensor needs from the context that made it. */
export interface TensorOwner {
  read(tensor: Internals, dtype: DType): Promise<Float32Array | Int32Array>;
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
  /** `'float32'` or `'int32'`. */
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

  /** A fresh copy of the elements, row-major. On WebGPU this submits pending work and waits for it. */
  async read(): Promise<TypedArrayFor<D>> {
    checkArity('read', arguments.length, 0);
    const internals = this.#alive('read');
    const data = await internals.owner.read(internals, this.dtype);
    return data as TypedArrayFor<D>;
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
