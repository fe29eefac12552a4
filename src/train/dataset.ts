import type { Features } from './batch-ops.js';
import { checkBatchKeys } from './resolve-options.js';
import { ShapeError, ValueError } from '../errors.js';
import { internals } from '../internal.js';
import { Tensor } from '../tensor.js';
import { describe, type Model } from './model.js';
import type { Batch, Dataset } from './options.js';

/** Class ids equal to this count for nothing, as in `crossEntropy`'s default. */
const IGNORE_INDEX = -100;

type BatchIterator = Iterator<Batch> | AsyncIterator<Batch>;

/**
 * A new iterator over `dataset` for one epoch (null with `check`, which only proves that one
 * can be had without starting a function's work).
 */
export function openBatches(where: string, dataset: Dataset, epoch: number, check: boolean): BatchIterator | null {
  const bad = (what: unknown) =>
    new ValueError(
      `${where}: the dataset must be an array, an iterable or async iterable of { x, y } batches, or a function returning one; ` +
        `got ${describe(what)}${epoch > 0 ? ` in epoch ${epoch}` : ''}`,
    );
  if (typeof dataset === 'function') {
    if (check) return null;
    const source: unknown = dataset();
    if (!isSource(source)) throw bad(source);
    return iteratorOf(source);
  }
  if (!isSource(dataset)) throw bad(dataset);
  return check ? null : iteratorOf(dataset);
}

function isSource(value: unknown): value is Iterable<Batch> | AsyncIterable<Batch> {
  if (typeof value !== 'object' || value === null) return false;
  return typeof (value as Partial<AsyncIterable<Batch>>)[Symbol.asyncIterator] === 'function' ||
    typeof (value as Partial<Iterable<Batch>>)[Symbol.iterator] === 'function';
}

function iteratorOf(source: Iterable<Batch> | AsyncIterable<Batch>): BatchIterator {
  const async = (source as Partial<AsyncIterable<Batch>>)[Symbol.asyncIterator];
  return typeof async === 'function' ? async.call(source) : (source as Iterable<Batch>)[Symbol.iterator]();
}

/**
 * Walks one epoch of `dataset`: each batch checked and made into tensors (uploads where it
 * holds arrays), handed to `visit`, then released; the first `skip` batches (done before a
 * checkpoint) are only pulled from the iterator. Closes the iterator however the walk ends.
 */
export async function walk(
  model: Model,
  where: string,
  dataset: Dataset,
  epoch: number,
  signal: AbortSignal | undefined,
  visit: (x: Features, y: Tensor, batch: number) => Promise<void>,
  skip = 0,
): Promise<void> {
  const iterator = openBatches(where, dataset, epoch, false)!;
  let finished = false;
  try {
    for (let batch = 0; ; batch++) {
      signal?.throwIfAborted();
      const next = await iterator.next();
      if (next.done === true) {
        finished = true;
        if (batch === 0) {
          const hint = epoch > 0 ? ' (a generator object runs once: pass the generator function, which is called each epoch)' : '';
          throw new ValueError(`${where}: the dataset yielded no batches in epoch ${epoch}${hint}`);
        }
        return;
      }
      signal?.throwIfAborted();
      if (batch < skip) continue;
      const { x, y, owned } = batchTensors(model, `${where}: batch ${batch} of epoch ${epoch}`, next.value);
      try {
        await visit(x, y, batch);
      } finally {
        for (const t of owned) t.dispose();
      }
    }
  } finally {
    if (!finished) await iterator.return?.();
  }
}

/** Checks one batch and makes tensors of its arrays; `owned` are the ones made here. */
function batchTensors(model: Model, where: string, batch: unknown): { x: Features; y: Tensor; owned: Tensor[] } {
  if (typeof batch !== 'object' || batch === null || !('x' in batch) || !('y' in batch)) {
    throw new ValueError(`${where}: expected { x, y }, got ${describe(batch)}`);
  }
  checkBatchKeys(where, batch);
  const { x, y } = batch as Batch;
  const { features, classes, ctx } = model;
  let rows: number;
  if (x instanceof Float32Array) {
    rows = x.length / features;
    if (!Number.isInteger(rows) || rows === 0) {
      throw new ShapeError(`${where}: x holds ${x.length} values, not a positive multiple of the model's ${features} features`);
    }
  } else if (x instanceof Tensor) {
    rows = model.checkFeatures(where, x);
  } else {
    throw new ValueError(`${where}: x must be a Float32Array or a float32 or float16 tensor, got ${describe(x)}`);
  }
  if (y instanceof Int32Array || (y instanceof Tensor && y.dtype === 'int32')) {
    const labels = y instanceof Int32Array ? y : ctx[internals].labels(y);
    const length = y instanceof Int32Array ? y.length : y.shape.length === 1 ? y.shape[0] : -1;
    if (length !== rows) throw new ShapeError(`${where}: y must hold ${rows} class ids, one per row of x, got ${describe(y)}${y instanceof Int32Array ? ` of ${y.length}` : ''}`);
    if (labels !== null) {
      const bad = labels.findIndex((v) => (v < 0 || v >= classes) && v !== IGNORE_INDEX);
      if (bad >= 0) throw new ValueError(`${where}: y[${bad}] = ${labels[bad]} is outside [0, ${classes})`);
    }
  } else if (y instanceof Float32Array) {
    if (y.length !== rows * classes) {
      throw new ShapeError(`${where}: probability targets must hold ${rows} x ${classes} values, got ${y.length}`);
    }
  } else if (y instanceof Tensor) {
    if (y.shape.length !== 2 || y.shape[0] !== rows || y.shape[1] !== classes) {
      throw new ShapeError(`${where}: y must be int32 [${rows}] or float32 [${rows}, ${classes}], got ${describe(y)}`);
    }
  } else {
    throw new ValueError(`${where}: y must be an Int32Array, a Float32Array or a tensor, got ${describe(y)}`);
  }
  const owned: Tensor[] = [];
  const xt = x instanceof Tensor ? x : ctx.tensor(x, [rows, features]);
  if (!(x instanceof Tensor)) owned.push(xt);
  let yt: Tensor;
  if (y instanceof Tensor) yt = y;
  else {
    yt = y instanceof Int32Array ? ctx.tensor(y) : ctx.tensor(y, [rows, classes]);
    owned.push(yt);
  }
  return { x: xt, y: yt, owned };
}
