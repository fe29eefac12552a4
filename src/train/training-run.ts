import { DeviceLostError, ValueError } from '../errors.js';
import { internals } from '../internal.js';
import type { Tensor } from '../tensor.js';
import { encodeCheckpoint, hostStateBytes, readHostState, rebuild, type Checkpointer, type HostState } from './checkpoint.js';
import { EarlyStopping } from './early-stopping.js';
import type { LayerWeights } from './layers.js';
import type { Model, Progress } from './model.js';
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

/**
 * Past this much weight and optimizer state, a run does not keep a host copy at each epoch's
 * end unless asked (`recovery: true`): reading it back costs a transfer of that size per epoch.
 */
export const RECOVERY_BYTES = 64 * 2 ** 20;

/** What `fit` and `fitDataset` each bring to the epochs they share. */
export interface Epochs {
  readonly where: 'fit' | 'fitDataset';
  /** The first epoch to run, as Keras's `initial_epoch`. */
  readonly initialEpoch: number;
  readonly epochs: number;
  readonly checkpointer: Checkpointer;
  readonly stopper: EarlyStopping | null;
  /** Whether the first epoch continues the model's progress exactly (see `FitOptions.initialEpoch`). */
  readonly resume: boolean;
  /** `recovery` as given: keep the state each epoch starts from on the host, or leave it to the size. */
  readonly recovery: boolean | undefined;
  /** Whether the data lived on the device with the model (`fit`), so that a lost device ends the run. */
  readonly dataOnDevice: boolean;
  /**
   * Trains one pass over the data, adding its figures to `metrics` on the device, each step
   * under `guard`. It calls `model.startEpoch` (with `resume`, the progress to continue: its
   * batch, step and random state), then awaits `started` before drawing its shuffle or queuing
   * a step.
   */
  readonly train: (epoch: number, metrics: F32, pacer: Pacer, resume: Progress | null, started: () => Promise<void>, guard: NonFiniteGuard) => Promise<void>;
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
 * weights read back. On a device that can be lost, the state each epoch starts from is kept on
 * the host (see `RECOVERY_BYTES`); when the device goes, the model is made again from it on the
 * CPU the context falls back to, and the epoch runs again there (or, where the data went with
 * the device, the run rejects with that state as a checkpoint).
 */
export async function runEpochs(model: Model, run: Epochs): Promise<History> {
  const { where } = run;
  let best: LayerWeights[] | null = null;
  const history: History = { loss: [], accuracy: [], valLoss: [], valAccuracy: [], skippedBatches: [] };
  let deviceLost: History['deviceLost'] | null = null;
  const pacer = new Pacer();
  const lost = model.ctx[internals].backend().lost;
  let isLost = false;
  void lost?.then(() => void (isLost = true));
  const keep = lost !== null && (run.recovery ?? hostStateBytes(model) <= RECOVERY_BYTES);
  let kept: HostState | null = null;
  let resume: Progress | null = run.resume ? { ...model.progress } : null;
  // Kept at the run's first epoch's start, then read back with each epoch's figures.
  const snapshot = keep ? () => readHostState(model, where) : null;
  const started = async () => {
    if (snapshot !== null && kept === null && !isLost) kept = await snapshot();
  };
  let guard = new NonFiniteGuard(model.ctx, run.nonFinite);
  try {
    for (let epoch = run.initialEpoch; epoch < run.epochs; epoch++) {
      try {
        const verdict = await runEpoch(model, run, epoch, pacer, resume, started, guard, history, snapshot, (state) => void (kept = state));
        resume = null;
        if (verdict.best !== null) best = verdict.best;
        if (verdict.stop) break;
      } catch (error) {
        // A lost device rejects a read at once, and ops on its tensors once the context has moved on.
        if (lost === null || deviceLost !== null || !(error instanceof DeviceLostError || isLost)) throw error;
        const loss = await lost;
        const state = kept as HostState | null;
        if (state === null) throw error;
        model.stillAlive(where);
        rebuild(model, where, state);
        // The guard's words went with the device.
        guard.dispose();
        guard = new NonFiniteGuard(model.ctx, run.nonFinite);
        const from = state.progress.epoch;
        for (const figures of Object.values(history)) figures.length = Math.min(figures.length, from - run.initialEpoch);
        if (run.dataOnDevice) {
          throw new DeviceLostError(
            `${where}: the WebGPU device was lost (${loss.reason}) in epoch ${epoch}, and x and y with it. The model is on the CPU now, ` +
              `as it stood at the start of epoch ${from}, and this error's checkpoint holds that state: make x and y again on this context ` +
              `and go on with fit(x, y, { ..., initialEpoch: ${from} })`,
            { cause: error, checkpoint: await encodeCheckpoint(model, state), epoch: from },
          );
        }
        deviceLost = { epoch: from, reason: loss.reason };
        resume = state.progress;
        epoch = from - 1;
      }
    }
  } finally {
    guard.dispose();
  }
  if (best !== null) model.setLayers(where, best, (l, field) => `layers[${l}].${field}`);
  await settle(model, where);
  return deviceLost === null ? history : { ...history, deviceLost };
}

/** One epoch of `runEpochs`: trained, read back, logged, checkpointed and judged. */
async function runEpoch(
  model: Model,
  run: Epochs,
  epoch: number,
  pacer: Pacer,
  resume: Progress | null,
  started: () => Promise<void>,
  guard: NonFiniteGuard,
  history: History,
  snapshot: (() => Promise<HostState>) | null,
  keep: (state: HostState) => void,
): Promise<{ stop: boolean; best: LayerWeights[] | null }> {
  const { where, validate } = run;
  const time = performance.now();
  const metrics = model.ctx.tensor(new Float32Array(4));
  let figures: Float32Array;
  let skipped: number;
  try {
    guard.startEpoch(resume?.batch ?? 0);
    await run.train(epoch, metrics, pacer, resume, started, guard);
    model.stillAlive(where);
    model.endEpoch();
    // The guard's words and the state the next epoch starts from come back with this epoch's
    // figures, in one wait: no readback of their own per batch.
    const [read, settled, state] = await Promise.all([
      metrics.read(),
      guard.settle(where, epoch, run.locate, (steps) => model.optimizer.unstep(steps)),
      snapshot?.() ?? null,
    ]);
    figures = read;
    skipped = settled;
    if (state !== null) keep(state);
  } finally {
    metrics.dispose();
  }
  const scores = await endEpoch(model, where, epoch, time, figures, skipped, validate === null ? null : () => validate(epoch), history, run.onEpochEnd);
  await run.checkpointer.epochEnded();
  return judge(model, where, run.stopper, epoch, scores);
}

/**
 * A run's first epoch, checked against `epochs`, and whether the run continues the model's
 * progress exactly: only where `initialEpoch` was given and the model stands at that epoch.
 */
export function initialEpoch(model: Model, where: string, given: number | undefined, epochs: number): { initialEpoch: number; resume: boolean } {
  const initial = given ?? 0;
  if (!Number.isSafeInteger(initial) || initial < 0 || initial > epochs) {
    throw new ValueError(`${where}: initialEpoch must be an integer in [0, epochs] = [0, ${epochs}], got ${String(given)}`);
  }
  return { initialEpoch: initial, resume: given !== undefined && model.progress.epoch === initial };
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
