import type { Backend, Storage } from './backend.js';
import type { CrossEntropyOptions } from './ops/cross-entropy.js';
import type { MatmulOptions } from './ops/matmul.js';
import type { SumOptions } from './ops/sum.js';
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

type F32 = Tensor<'float32'>;

/**
 * What the training code needs of a context: the ops it composes, and its internals. The
 * models take this, not `Context`, so src/train/ never imports context.ts (which makes the
 * models). `Context` has it structurally, checked where it hands itself to a model; an
 * `implements` clause would outlive `stripInternal` in the published types and break them.
 */
export interface TrainingContext {
  readonly [internals]: ContextInternals;
  tensor(data: Float32Array, shape?: Shape): F32;
  tensor(data: Int32Array, shape?: Shape): Tensor<'int32'>;
  tensor(data: Float32Array | Int32Array, shape?: Shape): Tensor;
  matmul(a: F32, b: F32, options?: MatmulOptions<F32>): F32;
  softmax(z: F32): F32;
  crossEntropy(z: F32, target: Tensor, options?: CrossEntropyOptions<F32>): F32;
  crossEntropyWithGrad(z: F32, target: Tensor, options?: CrossEntropyOptions<F32>): { loss: F32; grad: F32 };
  sum(t: F32, options?: SumOptions): F32;
  flush(): Promise<void>;
}
