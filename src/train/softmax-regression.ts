import type { TrainingContext } from '../internal.js';
import { WebGPUSoftmaxError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import type { WriteOnnxOptions as ExportOptions } from '../export/onnx.js';
import type { TfjsModelArtifacts } from '../export/tfjs.js';
import { Model, type ExportFormat } from './model.js';
import type {
  Dataset,
  Evaluation,
  FitDatasetOptions,
  FitOptions,
  History,
  PredictOptions,
  SoftmaxRegressionJSON,
  SoftmaxRegressionOptions,
  TopK,
} from './options.js';
import { resolveOptions } from './resolve-options.js';

export { FUSED_STEP_LOGITS_BYTES, MAX_TOP_K, YIELD_EVERY_MS } from './model.js';

/** A float32 tensor. @inline */
type F32 = Tensor<'float32'>;

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
export class SoftmaxRegression {
  /** Features per row, as made. */
  readonly features: number;
  /** Classes, as made. */
  readonly classes: number;
  readonly #model: Model;

  /** @internal Use `ctx.softmaxRegression` or `ctx.loadSoftmaxRegression`. */
  constructor(ctx: TrainingContext, options: SoftmaxRegressionOptions) {
    const o = resolveOptions(options);
    this.#model = new Model(ctx, o, {
      hidden: [],
      activation: 'relu',
      init: (random) => {
        const { init, features, classes } = o;
        if (typeof init === 'object') return [{ weight: init.weights.slice(), bias: init.bias.slice() }];
        const weight = new Float32Array(features * classes);
        if (init === 'glorot') {
          const limit = Math.sqrt(6 / (features + classes));
          for (let i = 0; i < weight.length; i++) weight[i] = random.uniform(-limit, limit);
        }
        return [{ weight, bias: new Float32Array(classes) }];
      },
    });
    this.features = o.features;
    this.classes = o.classes;
  }

  /**
   * One step on a batch: `x` `[B, features]`, `y` int32 class ids `[B]` or float32 targets
   * `[B, classes]`. Returns the batch's loss (a scalar tensor) without reading it back; on
   * WebGPU the whole step is submitted at once when something is read or flushed.
   */
  trainStep(x: F32, y: Tensor): F32 {
    return this.#model.trainStep(x, y);
  }

  /**
   * Trains for `epochs` passes over `x` and `y` in batches of `batchSize` (the last may be
   * smaller), reshuffled each epoch from the model's seed. Reads back once per epoch, for the
   * history and the callback, never once per batch. A second `fit` or `fitDataset` while one
   * runs is refused (`BusyError`); disposing the model stops the run, which rejects with a
   * `DisposedError`.
   */
  fit(x: F32, y: Tensor, options: FitOptions = {}): Promise<History> {
    return this.#model.fit(x, y, options);
  }

  /**
   * Trains on batches that need not fit in memory at once, read from `dataset` anew each epoch
   * (see `Dataset`). Each batch is checked, uploaded while the device still trains on the one
   * before, stepped and released, so device memory holds a few batches whatever the data set's
   * size; nothing is read back per batch. A bad batch (wrong width, a label out of range, not a
   * batch at all) rejects with an error naming its index, before anything of it is queued: the
   * model stays as after the last good step.
   *
   * @example
   * async function* batches() {
   *   for await (const chunk of readChunks()) yield { x: chunk.pixels, y: chunk.labels };
   * }
   * const history = await model.fitDataset(batches, { epochs: 3 });
   */
  fitDataset(dataset: Dataset, options: FitDatasetOptions = {}): Promise<History> {
    return this.#model.fitDataset(dataset, options);
  }

  /**
   * Mean cross-entropy (with the model's label smoothing; class weights only weigh training)
   * and accuracy over a data set, in one read back.
   */
  evaluate(x: F32, y: Tensor): Promise<Evaluation> {
    return this.#model.evaluate(x, y);
  }

  /**
   * Class probabilities `[N, classes]` for features `[N, features]`; with `{ topK: k }`, only the
   * k most probable classes of each row, largest first (`indices` int32 and `values` float32,
   * both `[N, k]`), found on the device a chunk of rows at a time: neither the `[N, classes]`
   * logits nor their read-back ever exist.
   *
   * @example
   * const { indices, values } = model.predict(x, { topK: 5 });
   * console.log(await indices.read(), await values.read());
   */
  predict(x: F32): F32;
  predict(x: F32, options: PredictOptions): TopK;
  predict(x: F32, options?: PredictOptions): F32 | TopK {
    return options === undefined ? this.#model.predict(x) : this.#model.predict(x, options);
  }

  /** Copies of the weights (row-major `[features, classes]`) and the bias. */
  async getWeights(): Promise<{
    /** Row-major `[features, classes]`. */
    weights: Float32Array;
    /** `[classes]`. */
    bias: Float32Array;
  }> {
    const [layer] = await this.#model.getLayers();
    return { weights: layer!.weight, bias: layer!.bias };
  }

  /** Replaces the weights; steps queued before this call still apply to the old ones. */
  setWeights({ weights, bias }: { readonly weights: Float32Array; readonly bias: Float32Array }): void {
    this.#model.setLayers('setWeights', [{ weight: weights, bias }], (_, field) => (field === 'weight' ? 'weights' : 'bias'));
  }

  /**
   * The model as bytes PyTorch, ONNX Runtime or TensorFlow.js read (see the README's "Export
   * and import"): `'onnx'` (input `input` [batch, features], outputs `logits` and
   * `probabilities`; `{ opset: 20 }` spells gelu as one Gelu node), `'safetensors'` (the
   * state_dict of `nn.Sequential(Linear, act, …, Linear)`), or `'tfjs'` (`tf.io.ModelArtifacts`
   * for `tf.loadLayersModel(tf.io.fromMemory(artifacts))`). Bytes, not a download.
   *
   * @example
   * const bytes = await model.export('onnx');
   * const session = await ort.InferenceSession.create(bytes);
   */
  export(format: 'onnx' | 'safetensors', options?: ExportOptions): Promise<Uint8Array>;
  export(format: 'tfjs'): Promise<TfjsModelArtifacts>;
  export(format: ExportFormat, options?: ExportOptions): Promise<Uint8Array | TfjsModelArtifacts>;
  export(format: ExportFormat, options: ExportOptions = {}): Promise<Uint8Array | TfjsModelArtifacts> {
    return this.#model.export(format, options);
  }

  /**
   * The model as plain JSON, for `ctx.loadSoftmaxRegression`. Synchronous, so it needs the
   * weights on the host: always so on the CPU, and on WebGPU after `fit`, `getWeights` or
   * `setWeights`; after a bare `trainStep` on WebGPU, `await model.getWeights()` first.
   * The optimizer's state is not saved: a loaded model starts its optimizer afresh.
   */
  toJSON(): SoftmaxRegressionJSON {
    const host = this.#model.hostLayers('toJSON');
    if (host === null) {
      throw new WebGPUSoftmaxError(
        'toJSON: the weights changed on the GPU since they were last read; `await model.getWeights()` first ' +
          '(toJSON is synchronous, and reading from a GPU is not)',
      );
    }
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

  /** Frees the weights and the optimizer's state. Safe to call twice. */
  dispose(): void {
    this.#model.dispose();
  }

  /** `dispose()`, for `using model = ctx.softmaxRegression(...)`. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}
