import { checkFitKeys } from './resolve-options.js';
import { ValueError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { gatherRows } from './batch-ops.js';
import type { EarlyStopping } from './early-stopping.js';
import { evaluate } from './evaluation.js';
import type { Model } from './model.js';
import type { FitOptions, History } from './options.js';
import { step } from './step.js';
import { earlyStopping, runEpochs, schedule } from './training-run.js';
import { ready } from './ready.js';

type F32 = Tensor<'float32'>;

/**
 * Trains for `epochs` passes over `x` and `y` in batches of `batchSize` (the last may be
 * smaller), reshuffled each epoch from the model's seed. Reads back once per epoch, for the
 * history and the callback, never once per batch.
 */
export async function fit(model: Model, x: F32, y: Tensor, options: FitOptions = {}): Promise<History> {
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
  const rateAt = schedule(model, 'fit', options.learningRate, epochs * Math.ceil(trainRows / batchSize));
  options.signal?.throwIfAborted();
  return model.exclusive('fit', async () => {
    // Every kernel compiled at once, not one by one as the first step meets them.
    await ready(model, Math.min(batchSize, trainRows), y.dtype === 'float32');
    return fitSplit(model, x, y, rows, trainRows, epochs, batchSize, stopper, rateAt, options);
  });
}

/** `fitRows` on the first `rows` of `allRows`, validated on the rest when `validationSplit` held some out. */
async function fitSplit(
  model: Model,
  x: F32,
  y: Tensor,
  allRows: number,
  rows: number,
  epochs: number,
  batchSize: number,
  stopper: EarlyStopping | null,
  rateAt: (step: number) => number,
  options: FitOptions,
): Promise<History> {
  const ctx = model.ctx;
  // The held-out rows are the last ones, as Keras's validation_split takes them.
  const held = rows === allRows ? null : ([gatherRows(ctx, x, null, rows, allRows - rows), gatherRows(ctx, y, null, rows, allRows - rows)] as const);
  try {
    return await fitRows(model, x, y, rows, epochs, batchSize, stopper, rateAt, options.validationData ?? held ?? undefined, options);
  } finally {
    held?.[0].dispose();
    held?.[1].dispose();
  }
}

function fitRows(
  model: Model,
  x: F32,
  y: Tensor,
  rows: number,
  epochs: number,
  batchSize: number,
  stopper: EarlyStopping | null,
  rateAt: (step: number) => number,
  validation: readonly [F32, Tensor] | undefined,
  options: FitOptions,
): Promise<History> {
  const ctx = model.ctx;
  const batches = Math.ceil(rows / batchSize);
  return runEpochs(model, {
    where: 'fit',
    epochs,
    stopper,
    onEpochEnd: options.onEpochEnd,
    validate: validation === undefined ? null : () => evaluate(model, validation[0], validation[1]),
    train: async (epoch, metrics, pacer) => {
      const order = options.shuffle === false ? null : ctx.tensor(model.random.permutation(rows));
      try {
        for (let batch = 0; batch < batches; batch++) {
          model.stillAlive('fit');
          options.signal?.throwIfAborted();
          const start = batch * batchSize;
          const count = Math.min(batchSize, rows - start);
          const xb = gatherRows(ctx, x, order, start, count);
          const yb = gatherRows(ctx, y, order, start, count);
          try {
            model.optimizer.setLearningRate(rateAt(epoch * batches + batch));
            step(model, xb, yb, metrics).dispose();
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
