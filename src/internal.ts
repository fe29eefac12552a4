import type { Backend, Storage } from './backend.js';
import type { Shape } from './shape.js';
import type { DType, Tensor } from './tensor.js';

/**
 * The key to a context's internals, for the training code (src/train/), which updates
 * parameters in place and so needs more than the public, functional ops. Not exported
 * from the package.
 */
export const internals: unique symbol = Symbol('webgpu-softmax context internals');

export interface ContextInternals {
  /** The backend doing the work now. */
  backend(): Backend;
  /** The storage of one of this context's live tensors, checked as an op would check it. */
  storage(t: Tensor, where: string, name: string): Storage;
  /** The host copy of an int32 tensor's values made with `ctx.tensor`, to validate labels; else null. */
  labels(t: Tensor): Int32Array | null;
  /** A new tensor of this context around a storage the backend just made. */
  adopt<D extends DType>(storage: Storage, shape: Shape, dtype: D): Tensor<D>;
}
