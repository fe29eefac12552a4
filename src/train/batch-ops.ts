import { internals, type TrainingContext } from '../internal.js';
import type { Tensor } from '../tensor.js';

type F32 = Tensor<'float32'>;

/** Features as the training API takes them: float32, or float16 widened batch by batch. */
export type Features = Tensor<'float32'> | Tensor<'float16'>;

/** Logits evaluated at once, at most (16 MiB): `evaluate` and `predict` work through larger sets in chunks. */
export const EVALUATE_CHUNK_ELEMENTS = 2 ** 22;

/** The dtype of a gathered batch: float16 rows come out widened to float32. */
type Gathered<D extends Tensor['dtype']> = D extends 'float16' ? 'float32' : D;

/**
 * `count` rows of `t` from `start`, in `order` when given (a device-side gather). Rows of a
 * float16 `t` are widened to float32 by the same gather: training on float16 `x` holds it at
 * half the bytes, and only each batch at float32.
 */
export function gatherRows<D extends Tensor['dtype']>(ctx: TrainingContext, t: Tensor<D>, order: Tensor<'int32'> | null, start: number, count: number): Tensor<Gathered<D>> {
  const access = ctx[internals];
  const cols = t.shape.length === 2 ? t.shape[1]! : 1;
  const widen = t.dtype === 'float16';
  const storage = access
    .backend()
    .gatherRows(access.storage(t, 'gatherRows', 't'), order === null ? null : access.storage(order, 'gatherRows', 'order'), {
      rows: count,
      cols,
      start,
      widen,
    });
  return access.adopt(storage, [count, ...t.shape.slice(1)], (widen ? 'float32' : t.dtype) as Gathered<D>);
}

/** `x` as float32: itself, or a float16 `x` widened whole (the caller disposes the copy when it is not `x`). */
export function asFloat32(ctx: TrainingContext, x: Features): Tensor<'float32'> {
  return x.dtype === 'float32' ? (x as Tensor<'float32'>) : gatherRows(ctx, x as Tensor<'float16'>, null, 0, x.shape[0]!);
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
