import { internals, type TrainingContext } from '../internal.js';
import type { Tensor } from '../tensor.js';

type F32 = Tensor<'float32'>;

/** Logits evaluated at once, at most (16 MiB): `evaluate` and `predict` work through larger sets in chunks. */
export const EVALUATE_CHUNK_ELEMENTS = 2 ** 22;

/** `count` rows of `t` from `start`, in `order` when given (a device-side gather). */
export function gatherRows<D extends Tensor['dtype']>(ctx: TrainingContext, t: Tensor<D>, order: Tensor<'int32'> | null, start: number, count: number): Tensor<D> {
  const access = ctx[internals];
  const cols = t.shape.length === 2 ? t.shape[1]! : 1;
  const storage = access
    .backend()
    .gatherRows(access.storage(t, 'gatherRows', 't'), order === null ? null : access.storage(order, 'gatherRows', 'order'), {
      rows: count,
      cols,
      start,
    });
  return access.adopt(storage, [count, ...t.shape.slice(1)], t.dtype);
}

/**
 * Adds a batch's loss (times `lossScale`) and its accuracy counts to `metrics`, on the device:
 * the figures `fit` and `evaluate` read back once, at the end.
 */
export function accumulateMetrics(ctx: TrainingContext, z: F32, y: Tensor, loss: F32, metrics: F32, lossScale: number): void {
  const access = ctx[internals];
  access.backend().accumulateMetrics(
    access.storage(z, 'metrics', 'z'),
    access.storage(y, 'metrics', 'y'),
    access.storage(loss, 'metrics', 'loss'),
    access.storage(metrics, 'metrics', 'metrics'),
    {
      rows: z.shape[0]!,
      classes: z.shape[1]!,
      target: y.dtype === 'int32' ? 'index' : 'probs',
      ignoreIndex: -100,
      lossScale,
    },
  );
}
