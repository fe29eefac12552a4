import { checkPredictKeys } from './resolve-options.js';
import { ValueError } from '../errors.js';
import { internals } from '../internal.js';
import type { Tensor } from '../tensor.js';
import { asFloat32, EVALUATE_CHUNK_ELEMENTS, gatherRows, type Features } from './batch-ops.js';
import type { Model } from './model.js';
import type { PredictOptions } from './options.js';

type F32 = Tensor<'float32'>;

/** The most classes `predict(x, { topK })` returns per row. */
export const MAX_TOP_K = 128;

/**
 * Class probabilities `[N, classes]` for features `[N, features]`; with `{ topK: k }`, only the
 * k most probable classes of each row, largest first (`indices` int32 and `values` float32,
 * both `[N, k]`).
 */
export function predict(model: Model, x: Features, options?: PredictOptions): F32 | { indices: Tensor<'int32'>; values: F32 } {
  model.alive('predict');
  checkPredictKeys(options);
  const rows = model.checkFeatures('predict', x);
  if (options !== undefined) return topK(model, x, rows, options);
  const x32 = asFloat32(model.ctx, x);
  const z = model.logits(x32);
  if (x32 !== x) x32.dispose();
  const p = model.ctx.softmax(z);
  z.dispose();
  return p;
}

/** Each row's k most probable classes, found on the device a chunk of rows at a time: neither the `[N, classes]` logits nor their read-back ever exist. */
function topK(model: Model, x: Features, rows: number, options: PredictOptions): { indices: Tensor<'int32'>; values: F32 } {
  const k = options?.topK;
  if (!Number.isSafeInteger(k) || k < 1 || k > Math.min(model.classes, MAX_TOP_K)) {
    throw new ValueError(`predict: topK must be an integer in [1, ${Math.min(model.classes, MAX_TOP_K)}] (classes, at most ${MAX_TOP_K}), got ${k}`);
  }
  const ctx = model.ctx;
  const access = ctx[internals];
  const indices = ctx.tensor(new Int32Array(rows * k), [rows, k]);
  const values = ctx.tensor(new Float32Array(rows * k), [rows, k]);
  const chunk = Math.max(1, Math.floor(EVALUATE_CHUNK_ELEMENTS / model.classes));
  for (let start = 0; start < rows; start += chunk) {
    const whole = start === 0 && chunk >= rows;
    const count = Math.min(chunk, rows - start);
    const xb = whole && x.dtype === 'float32' ? (x as F32) : gatherRows(ctx, x, null, start, count);
    const z = model.logits(xb);
    access.backend().topK(
      access.storage(z, 'predict', 'z'),
      access.storage(indices, 'predict', 'indices'),
      access.storage(values, 'predict', 'values'),
      { rows: count, cols: model.classes, k, firstRow: start },
    );
    z.dispose();
    if (xb !== x) xb.dispose();
  }
  return { indices, values };
}
