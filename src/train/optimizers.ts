import type { Context } from '../context.js';
import { internals } from '../internal.js';
import type { Tensor } from '../tensor.js';
import type { AdamOptions, OptimizerOptions, SgdOptions } from './options.js';

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
  step(updates: readonly ParameterUpdate[]): void;
  dispose(): void;
}

export function createOptimizer(ctx: Context, options: OptimizerOptions): Optimizer {
  return options.type === 'sgd' ? new Sgd(ctx, options) : new Adam(ctx, options);
}

/** Zeros shaped like `param`, for optimizer state. */
function zerosLike(ctx: Context, param: F32): F32 {
  return ctx.tensor(new Float32Array(param.size), param.shape);
}

class Sgd implements Optimizer {
  readonly options: SgdOptions;
  readonly #ctx: Context;
  readonly #velocity: F32[] = [];

  constructor(ctx: Context, options: SgdOptions) {
    this.#ctx = ctx;
    this.options = options;
  }

  step(updates: readonly ParameterUpdate[]): void {
    const access = this.#ctx[internals];
    const momentum = this.options.momentum ?? 0;
    updates.forEach(({ param, grad }, i) => {
      const velocity = momentum === 0 ? null : (this.#velocity[i] ??= zerosLike(this.#ctx, param));
      access.backend().sgdStep(
        access.storage(param, 'sgd', 'param'),
        access.storage(grad, 'sgd', 'grad'),
        velocity === null ? null : access.storage(velocity, 'sgd', 'velocity'),
        {
          elements: param.size,
          learningRate: this.options.learningRate,
          momentum,
          nesterov: this.options.nesterov ?? false,
          weightDecay: this.options.weightDecay ?? 0,
        },
      );
    });
  }

  dispose(): void {
    for (const v of this.#velocity) v.dispose();
  }
}

class Adam implements Optimizer {
  readonly options: AdamOptions;
  readonly #ctx: Context;
  readonly #moments: { m: F32; v: F32 }[] = [];
  #steps = 0;

  constructor(ctx: Context, options: AdamOptions) {
    this.#ctx = ctx;
    this.options = options;
  }

  step(updates: readonly ParameterUpdate[]): void {
    const access = this.#ctx[internals];
    const { learningRate, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8, weightDecay = 0 } = this.options;
    const t = ++this.#steps;
    // PyTorch's bias corrections, formed on the host in float64 (t is known there).
    const stepSize = learningRate / (1 - beta1 ** t);
    const correction2Sqrt = Math.sqrt(1 - beta2 ** t);
    updates.forEach(({ param, grad }, i) => {
      const { m, v } = (this.#moments[i] ??= { m: zerosLike(this.#ctx, param), v: zerosLike(this.#ctx, param) });
      access.backend().adamStep(
        access.storage(param, 'adam', 'param'),
        access.storage(grad, 'adam', 'grad'),
        access.storage(m, 'adam', 'm'),
        access.storage(v, 'adam', 'v'),
        { elements: param.size, stepSize, beta1, beta2, epsilon, weightDecay, correction2Sqrt },
      );
    });
  }

  dispose(): void {
    for (const { m, v } of this.#moments) {
      m.dispose();
      v.dispose();
    }
  }
}
