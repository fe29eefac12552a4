import { checkFitDatasetKeys } from './resolve-options.js';
import { ValueError } from '../errors.js';
import { Tensor } from '../tensor.js';
import { asFloat32, type Features } from './batch-ops.js';
import { openBatches, walk } from './dataset.js';
import type { EarlyStopping } from './early-stopping.js';
import { evaluate, evaluateDataset } from './evaluation.js';
import type { Model } from './model.js';
import type { Batch, Dataset, FitDatasetOptions, History } from './options.js';
import { firstBadRow, nonFiniteMode, type BadRow } from './non-finite.js';
import { step } from './step.js';
import { Checkpointer, checkpointPlan } from './checkpoint.js';
import { earlyStopping, initialEpoch, runEpochs, schedule } from './training-run.js';

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
  if (pair) model.checkBatch('fitDataset (validationData)', validation[0] as Features, validation[1] as Tensor);
  else if (validation !== undefined) openBatches('fitDataset (validationData)', validation as Dataset, 0, true);
  openBatches('fitDataset', dataset, 0, true);
  const stopper = earlyStopping('fitDataset', options.earlyStopping, validation !== undefined, 'validationData');
  // A stream's length is unknown: a cosine schedule must say its totalSteps.
  const rateAt = schedule(model, 'fitDataset', options.learningRate, undefined);
  nonFiniteMode('fitDataset', options.nonFinite);
  const start = initialEpoch(model, 'fitDataset', options.initialEpoch, epochs);
  if (!start.resume && start.initialEpoch > 0 && options.learningRate !== undefined) {
    const { epoch, step } = model.progress;
    throw new ValueError(
      `fitDataset: initialEpoch ${start.initialEpoch} with a learningRate schedule needs the model to stand at that epoch, but it stands at epoch ${epoch} (step ${step}): a stream's steps per epoch are unknown, so the schedule's step there is too`,
    );
  }
  const run: Run = {
    epochs,
    initialEpoch: start.initialEpoch,
    resume: start.resume,
    checkpointer: new Checkpointer(model, 'fitDataset', checkpointPlan('fitDataset', options.checkpoint)),
  };
  return model.exclusive('fitDataset', () => fitBatches(model, dataset, run, pair, stopper, rateAt, options));
}

/** How a `fitDataset` runs, checked before it starts. */
interface Run {
  readonly epochs: number;
  readonly initialEpoch: number;
  /** Whether the run continues the model's progress at `initialEpoch` (its batch and schedule step). */
  readonly resume: boolean;
  readonly checkpointer: Checkpointer;
}

function fitBatches(
  model: Model,
  dataset: Dataset,
  run: Run,
  pair: boolean,
  stopper: EarlyStopping | null,
  rateAt: (step: number) => number,
  options: FitDatasetOptions,
): Promise<History> {
  const validation = options.validationData;
  let steps = 0;
  const ctx = model.ctx;
  const { checkpointer } = run;
  return runEpochs(model, {
    where: 'fitDataset',
    initialEpoch: run.initialEpoch,
    epochs: run.epochs,
    checkpointer,
    resume: run.resume,
    recovery: options.recovery,
    dataOnDevice: false,
    stopper,
    onEpochEnd: options.onEpochEnd,
    validate:
      validation === undefined ? null
      : pair ? () => evaluate(model, ...(validation as readonly [Features, Tensor]))
      : (epoch) => evaluateDataset(model, validation as Dataset, epoch, options.signal),
    nonFinite: nonFiniteMode('fitDataset', options.nonFinite),
    // Only an array of batches can be walked again to find the row.
    locate: Array.isArray(dataset) ? (batch) => locateInBatch(model, (dataset as readonly Batch[])[batch]) : null,
    train: async (epoch, metrics, pacer, resume, started, guard) => {
      const skip = resume?.batch ?? 0;
      if (resume !== null) steps = resume.step;
      model.startEpoch(epoch, skip, steps);
      await started();
      return walk(model, 'fitDataset', dataset, epoch, options.signal, async (x, y, batch) => {
        model.stillAlive('fitDataset');
        if (checkpointer.due) await checkpointer.beforeStep();
        model.optimizer.setLearningRate(rateAt(steps++));
        const x32 = asFloat32(ctx, x);
        try {
          step(model, x32, y, metrics, guard).dispose();
        } finally {
          if (x32 !== x) x32.dispose();
        }
        model.stepped();
        checkpointer.stepped();
        // One submit per step: the device trains on it while the next batch is made and uploaded.
        await ctx.flush();
        options.onBatchEnd?.({ epoch, batch, rows: x.shape[0]! });
        if (pacer.due) await pacer.pause();
      }, skip);
    },
  });
}

/** The first row of a batch (an index into it) holding NaN or Infinity, in `x` or in probability targets. */
async function locateInBatch(model: Model, batch: Batch | undefined): Promise<BadRow | null> {
  if (batch === undefined) return null;
  const host = async (t: Float32Array | Int32Array | Tensor) => (t instanceof Tensor ? t.read() : t);
  const [xs, ys] = await Promise.all([host(batch.x), host(batch.y)]);
  return firstBadRow(xs as Float32Array, model.features, ys instanceof Float32Array ? ys : null, model.classes);
}
