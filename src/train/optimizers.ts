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
 * the same device, one entry per parameter position.
 */
export interface Optimizer {
  readonly options: OptimizerOptions;
  /** The rate the next step takes: `options.learningRate` until `setLearningRate` changes it. */
  readonly learningRate: number;
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
  /** Forgets the last `steps` steps' place in the count (Adam's bias corrections): the non-finite guard skipped them. */
  unstep(steps: number): void;
  dispose(): void;
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

/** What every optimizer shares: its context, its options and the rate of its next step. */
abstract class BaseOptimizer<O extends OptimizerOptions> implements Optimizer {
  readonly options: O;
  protected readonly ctx: TrainingContext;
  #learningRate: number;

  constructor(ctx: TrainingContext, options: O) {
    this.ctx = ctx;
    this.options = options;
    this.#learningRate = options.learningRate;
  }

  get learningRate(): number {
    return this.#learningRate;
  }

  setLearningRate(rate: number): void {
    // 0 is allowed: a warm-up or a schedule may start from it.
    if (!(rate >= 0 && Number.isFinite(rate))) {
      throw new ValueError(`optimizer: the learning rate must be a finite number ≥ 0, got ${rate}`);
    }
    this.#learningRate = rate;
  }

  abstract step(updates: readonly ParameterUpdate[], guard?: StepGuard | null): void;
  abstract dispose(): void;

  /** Only Adam counts its steps. */
  unstep(_steps: number): void {}
}

class Sgd extends BaseOptimizer<SgdOptions> {
  readonly #velocity: F32[] = [];

  step(updates: readonly ParameterUpdate[], guard: StepGuard | null = null): void {
    const access = this.ctx[internals];
    const momentum = this.options.momentum ?? 0;
    updates.forEach(({ param, grad }, i) => {
      const velocity = momentum === 0 ? null : (this.#velocity[i] ??= zerosLike(this.ctx, param));
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

  dispose(): void {
    for (const v of this.#velocity) v.dispose();
  }
}

/** Adam and AdamW: the same moments, the decay added to the gradient or taken off the parameter. */
class Adam<O extends AdamOptions | AdamWOptions = AdamOptions> extends BaseOptimizer<O> {
  readonly #moments: { m: F32; v: F32 }[] = [];
  #steps = 0;

  override unstep(steps: number): void {
    this.#steps -= steps;
  }

  step(updates: readonly ParameterUpdate[], guard: StepGuard | null = null): void {
    const access = this.ctx[internals];
    const decoupled = this.options.type === 'adamw';
    const { beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8, weightDecay = decoupled ? 0.01 : 0 } = this.options;
    const learningRate = this.learningRate;
    const t = ++this.#steps;
    // PyTorch's bias corrections and AdamW's decay factor, formed on the host in float64.
    const stepSize = learningRate / (1 - beta1 ** t);
    const correction2Sqrt = Math.sqrt(1 - beta2 ** t);
    const name = this.options.type;
    updates.forEach(({ param, grad }, i) => {
      const { m, v } = (this.#moments[i] ??= { m: zerosLike(this.ctx, param), v: zerosLike(this.ctx, param) });
      const storages = [
        access.storage(param, name, 'param'),
        access.storage(grad, name, 'grad'),
        access.storage(m, name, 'm'),
        access.storage(v, name, 'v'),
      ] as const;
      if (decoupled) {
        const paramScale = 1 - learningRate * weightDecay;
        access.backend().adamwStep(...storages, { elements: param.size, paramScale, stepSize, beta1, beta2, epsilon, correction2Sqrt }, guard);
      } else {
        access.backend().adamStep(...storages, { elements: param.size, stepSize, beta1, beta2, epsilon, weightDecay, correction2Sqrt }, guard);
      }
    });
  }

  dispose(): void {
    for (const { m, v } of this.#moments) {
      m.dispose();
      v.dispose();
    }
  }
}

class Rmsprop extends BaseOptimizer<RmspropOptions> {
  readonly #state: { square: F32; mean: F32 | null; buffer: F32 | null }[] = [];

  step(updates: readonly ParameterUpdate[], guard: StepGuard | null = null): void {
    const access = this.ctx[internals];
    const { alpha = 0.99, epsilon = 1e-8, weightDecay = 0, momentum = 0, centered = false } = this.options;
    updates.forEach(({ param, grad }, i) => {
      const state = (this.#state[i] ??= {
        square: zerosLike(this.ctx, param),
        mean: centered ? zerosLike(this.ctx, param) : null,
        buffer: momentum > 0 ? zerosLike(this.ctx, param) : null,
      });
      const maybe = (t: F32 | null, name: string) => (t === null ? null : access.storage(t, 'rmsprop', name));
      access.backend().rmspropStep(
        access.storage(param, 'rmsprop', 'param'),
        access.storage(grad, 'rmsprop', 'grad'),
        access.storage(state.square, 'rmsprop', 'square'),
        maybe(state.mean, 'mean'),
        maybe(state.buffer, 'buffer'),
        { elements: param.size, learningRate: this.learningRate, alpha, epsilon, weightDecay, momentum, centered },
        guard,
      );
    });
  }

  dispose(): void {
    for (const { square, mean, buffer } of this.#state) {
      square.dispose();
      mean?.dispose();
      buffer?.dispose();
    }
  }
}
