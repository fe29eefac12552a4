import type { Tensor } from '../tensor.js';
import { accumulateMetrics, EVALUATE_CHUNK_ELEMENTS, gatherRows, type Features } from './batch-ops.js';
import { walk } from './dataset.js';
import type { Model } from './model.js';
import type { Dataset, Evaluation } from './options.js';

type F32 = Tensor<'float32'>;

/**
 * Mean cross-entropy (with the model's label smoothing; class weights only weigh training)
 * and accuracy over a data set, in one read back.
 */
export async function evaluate(model: Model, x: Features, y: Tensor): Promise<Evaluation> {
  model.checkBatch('evaluate', x, y);
  const metrics = model.ctx.tensor(new Float32Array(4));
  try {
    score(model, x, y, metrics);
    const [lossSum, correct, counted] = await metrics.read();
    return { loss: lossSum! / counted!, accuracy: correct! / counted! };
  } finally {
    metrics.dispose();
  }
}

/** `evaluate` over a stream of batches, with one read back at the end. */
export async function evaluateDataset(model: Model, dataset: Dataset, epoch: number, signal: AbortSignal | undefined): Promise<Evaluation> {
  const ctx = model.ctx;
  const metrics = ctx.tensor(new Float32Array(4));
  try {
    await walk(model, 'fitDataset (validationData)', dataset, epoch, signal, async (x, y) => {
      model.stillAlive('fitDataset');
      score(model, x, y, metrics);
      await ctx.flush();
    });
    const [lossSum, correct, counted] = await metrics.read();
    return { loss: lossSum! / counted!, accuracy: correct! / counted! };
  } finally {
    metrics.dispose();
  }
}

/**
 * Adds the summed loss and the accuracy counts of `x` and `y` to `metrics`, a chunk of rows
 * at a time, so the logits held stay within EVALUATE_CHUNK_ELEMENTS whatever the rows.
 */
export function score(model: Model, x: Features, y: Tensor, metrics: F32): void {
  const ctx = model.ctx;
  const rows = x.shape[0]!;
  const chunk = Math.max(1, Math.floor(EVALUATE_CHUNK_ELEMENTS / model.classes));
  for (let start = 0; start < rows; start += chunk) {
    const whole = start === 0 && chunk >= rows;
    const count = Math.min(chunk, rows - start);
    // A float16 x is gathered even whole: the gather widens it.
    const xb = whole && x.dtype === 'float32' ? (x as F32) : gatherRows(ctx, x, null, start, count);
    const yb = whole ? y : gatherRows(ctx, y, null, start, count);
    const z = model.logits(xb);
    const loss = ctx.crossEntropy(z, yb, { reduction: 'sum', labelSmoothing: model.options.labelSmoothing });
    accumulateMetrics(ctx, z, yb, loss, metrics, 1);
    for (const t of [z, loss, xb, yb]) if (t !== x && t !== y) t.dispose();
  }
}
