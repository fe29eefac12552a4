import { checkArity } from '../check-options.js';
import type { Tensor } from '../tensor.js';
import type { WriteOnnxOptions as ExportOptions } from '../export/onnx.js';
import type { TfjsModelArtifacts } from '../export/tfjs.js';
import { evaluate } from './evaluation.js';
import { fit } from './fit.js';
import { fitDataset } from './fit-dataset.js';
import type { ExportFormat, Model } from './model.js';
import type { Dataset, Evaluation, FitDatasetOptions, FitOptions, History, PredictOptions, TopK } from './options.js';
import { predict } from './prediction.js';
import { trainStep } from './step.js';
import { ready } from './ready.js';
import { ValueError } from '../errors.js';
import { writeCheckpoint } from './checkpoint.js';

/** Each public model's state, for the library's own files (restore.ts): not reachable from the package. */
const models = new WeakMap<TrainableModel, Model>();

/** The state behind a public model. */
export function modelOf(model: TrainableModel): Model {
  return models.get(model)!;
}

/** A float32 tensor. @inline */
type F32 = Tensor<'float32'>;

/** Features: float32, or float16 (half the memory; each batch is widened to float32 as it is gathered). @inline */
type Features = Tensor<'float32'> | Tensor<'float16'>;

/**
 * What `SoftmaxRegression` and `Classifier` share: training, evaluation, prediction, export
 * and disposal, each the same for both over the `Model` each is made around. What differs (the
 * weights' shape in `getWeights` and `setWeights`, and the JSON) is theirs.
 */
export abstract class TrainableModel {
  /** Features per row, as made. */
  readonly features: number;
  /** Classes, as made. */
  readonly classes: number;
  readonly #model: Model;

  /** @internal */
  protected constructor(model: Model) {
    this.#model = model;
    models.set(this, model);
    this.features = model.features;
    this.classes = model.classes;
  }

  /**
   * One step on a batch: `x` `[B, features]` (float32 or float16), `y` int32 class ids `[B]` or float32 targets
   * `[B, classes]`. Returns the batch's loss (a scalar tensor) without reading it back; on
   * WebGPU the whole step is submitted at once when something is read or flushed.
   */
  trainStep(x: Features, y: Tensor): F32 {
    checkArity('trainStep', arguments.length, 2);
    return trainStep(this.#model, x, y);
  }

  /**
   * Trains for `epochs` passes over `x` and `y` in batches of `batchSize` (the last may be
   * smaller), reshuffled each epoch from the model's seed. Reads back once per epoch, for the
   * history and the callback, never once per batch. A second `fit` or `fitDataset` while one
   * runs is refused (`BusyError`); disposing the model stops the run, which rejects with a
   * `DisposedError`.
   */
  async fit(x: Features, y: Tensor, options: FitOptions = {}): Promise<History> {
    checkArity('fit', arguments.length, 3);
    return fit(this.#model, x, y, options);
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
  async fitDataset(dataset: Dataset, options: FitDatasetOptions = {}): Promise<History> {
    checkArity('fitDataset', arguments.length, 2);
    return fitDataset(this.#model, dataset, options);
  }

  /**
   * Readies every kernel a training step, `evaluate` and `predict` will use (on WebGPU: each
   * pipeline compiled with `createComputePipelineAsync` and self-checked, all at once), so the
   * first step does not stall on the compiler. `fit` does this itself before its first step
   * where the weights and optimizer state are at most 8 MiB; call it to pay that cost earlier,
   * say while the app loads its data. Rehearsed for batches of `batchSize` rows (default 32)
   * with class-id labels, on a twin of the model with state of its own (as much memory again,
   * for the call); the model is untouched.
   *
   * @example
   * const model = ctx.classifier({ features: 784, classes: 10, hidden: [100] });
   * await model.ready();
   * const loss = model.trainStep(x, y); // no compile wait
   */
  async ready(batchSize = 32): Promise<void> {
    checkArity('ready', arguments.length, 1);
    if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new ValueError(`ready: batchSize must be a positive integer, got ${String(batchSize)}`);
    await ready(this.#model, batchSize, false);
  }

  /**
   * Mean cross-entropy (with the model's label smoothing; class weights only weigh training)
   * and accuracy over a data set, in one read back.
   */
  async evaluate(x: Features, y: Tensor): Promise<Evaluation> {
    checkArity('evaluate', arguments.length, 2);
    return evaluate(this.#model, x, y);
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
  predict(x: Features): F32;
  predict(x: Features, options: PredictOptions): TopK;
  predict(x: Features, options?: PredictOptions): F32 | TopK {
    checkArity('predict', arguments.length, 2);
    return predict(this.#model, x, options);
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
  async export(format: ExportFormat, options: ExportOptions = {}): Promise<Uint8Array | TfjsModelArtifacts> {
    checkArity('export', arguments.length, 2);
    return this.#model.export(format, options);
  }

  /**
   * Everything training needs to go on exactly where it stands, as safetensors bytes: every
   * layer's weights, the optimizer's state (moments, momentum buffers, its step count), the
   * options, the epoch and batch reached, the learning-rate schedule's step and the shuffling
   * stream's state. `ctx.restore(bytes)` makes the model again, on any context and backend;
   * `fit` with `initialEpoch` then continues as if never stopped, bit for bit on the same
   * backend. Reads back the weights and the optimizer's state, nothing else. (`toJSON` holds
   * the weights only, for small models.)
   *
   * @example
   * const bytes = await model.checkpoint();
   * const again = await ctx.restore(bytes);
   * await again.fit(x, y, { epochs: 10, initialEpoch: 5 });
   */
  async checkpoint(): Promise<Uint8Array> {
    checkArity('checkpoint', arguments.length, 0);
    return writeCheckpoint(this.#model, 'checkpoint');
  }

  /** Frees the weights and the optimizer's state. Safe to call twice. */
  dispose(): void {
    this.#model.dispose();
  }

  /** `dispose()`, for `using model = ctx.softmaxRegression(...)` or `using head = ctx.classifier(...)`. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}
