import type { Backend, Storage } from '../backend.js';
import { DTypeError } from '../errors.js';
import type { Tensor } from '../tensor.js';

/** Where float16 may stand, named in every refusal so the user knows what does take it. */
export const FLOAT16_TAKERS =
  'float16 is a storage type for inputs, taken by matmul, softmax, logSoftmax, crossEntropy(WithGrad) (logits), linearCrossEntropy(WithGrad) (x, weight), and fit, fitDataset, evaluate, predict and trainStep (x)';

/** Refuses a float16 tensor where an op computes only on float32: `where: name must be float32, got …; float16 is …`. */
export function refuseFloat16(where: string, name: string, t: Tensor): never {
  throw new DTypeError(`${where}: ${name} must be float32, got ${t}; ${FLOAT16_TAKERS}`);
}

/**
 * The float32 storage an op computes on: a float32 tensor's own, or for a float16 one a copy
 * widened exactly (the backends' gather kernels: WGSL unpack2x16float, the Wasm SIMD widen,
 * the reference's table), pushed on `temps` for the caller to release once the op is recorded.
 */
export function widened(backend: Backend, t: Tensor, storage: Storage, temps: Storage[]): Storage {
  if (t.dtype !== 'float16') return storage;
  const copy = backend.gatherRows(storage, null, { rows: 1, cols: t.size, start: 0, widen: true });
  temps.push(copy);
  return copy;
}
