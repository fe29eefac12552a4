import { checkFitKeys } from './resolve-options.js';
import { ValueError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { gatherRows, type Features } from './batch-ops.js';
import type { EarlyStopping } from './early-stopping.js';
import { evaluate } from './evaluation.js';
import type { Model } from './model.js';
import type { FitOptions, History } from './options.js';
import { firstBadRow, nonFiniteMode, type BadRow } from './non-finite.js';
import { step } from './step.js';
import { Checkpointer, checkpointPlan, hostStateBytes } from './checkpoint.js';
import { earlyStopping, initialEpoch, runEpochs, schedule } from './training-run.js';
import { READY_TWIN_BYTES, ready } from './ready.js';

/**
 * Trains for `epochs` passes over `x` and `y` in batches of `batchSize` (the last may be
 * smaller), reshuffled each epoch from the model's seed. Reads back once per epoch, for the
 * history and the callback, never once per batch.
 */
export async function fit(model: Model, x: Features, y: Tensor, options: FitOptions = {}): Promise<History> {
  checkFitKeys(options);
  const rows = model.checkBatch('fit', x, y);
  const epochs = options.epochs ?? 1;
  const batchSize = options.batchSize ?? 32;
  for (const [name, value] of [['epochs', epochs], ['batchSize', batchSize]] as const) {
    if (!Number.isSafeInteger(value) || value < 1) throw new ValueError(`fit: ${name} must be a positive integer, got ${value}`);
  }
  const validation = options.validationData;
  if (validation !== undefined) model.checkBatch('fit (validationData)', validation[0], validation[1]);
  const split = options.validationSplit;
  let trainRows = rows;
  if (split !== undefined) {
    if (validation !== undefined) throw new ValueError('fit: give validationData or validationSplit, not both');
    if (typeof split !== 'number' || !(split > 0 && split < 1)) throw new ValueError(`fit: validationSplit must be a fraction in (0, 1), got ${String(split)}`);
    trainRows = Math.floor(rows * (1 - split));
    if (trainRows < 1 || trainRows === rows) {
      throw new ValueError(`fit: validationSplit ${split} of ${rows} rows leaves ${trainRows} to train on and ${rows - trainRows} to validate on; each needs at least one`);
    }
  }
  const stopper = earlyStopping('fit', options.earlyStopping, validation !== undefined || split !== undefined, 'validationData or validationSplit');
  const batches = Math.ceil(trainRows / batchSize);
  const rateAt = schedule(model, 'fit', options.learningRate, epochs * batches);
  nonFiniteMode('fit', options.nonFinite);
  const start = initialEpoch(model, 'fit', options.initialEpoch, epochs);
  const skip = start.resume ? model.progress.batch : 0;
  if (skip >= batches && start.initialEpoch < epochs) {
    throw new ValueError(
      `fit: the model stands at batch ${skip} of epoch ${start.initialEpoch}, but this run's epochs have ${batches} batches of ${batchSize}: resume with the batchSize the checkpoint was made with`,
    );
  }
  const run: Run = { epochs, batchSize, stopper, rateAt, initialEpoch: start.initialEpoch, resume: start.resume, checkpointer: new Checkpointer(model, 'fit', checkpointPlan('fit', options.checkpoint)) };
  options.signal?.throwIfAborted();
  return model.exclusive('fit', async () => {
    // Every kernel compiled at once, not one by one as the first step meets them; but ready()
    // rehearses on a twin with state of its own, which a big head would hold twice, for a stall
    // that is small beside its steps.
    if (hostStateBytes(model) <= READY_TWIN_BYTES) {
      await ready(model, Math.min(batchSize, trainRows), y.dtype === 'float32', { evaluate: validation !== undefined || split !== undefined, predict: false });
    }
    return fitSplit(model, x, y, rows, trainRows, run, options);
  });
}

/** How a `fit` runs, checked before it starts. */
interface Run {
  readonly epochs: number;
  readonly batchSize: number;
  readonly stopper: EarlyStopping | null;
  readonly rateAt: (step: number) => number;
  readonly initialEpoch: number;
  /** Whether the run continues the model's progress at `initialEpoch` (see `FitOptions.initialEpoch`). */
  readonly resume: boolean;
  readonly checkpointer: Checkpointer;
}

/** `fitRows` on the first `rows` of `allRows`, validated on the rest when `validationSplit` held some out. */
async function fitSplit(
  model: Model,
  x: Features,
  y: Tensor,
  allRows: number,
  rows: number,
  run: Run,
  options: FitOptions,
): Promise<History> {
  const ctx = model.ctx;
  // The held-out rows are the last ones, as Keras's validation_split takes them.
  const held = rows === allRows ? null : ([gatherRows(ctx, x, null, rows, allRows - rows), gatherRows(ctx, y, null, rows, allRows - rows)] as const);
  try {
    return await fitRows(model, x, y, rows, run, options.validationData ?? held ?? undefined, options);
  } finally {
    held?.[0].dispose();
    held?.[1].dispose();
  }
}

function fitRows(
  model: Model,
  x: Features,
  y: Tensor,
  rows: number,
  run: Run,
  validation: readonly [Features, Tensor] | undefined,
  options: FitOptions,
): Promise<History> {
  const ctx = model.ctx;
  const { batchSize, rateAt, checkpointer } = run;
  const batches = Math.ceil(rows / batchSize);
  // The epoch's order stays on the host too, to find the row at fault in a bad batch.
  let shuffled: Int32Array | null = null;
  return runEpochs(model, {
    where: 'fit',
    initialEpoch: run.initialEpoch,
    epochs: run.epochs,
    checkpointer,
    resume: run.resume,
    recovery: options.recovery,
    dataOnDevice: true,
    stopper: run.stopper,
    onEpochEnd: options.onEpochEnd,
    validate: validation === undefined ? null : () => evaluate(model, validation[0], validation[1]),
    nonFinite: nonFiniteMode('fit', options.nonFinite),
    locate: (batch) => locateRow(model, x, y, shuffled, batch * batchSize, Math.min(batchSize, rows - batch * batchSize)),
    train: async (epoch, metrics, pacer, resume, started, guard) => {
      const first = resume?.batch ?? 0;
      // The stream as it stood when the epoch first started, so its shuffle is drawn again.
      if (resume !== null) model.random.state = resume.random;
      model.startEpoch(epoch, first, epoch * batches + first);
      await started();
      shuffled = options.shuffle === false ? null : model.random.permutation(rows);
      const order = shuffled === null ? null : ctx.tensor(shuffled);
      try {
        for (let batch = first; batch < batches; batch++) {
          model.stillAlive('fit');
          options.signal?.throwIfAborted();
          const start = batch * batchSize;
          const count = Math.min(batchSize, rows - start);
          const xb = gatherRows(ctx, x, order, start, count);
          const yb = gatherRows(ctx, y, order, start, count);
          try {
            if (checkpointer.due) await checkpointer.beforeStep();
            model.optimizer.setLearningRate(rateAt(epoch * batches + batch));
            step(model, xb, yb, metrics, guard).dispose();
            model.stepped();
            checkpointer.stepped();
          } finally {
            xb.dispose();
            yb.dispose();
          }
          // One submit per step keeps the device busy while the next step is recorded.
          await ctx.flush();
          options.onBatchEnd?.({ epoch, batch, batches });
          if (pacer.due) await pacer.pause();
        }
      } finally {
        order?.dispose();
      }
    },
  });
}

/** The first row of `x` (an index into it) among the batch's `count` rows from `start` holding NaN or Infinity, in `x` or in probability targets. */
async function locateRow(model: Model, x: Features, y: Tensor, order: Int32Array | null, start: number, count: number): Promise<BadRow | null> {
  const ctx = model.ctx;
  const rows = order?.slice(start, start + count) ?? Int32Array.from({ length: count }, (_, r) => start + r);
  const indices = ctx.tensor(rows);
  const xb = gatherRows(ctx, x, indices, 0, count);
  const yb = y.dtype === 'float32' ? gatherRows(ctx, y as Tensor<'float32'>, indices, 0, count) : null;
  try {
    const [xs, ys] = await Promise.all([xb.read(), yb?.read() ?? null]);
    const bad = firstBadRow(xs, model.features, ys, model.classes);
    return bad === null ? null : { ...bad, row: rows[bad.row]! };
  } finally {
    indices.dispose();
    xb.dispose();
    yb?.dispose();
  }
}
