import { checkArity, checkKnownKeys, keysOf } from '../check-options.js';
import type { TrainingContext } from '../internal.js';
import { glorotInit, zerosInit } from './layers.js';
import { Model } from './model.js';
import type { SoftmaxRegressionJSON, SoftmaxRegressionOptions } from './options.js';
import { resolveOptions } from './resolve-options.js';
import { TrainableModel } from './trainable-model.js';

/** What `setWeights` takes: the weights row-major `[features, classes]`, and the bias. */
export interface SoftmaxRegressionWeights {
  /** Row-major `[features, classes]`. */
  readonly weights: Float32Array;
  /** `[classes]`. */
  readonly bias: Float32Array;
}

const WEIGHTS_KEYS = keysOf<SoftmaxRegressionWeights>({ weights: true, bias: true });

/**
 * Multinomial logistic regression, `p = softmax(xW + b)`, trained with cross-entropy: a
 * classifier without hidden layers. Every step runs on the context's backend: on WebGPU the
 * forward pass, the fused loss and gradient, `dW = xᵀ dz`, `db` and the optimizer update are
 * one submit, with nothing read back.
 *
 * @example
 * const model = ctx.softmaxRegression({ features: 784, classes: 10, optimizer: { type: 'sgd', learningRate: 0.5 } });
 * const history = await model.fit(x, y, { epochs: 10, batchSize: 128, validationData: [xTest, yTest] });
 * console.log(history.valAccuracy.at(-1));
 */
export class SoftmaxRegression extends TrainableModel {
  readonly #model: Model;

  /** @internal Use `ctx.softmaxRegression` or `ctx.loadSoftmaxRegression`. */
  constructor(ctx: TrainingContext, options: SoftmaxRegressionOptions) {
    const o = resolveOptions(options);
    const model = new Model(ctx, o, {
      kind: 'softmax-regression',
      hidden: [],
      activation: 'relu',
      init: (random) => {
        const { init, features, classes } = o;
        if (typeof init === 'object') return [{ weight: init.weights.slice(), bias: init.bias.slice() }];
        return [init === 'glorot' ? glorotInit(random, features, classes) : zerosInit(features, classes)];
      },
    });
    super(model);
    this.#model = model;
  }

  /** Copies of the weights (row-major `[features, classes]`) and the bias. */
  async getWeights(): Promise<{
    /** Row-major `[features, classes]`. */
    weights: Float32Array;
    /** `[classes]`. */
    bias: Float32Array;
  }> {
    checkArity('getWeights', arguments.length, 0);
    const [layer] = await this.#model.getLayers();
    return { weights: layer!.weight, bias: layer!.bias };
  }

  /** Replaces the weights; steps queued before this call still apply to the old ones. */
  setWeights(next: SoftmaxRegressionWeights): void {
    checkArity('setWeights', arguments.length, 1);
    checkKnownKeys('setWeights', next, WEIGHTS_KEYS);
    const { weights, bias } = next;
    this.#model.setLayers('setWeights', [{ weight: weights, bias }], (_, field) => (field === 'weight' ? 'weights' : 'bias'));
  }

  /**
   * The model as plain JSON, for `ctx.loadSoftmaxRegression`. Synchronous, so it needs the
   * weights on the host: always so on the CPU, and on WebGPU after `fit`, `getWeights` or
   * `setWeights`; after a bare `trainStep` on WebGPU, `await model.getWeights()` first.
   * It holds no optimizer state (moments, momentum, step count), no shuffling state and no
   * place in a schedule: a loaded model starts its optimizer afresh. To save training and go
   * on with it, use `checkpoint()`.
   */
  toJSON(): SoftmaxRegressionJSON {
    const host = this.#model.hostLayers('toJSON');
    const o = this.#model.options;
    return {
      format: 'webgpu-softmax/softmax-regression',
      version: 1,
      features: o.features,
      classes: o.classes,
      seed: o.seed,
      optimizer: o.optimizer,
      loss: { labelSmoothing: o.labelSmoothing, classWeights: o.classWeights === null ? null : Array.from(o.classWeights) },
      weights: Array.from(host[0]!.weight),
      bias: Array.from(host[0]!.bias),
    };
  }
}
