import { checkFitDatasetKeys } from './resolve-options.js';
import { ValueError } from '../errors.js';
import { Tensor } from '../tensor.js';
import { openBatches, walk } from './dataset.js';
import type { EarlyStopping } from './early-stopping.js';
import { evaluate, evaluateDataset } from './evaluation.js';
import type { Model } from './model.js';
import type { Batch, Dataset, FitDatasetOptions, History } from './options.js';
import { firstBadRow, nonFiniteMode, type BadRow } from './non-finite.js';
import { step } from './step.js';
import { earlyStopping, runEpochs, schedule } from './training-run.js';

type F32 = Tensor<'float32'>;

/**
 * Trains on batches that need not fit in memory at once, read from `dataset` anew each epoch
 * (see `Dataset`). Each batch is checked, uploaded while the device still trains on the one
 * before, stepped and released, so device memory holds a few batches whatever the data set's
 * size; nothing is read back per batch. A bad batch (wrong width, a label out of range, not a
 * batch at all) rejects with an error naming its index, before anything of it is queued: the
 * model stays as after the last good step.
 */
export async function fitDataset(model: Model, dataset: Dataset, options: FitDatasetOptions = {}): Promise<History> {
  checkFitDatasetKeys(options);
  model.alive('fitDataset');
  const epochs = options.epochs ?? 1;
  if (!Number.isSafeInteger(epochs) || epochs < 1) throw new ValueError(`fitDataset: epochs must be a positive integer, got ${epochs}`);
  const validation = options.validationData;
  const pair = Array.isArray(validation) && validation.length === 2 && validation[0] instanceof Tensor;
  if (pair) model.checkBatch('fitDataset (validationData)', validation[0] as F32, validation[1] as Tensor);
  else if (validation !== undefined) openBatches('fitDataset (validationData)', validation as Dataset, 0, true);
  openBatches('fitDataset', dataset, 0, true);
  const stopper = earlyStopping('fitDataset', options.earlyStopping, validation !== undefined, 'validationData');
  // A stream's length is unknown: a cosine schedule must say its totalSteps.
  const rateAt = schedule(model, 'fitDataset', options.learningRate, undefined);
  nonFiniteMode('fitDataset', options.nonFinite);
  return model.exclusive('fitDataset', () => fitBatches(model, dataset, epochs, pair, stopper, rateAt, options));
}

function fitBatches(
  model: Model,
  dataset: Dataset,
  epochs: number,
  pair: boolean,
  stopper: EarlyStopping | null,
  rateAt: (step: number) => number,
  options: FitDatasetOptions,
): Promise<History> {
  const validation = options.validationData;
  let steps = 0;
  const ctx = model.ctx;
  return runEpochs(model, {
    where: 'fitDataset',
    epochs,
    stopper,
    onEpochEnd: options.onEpochEnd,
    validate:
      validation === undefined ? null
      : pair ? () => evaluate(model, ...(validation as readonly [F32, Tensor]))
      : (epoch) => evaluateDataset(model, validation as Dataset, epoch, options.signal),
    nonFinite: nonFiniteMode('fitDataset', options.nonFinite),
    // Only an array of batches can be walked again to find the row.
    locate: Array.isArray(dataset) ? (batch) => locateInBatch(model, (dataset as readonly Batch[])[batch]) : null,
    train: (epoch, metrics, pacer, guard) =>
      walk(model, 'fitDataset', dataset, epoch, options.signal, async (x, y, batch) => {
        model.stillAlive('fitDataset');
        model.optimizer.setLearningRate(rateAt(steps++));
        step(model, x, y, metrics, guard).dispose();
        // One submit per step: the device trains on it while the next batch is made and uploaded.
        await ctx.flush();
        options.onBatchEnd?.({ epoch, batch, rows: x.shape[0]! });
        if (pacer.due) await pacer.pause();
      }),
  });
}

/** The first row of a batch (an index into it) holding NaN or Infinity, in `x` or in probability targets. */
async function locateInBatch(model: Model, batch: Batch | undefined): Promise<BadRow | null> {
  if (batch === undefined) return null;
  const host = async (t: Float32Array | Int32Array | Tensor) => (t instanceof Tensor ? t.read() : t);
  const [xs, ys] = await Promise.all([host(batch.x), host(batch.y)]);
  return firstBadRow(xs as Float32Array, model.features, ys instanceof Float32Array ? ys : null, model.classes);
}
