import { ValueError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { EarlyStopping } from './early-stopping.js';
import type { LayerWeights } from './layers.js';
import type { Model } from './model.js';
import { NonFiniteGuard, type BadRow } from './non-finite.js';
import type { EarlyStoppingOptions, EpochLogs, Evaluation, History, NonFiniteMode } from './options.js';
import { learningRateSchedule, type LearningRateSchedule } from './schedules.js';

type F32 = Tensor<'float32'>;

/** `fit` lets the event loop run at least this often, so a page can repaint and handle input. */
export const YIELD_EVERY_MS = 50;

/** A macrotask: awaiting promises alone never lets a browser render or handle events. */
function nextTask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** When a training run last let the event loop run: each batch asks whether a pause is due. */
export class Pacer {
  #since = performance.now();

  /** Whether `YIELD_EVERY_MS` have passed since the last pause (a plain check, so a batch that does not pause awaits nothing more). */
  get due(): boolean {
    return performance.now() - this.#since > YIELD_EVERY_MS;
  }

  async pause(): Promise<void> {
    await nextTask();
    this.#since = performance.now();
  }
}

/** What `fit` and `fitDataset` each bring to the epochs they share. */
export interface Epochs {
  readonly where: 'fit' | 'fitDataset';
  readonly epochs: number;
  readonly stopper: EarlyStopping | null;
  /** Trains one pass over the data, adding its figures to `metrics` on the device, each step under `guard`. */
  readonly train: (epoch: number, metrics: F32, pacer: Pacer, guard: NonFiniteGuard) => Promise<void>;
  readonly nonFinite: NonFiniteMode;
  /** The row of batch `batch` of the epoch just trained that holds NaN or Infinity; null where it cannot be found. */
  readonly locate: ((batch: number) => Promise<BadRow | null>) | null;
  /** The validation scores after an epoch; null without validation data. */
  readonly validate: ((epoch: number) => Promise<Evaluation>) | null;
  readonly onEpochEnd: ((logs: EpochLogs) => void | Promise<void>) | undefined;
}

/**
 * The epochs of a training run: each one trained, its figures read back once, validated,
 * logged and judged by early stopping; at the end the best weights restored if asked, and the
 * weights read back.
 */
export async function runEpochs(model: Model, run: Epochs): Promise<History> {
  const guard = new NonFiniteGuard(model.ctx, run.nonFinite);
  try {
    return await guardedEpochs(model, run, guard);
  } finally {
    guard.dispose();
  }
}

async function guardedEpochs(model: Model, run: Epochs, guard: NonFiniteGuard): Promise<History> {
  const { where, validate } = run;
  let best: LayerWeights[] | null = null;
  const history: History = { loss: [], accuracy: [], valLoss: [], valAccuracy: [], skippedBatches: [] };
  const pacer = new Pacer();
  for (let epoch = 0; epoch < run.epochs; epoch++) {
    const started = performance.now();
    const metrics = model.ctx.tensor(new Float32Array(4));
    let figures: Float32Array;
    let skipped: number;
    try {
      guard.startEpoch();
      await run.train(epoch, metrics, pacer, guard);
      model.stillAlive(where);
      // The guard's words come back with the epoch's figures: no readback of their own per batch.
      [figures, skipped] = await Promise.all([metrics.read(), guard.settle(where, epoch, run.locate, (steps) => model.optimizer.unstep(steps))]);
    } finally {
      metrics.dispose();
    }
    const scores = await endEpoch(model, where, epoch, started, figures, skipped, validate === null ? null : () => validate(epoch), history, run.onEpochEnd);
    const verdict = await judge(model, where, run.stopper, epoch, scores);
    if (verdict.best !== null) best = verdict.best;
    if (verdict.stop) break;
  }
  if (best !== null) model.setLayers(where, best, (l, field) => `layers[${l}].${field}`);
  await settle(model, where);
  return history;
}

/** The early-stopping rule of a run, checked before any work; null without one. */
export function earlyStopping(where: string, options: EarlyStoppingOptions | undefined, validated: boolean, needs: string): EarlyStopping | null {
  if (options === undefined) return null;
  const stopper = new EarlyStopping(where, options);
  if (!validated) throw new ValueError(`${where}: earlyStopping needs ${needs} to monitor ${stopper.monitor}`);
  return stopper;
}

/** The rate of each step of a run: the schedule's, checked now, or the optimizer's own. */
export function schedule(model: Model, where: string, schedule: LearningRateSchedule | undefined, totalSteps: number | undefined): (step: number) => number {
  const baseRate = model.optimizer.options.learningRate;
  return schedule === undefined ? () => baseRate : learningRateSchedule(schedule, { baseRate, totalSteps, where });
}

/**
 * An epoch's verdict under early stopping: whether to stop, and the weights to keep as the
 * best so far (read back only when they are to be restored).
 */
async function judge(model: Model, where: string, stopper: EarlyStopping | null, epoch: number, scores: Evaluation | null): Promise<{ stop: boolean; best: LayerWeights[] | null }> {
  if (stopper === null || scores === null) return { stop: false, best: null };
  const { improved, stop } = stopper.update(epoch, scores);
  const best = improved && stopper.restoreBestWeights ? await model.getLayers(where) : null;
  model.stillAlive(where);
  return { stop, best };
}

/** The end of a training run: the weights read back, so `toJSON` works at once. */
async function settle(model: Model, where: string): Promise<void> {
  model.stillAlive(where);
  await model.getLayers(where);
  model.stillAlive(where);
}

async function endEpoch(
  model: Model,
  where: string,
  epoch: number,
  started: number,
  figures: Float32Array,
  skippedBatches: number,
  evaluate: (() => Promise<Evaluation>) | null,
  history: History,
  onEpochEnd: ((logs: EpochLogs) => void | Promise<void>) | undefined,
): Promise<Evaluation | null> {
  const [lossSum, correct, counted, seen] = figures as unknown as [number, number, number, number];
  model.stillAlive(where);
  const scores = evaluate === null ? null : await evaluate();
  model.stillAlive(where);
  const logs = {
    epoch,
    loss: lossSum / seen,
    accuracy: correct / counted,
    ...(scores === null ? {} : { valLoss: scores.loss, valAccuracy: scores.accuracy }),
    seconds: (performance.now() - started) / 1000,
    skippedBatches,
  };
  history.loss.push(logs.loss);
  history.accuracy.push(logs.accuracy);
  history.skippedBatches.push(skippedBatches);
  if (scores !== null) {
    history.valLoss.push(scores.loss);
    history.valAccuracy.push(scores.accuracy);
  }
  await onEpochEnd?.(logs);
  model.stillAlive(where);
  return scores;
}
