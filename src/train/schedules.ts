import { checkTaggedKeys, keysOf } from '../check-options.js';
import { ValueError } from '../errors.js';

// Learning-rate schedules, counted in optimizer steps (batches), not epochs: a warm-up then
// rises smoothly, and a step or cosine decay moves at batch resolution. A run in epochs
// converts with steps = epochs * ceil(rows / batchSize).

/** What a warm-up adds to a schedule: PyTorch's `LinearLR(start_factor, 1, total_iters)` first. */
export interface Warmup {
  /** Steps over which the rate climbs linearly to the base rate. Default 0 (no warm-up). */
  readonly warmupSteps?: number;
  /** The share of the base rate at step 0, in [0, 1]. Default 1/3, as PyTorch's `LinearLR`. */
  readonly warmupStartFactor?: number;
}

/**
 * PyTorch's `StepLR`: `baseRate * gamma^floor(s / stepSize)`, with `s` counted from the end of
 * the warm-up.
 */
export interface StepSchedule extends Warmup {
  /** Selects `StepLR`. */
  readonly type: 'step';
  /** Steps between decays. */
  readonly stepSize: number;
  /** Default 0.1, as PyTorch's. */
  readonly gamma?: number;
}

/**
 * PyTorch's `CosineAnnealingLR`: from the base rate down to `minLearningRate` along half a
 * cosine, `min + (base - min) * (1 + cos(pi * s / (totalSteps - warmupSteps))) / 2`, with `s`
 * counted from the end of the warm-up. Past `totalSteps` the rate stays at `minLearningRate`
 * (PyTorch's would climb back up the cosine).
 */
export interface CosineSchedule extends Warmup {
  /** Selects `CosineAnnealingLR`. */
  readonly type: 'cosine';
  /**
   * Steps of the whole run, warm-up included (as Hugging Face's `num_training_steps`); may be
   * left out where the caller knows the run's length (`fit`: epochs times batches per epoch).
   */
  readonly totalSteps?: number;
  /** Default 0, as PyTorch's `eta_min`. */
  readonly minLearningRate?: number;
}

/** A rate per optimizer step, scaling the optimizer's own `learningRate` (the base rate). */
export type LearningRateSchedule = StepSchedule | CosineSchedule;

const SCHEDULE_KEYS: Readonly<Record<LearningRateSchedule['type'], readonly string[]>> = {
  step: keysOf<StepSchedule>({ type: true, stepSize: true, gamma: true, warmupSteps: true, warmupStartFactor: true }),
  cosine: keysOf<CosineSchedule>({ type: true, totalSteps: true, minLearningRate: true, warmupSteps: true, warmupStartFactor: true }),
};

/** What a schedule needs besides its own options. */
export interface ScheduleContext {
  /** The optimizer's `learningRate`, which the schedule scales. */
  readonly baseRate: number;
  /** The run's length in steps, for a cosine that does not give `totalSteps`; undefined where unknown. */
  readonly totalSteps?: number | undefined;
  /** Names the caller in errors, e.g. `'fit'`. */
  readonly where: string;
}

/**
 * Checks a schedule and returns the rate of each optimizer step (step 0 first). Errors name
 * the field at fault and are thrown here, before any training.
 *
 * @example
 * const rateAt = learningRateSchedule({ type: 'cosine', totalSteps: 1000, warmupSteps: 100 }, { baseRate: 1e-3, where: 'fit' });
 * rateAt(0);    // 1e-3 / 3
 * rateAt(100);  // 1e-3
 * rateAt(1000); // 0
 */
export function learningRateSchedule(schedule: LearningRateSchedule, context: ScheduleContext): (step: number) => number {
  const { baseRate, where } = context;
  const field = (name: string) => `${where}: learningRate.${name}`;
  if (!(baseRate > 0 && Number.isFinite(baseRate))) {
    throw new ValueError(`${where}: the optimizer's learningRate must be a positive number, got ${baseRate}`);
  }
  if (typeof schedule === 'object') checkTaggedKeys(where, schedule, SCHEDULE_KEYS, 'learningRate.');
  if (typeof schedule !== 'object' || schedule === null || (schedule.type !== 'step' && schedule.type !== 'cosine')) {
    const type = typeof schedule === 'object' && schedule !== null ? (schedule as { type: unknown }).type : schedule;
    throw new ValueError(`${where}: learningRate.type must be 'step' or 'cosine', got ${JSON.stringify(type)}`);
  }
  const warmupSteps = count(field('warmupSteps'), schedule.warmupSteps ?? 0, 0);
  const startFactor = bounded(field('warmupStartFactor'), schedule.warmupStartFactor ?? 1 / 3, 0, 1);
  const warm = (step: number) => baseRate * (startFactor + ((1 - startFactor) * step) / warmupSteps);

  if (schedule.type === 'step') {
    const stepSize = count(field('stepSize'), schedule.stepSize, 1);
    const gamma = bounded(field('gamma'), schedule.gamma ?? 0.1, 0, Infinity);
    return (step) => {
      const s = checkStep(where, step);
      return s < warmupSteps ? warm(s) : baseRate * gamma ** Math.floor((s - warmupSteps) / stepSize);
    };
  }

  const given = schedule.totalSteps;
  if (given === undefined && context.totalSteps === undefined) {
    throw new ValueError(`${field('totalSteps')} is needed: the length of this run is not known in advance`);
  }
  const totalSteps = count(given === undefined ? `${where}: the run's steps` : field('totalSteps'), given ?? context.totalSteps, 1);
  if (totalSteps <= warmupSteps) {
    throw new ValueError(`${field('totalSteps')} (${totalSteps}) must exceed learningRate.warmupSteps (${warmupSteps})`);
  }
  const min = bounded(field('minLearningRate'), schedule.minLearningRate ?? 0, 0, Infinity);
  const span = totalSteps - warmupSteps;
  return (step) => {
    const s = checkStep(where, step);
    if (s < warmupSteps) return warm(s);
    const t = Math.min(s - warmupSteps, span);
    return min + ((baseRate - min) * (1 + Math.cos((Math.PI * t) / span))) / 2;
  };
}

function count(name: string, value: unknown, low: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < low) {
    throw new ValueError(`${name} must be an integer ≥ ${low}, got ${JSON.stringify(value) ?? String(value)}`);
  }
  return value;
}

function bounded(name: string, value: unknown, low: number, high: number): number {
  if (typeof value !== 'number' || !(value >= low && value <= high) || !Number.isFinite(value)) {
    const range = high === Infinity ? `a finite number ≥ ${low}` : `in [${low}, ${high}]`;
    throw new ValueError(`${name} must be ${range}, got ${typeof value === 'number' ? value : JSON.stringify(value)}`);
  }
  return value;
}

function checkStep(where: string, step: number): number {
  if (!Number.isSafeInteger(step) || step < 0) throw new ValueError(`${where}: a schedule's step must be an integer ≥ 0, got ${step}`);
  return step;
}
