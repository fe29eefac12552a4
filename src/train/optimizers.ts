import { ValueError } from '../errors.js';
import type { StepGuard } from '../backend.js';
import { internals, type TrainingContext } from '../internal.js';
import type { Tensor } from '../tensor.js';
import type { AdamOptions, AdamWOptions, OptimizerOptions, RmspropOptions, SgdOptions } from './options.js';

type F32 = Tensor<'float32'>;

/** A parameter and its gradient, in the same order at every step. */
export interface ParameterUpdate {
  readonly param: F32;
  readonly grad: F32;
}

/**
 * Updates parameters in place on their own backend, queued like any op: a WebGPU step
 * reads nothing back. Its state (velocities, moments) is made on first use and lives on
 * the same device, one set of slots per parameter position.
 */
export interface Optimizer {
  readonly options: OptimizerOptions;
  /** The rate the next step takes: `options.learningRate` until `setLearningRate` changes it. */
  readonly learningRate: number;
  /** Steps taken: Adam's bias corrections count them, and a checkpoint saves them. */
  readonly steps: number;
  /**
   * Sets the rate of the steps from the next one on, as a PyTorch scheduler sets a param
   * group's `lr`: Adam's bias corrections still count every step taken, and AdamW's decay
   * scales with the new rate.
   *
   * @example
   * optimizer.setLearningRate(learningRateAt(schedule, step));
   * optimizer.step(updates);
   */
  setLearningRate(rate: number): void;
  /** Queues one update of every parameter; where `guard` marks the step as bad, it writes nothing. */
  step(updates: readonly ParameterUpdate[], guard?: StepGuard | null): void;
  /** Takes the last `steps` steps off the count (Adam's bias corrections, a checkpoint's step count): the non-finite guard skipped them. */
  unstep(steps: number): void;
  /** Each parameter position's state tensors, in `optimizerSlots` order; empty before the first step. */
  state(): readonly (readonly F32[])[];
  /** Replaces the state with host copies (per position, in `optimizerSlots` order) after `steps` steps, shaped as `params`. */
  load(steps: number, slots: readonly (readonly Float32Array[])[], params: readonly F32[]): void;
  dispose(): void;
}

/**
 * The state an optimizer keeps per parameter, by name, in the order its `state()` lists it:
 * what a checkpoint must hold for each parameter once a step was taken.
 */
export function optimizerSlots(options: OptimizerOptions): readonly string[] {
  switch (options.type) {
    case 'sgd':
      return (options.momentum ?? 0) === 0 ? [] : ['velocity'];
    case 'adam':
    case 'adamw':
      return ['m', 'v'];
    case 'rmsprop':
      return ['square', ...(options.centered === true ? ['mean'] : []), ...((options.momentum ?? 0) > 0 ? ['buffer'] : [])];
  }
}

export function createOptimizer(ctx: TrainingContext, options: OptimizerOptions): Optimizer {
  switch (options.type) {
    case 'sgd':
      return new Sgd(ctx, options);
    case 'adam':
      return new Adam(ctx, options);
    case 'adamw':
      return new Adam(ctx, options);
    case 'rmsprop':
      return new Rmsprop(ctx, options);
  }
}

/** Zeros shaped like `param`, for optimizer state. */
function zerosLike(ctx: TrainingContext, param: F32): F32 {
  return ctx.tensor(new Float32Array(param.size), param.shape);
}

/** What every optimizer shares: its context, its options, the rate of its next step, its step count and its state. */
abstract class BaseOptimizer<O extends OptimizerOptions> implements Optimizer {
  readonly options: O;
  protected readonly ctx: TrainingContext;
  #learningRate: number;
  #steps = 0;
  readonly #names: readonly string[];
  /** Per parameter position, its slots in `#names` order. */
  #slots: F32[][] = [];

  constructor(ctx: TrainingContext, options: O) {
    this.ctx = ctx;
    this.options = options;
    this.#learningRate = options.learningRate;
    this.#names = optimizerSlots(options);
  }

  get learningRate(): number {
    return this.#learningRate;
  }

  get steps(): number {
    return this.#steps;
  }

  setLearningRate(rate: number): void {
    // 0 is allowed: a warm-up or a schedule may start from it.
    if (!(rate >= 0 && Number.isFinite(rate))) {
      throw new ValueError(`optimizer: the learning rate must be a finite number ≥ 0, got ${rate}`);
    }
    this.#learningRate = rate;
  }

  step(updates: readonly ParameterUpdate[], guard: StepGuard | null = null): void {
    this.update(updates, ++this.#steps, guard);
  }

  unstep(steps: number): void {
    this.#steps -= steps;
  }

  /** One update of every parameter, the `t`-th step, skipped on its backend where `guard` marks it bad. */
  protected abstract update(updates: readonly ParameterUpdate[], t: number, guard: StepGuard | null): void;

  /** Parameter `i`'s state by slot name, made as zeros on first use. */
  protected slots(i: number, param: F32): Readonly<Record<string, F32>> {
    const slots = (this.#slots[i] ??= this.#names.map(() => zerosLike(this.ctx, param)));
    return Object.fromEntries(this.#names.map((name, k) => [name, slots[k]!]));
  }

  state(): readonly (readonly F32[])[] {
    return this.#slots;
  }

  load(steps: number, slots: readonly (readonly Float32Array[])[], params: readonly F32[]): void {
    const next = slots.map((values, i) => values.map((v) => this.ctx.tensor(v, params[i]!.shape)));
    this.dispose();
    this.#slots = next;
    this.#steps = steps;
  }

  dispose(): void {
    for (const slots of this.#slots) for (const t of slots) t.dispose();
    this.#slots = [];
  }
}

class Sgd extends BaseOptimizer<SgdOptions> {
  protected update(updates: readonly ParameterUpdate[], _t: number, guard: StepGuard | null): void {
    const access = this.ctx[internals];
    const momentum = this.options.momentum ?? 0;
    updates.forEach(({ param, grad }, i) => {
      const velocity = momentum === 0 ? null : this.slots(i, param)['velocity']!;
      access.backend().sgdStep(
        access.storage(param, 'sgd', 'param'),
        access.storage(grad, 'sgd', 'grad'),
        velocity === null ? null : access.storage(velocity, 'sgd', 'velocity'),
        {
          elements: param.size,
          learningRate: this.learningRate,
          momentum,
          nesterov: this.options.nesterov ?? false,
          weightDecay: this.options.weightDecay ?? 0,
        },
        guard,
      );
    });
  }
}

/** Adam and AdamW: the same moments, the decay added to the gradient or taken off the parameter. */
class Adam<O extends AdamOptions | AdamWOptions = AdamOptions> extends BaseOptimizer<O> {
  protected update(updates: readonly ParameterUpdate[], t: number, guard: StepGuard | null): void {
    const access = this.ctx[internals];
    const decoupled = this.options.type === 'adamw';
    const { beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8, weightDecay = decoupled ? 0.01 : 0 } = this.options;
    const learningRate = this.learningRate;
    // PyTorch's bias corrections and AdamW's decay factor, formed on the host in float64.
    const stepSize = learningRate / (1 - beta1 ** t);
    const correction2Sqrt = Math.sqrt(1 - beta2 ** t);
    const name = this.options.type;
    updates.forEach(({ param, grad }, i) => {
      const { m, v } = this.slots(i, param);
      const storages = [
        access.storage(param, name, 'param'),
        access.storage(grad, name, 'grad'),
        access.storage(m!, name, 'm'),
        access.storage(v!, name, 'v'),
      ] as const;
      if (decoupled) {
        const paramScale = 1 - learningRate * weightDecay;
        access.backend().adamwStep(...storages, { elements: param.size, paramScale, stepSize, beta1, beta2, epsilon, correction2Sqrt }, guard);
      } else {
        access.backend().adamStep(...storages, { elements: param.size, stepSize, beta1, beta2, epsilon, weightDecay, correction2Sqrt }, guard);
      }
    });
  }
}

class Rmsprop extends BaseOptimizer<RmspropOptions> {
  protected update(updates: readonly ParameterUpdate[], _t: number, guard: StepGuard | null): void {
    const access = this.ctx[internals];
    const { alpha = 0.99, epsilon = 1e-8, weightDecay = 0, momentum = 0, centered = false } = this.options;
    updates.forEach(({ param, grad }, i) => {
      const { square, mean, buffer } = this.slots(i, param);
      const maybe = (t: F32 | undefined, name: string) => (t === undefined ? null : access.storage(t, 'rmsprop', name));
      access.backend().rmspropStep(
        access.storage(param, 'rmsprop', 'param'),
        access.storage(grad, 'rmsprop', 'grad'),
        access.storage(square!, 'rmsprop', 'square'),
        maybe(mean, 'mean'),
        maybe(buffer, 'buffer'),
        { elements: param.size, learningRate: this.learningRate, alpha, epsilon, weightDecay, momentum, centered },
        guard,
      );
    });
  }
}
