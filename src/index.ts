export { createContext, type ContextOptions } from './create-context.js';
export { Context, type MemoryInfo } from './context.js';
export { Tensor, type DType, type TypedArrayFor } from './tensor.js';
export type { Shape } from './shape.js';
export type { BackendKind, Reduction } from './backend.js';
export type { CrossEntropyOptions } from './ops/cross-entropy.js';
export type { MatmulOptions } from './ops/matmul.js';
export type { SumOptions } from './ops/sum.js';
export {
  WebGPUSoftmaxError,
  ShapeError,
  DTypeError,
  ValueError,
  DisposedError,
  ContextMismatchError,
  WebGPUUnavailableError,
  LimitError,
  DeviceLostError,
  ShaderCompileError,
} from './errors.js';
