import { checkKnownKeys } from '../check-options.js';
import { BusyError, DisposedError, ShapeError, ValueError, WebGPUSoftmaxError } from '../errors.js';
import { WRITE_ONNX_KEYS } from '../export/options.js';
import { internals, type TrainingContext } from '../internal.js';
import type { CrossEntropyOptions } from '../ops/cross-entropy.js';
import { planLinearCrossEntropy } from '../ops/linear-cross-entropy.js';
import { formatShape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { forward, backward, type Dense, type ForwardTape, type LayerWeights } from './layers.js';
import type { Activation } from './activations.js';
import type {
  Batch,
  Dataset,
  EarlyStoppingOptions,
  EpochLogs,
  Evaluation,
  FitDatasetOptions,
  FitOptions,
  History,
  PredictOptions,
} from './options.js';
import { createOptimizer, type Optimizer } from './optimizers.js';
import type { WriteOnnxOptions as ExportOptions } from '../export/onnx.js';
import type { TfjsModelArtifacts } from '../export/tfjs.js';
import { EarlyStopping } from './early-stopping.js';
import { Random } from './random.js';
import { checkBatchKeys, checkFitDatasetKeys, checkFitKeys, checkPredictKeys, type ResolvedOptions } from './resolve-options.js';
import { learningRateSchedule, type LearningRateSchedule } from './schedules.js';

type F32 = Tensor<'float32'>;

/** Logits evaluated at once, at most (16 MiB): `evaluate` works through larger sets in chunks. */
const EVALUATE_CHUNK_ELEMENTS = 2 ** 22;

/**
 * A training step whose batch logits `[B, classes]` would take more bytes than this (or than
 * the device binds) runs through the fused `linearCrossEntropy`, which forms them a chunk of
 * rows at a time, so any number of classes trains.
 */
export const FUSED_STEP_LOGITS_BYTES = 32 * 2 ** 20;

/** The most classes `predict(x, { topK })` returns per row. */
export const MAX_TOP_K = 128;

/** `fit` lets the event loop run at least this often, so a page can repaint and handle input. */
export const YIELD_EVERY_MS = 50;

/** A macrotask: awaiting promises alone never lets a browser render or handle events. */
function nextTask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** The formats a model exports to: ONNX and safetensors as bytes, TF.js as `ModelArtifacts`. */
export type ExportFormat = 'onnx' | 'safetensors' | 'tfjs';

/** What a model is made of: its layers' sizes, the activation between them, and where its first weights come from. */
export interface ModelShape {
  readonly hidden: readonly number[];
  readonly activation: Activation;
  /** The initial weights of each layer, drawn from the model's random stream (which then shuffles `fit`'s batches). */
  readonly init: (random: Random) => LayerWeights[];
}

/**
 * A stack of dense layers, `softmax(act(act(x W0 + b0) W1 + b1) … Wn + bn)`, trained with
 * cross-entropy: the one training loop behind `SoftmaxRegression` (no hidden layer) and
 * `Classifier`. Every step runs on the context's backend: on WebGPU the forward pass, the
 * fused loss and gradient, the backward pass and the optimizer update are one submit, with
 * nothing read back.
 */
export class Model {
  readonly features: number;
  readonly classes: number;
  readonly hidden: readonly number[];
  readonly activation: Activation;
  readonly #ctx: TrainingContext;
  readonly #options: ResolvedOptions;
  readonly #optimizer: Optimizer;
  readonly #classWeights: F32 | null;
  readonly #random: Random;
  readonly #layers: Dense[];
  /** The weights as last read or set, while nothing has changed them on the device since. */
  #host: LayerWeights[] | null = null;
  /** Counts changes to the weights, so a read that finishes after a change is not kept. */
  #version = 0;
  #disposed = false;
  /** The `fit` or `fitDataset` running now, if any: a model trains one run at a time. */
  #training: string | null = null;

  constructor(ctx: TrainingContext, o: ResolvedOptions, shape: ModelShape) {
    this.#ctx = ctx;
    this.#options = o;
    this.features = o.features;
    this.classes = o.classes;
    this.hidden = [...shape.hidden];
    this.activation = shape.activation;
    this.#random = new Random(o.seed);
    const initial = shape.init(this.#random);
    const sizes = [o.features, ...shape.hidden, o.classes];
    this.#layers = initial.map(({ weight, bias }, i) => ({
      inSize: sizes[i]!,
      outSize: sizes[i + 1]!,
      weight: ctx.tensor(weight, [sizes[i]!, sizes[i + 1]!]),
      bias: ctx.tensor(bias, [sizes[i + 1]!]),
    }));
    this.#host = initial.map(({ weight, bias }) => ({ weight: weight.slice(), bias: bias.slice() }));
    this.#classWeights = o.classWeights === null ? null : ctx.tensor(o.classWeights, [o.classes]);
    this.#optimizer = createOptimizer(ctx, o.optimizer);
  }

  /** The options the model was made with, resolved. */
  get options(): ResolvedOptions {
    return this.#options;
  }

  /** The last layer: the one that makes the logits. */
  get #last(): Dense {
    return this.#layers[this.#layers.length - 1]!;
  }

  /** The logits of `x`, intermediates freed. */
  #logits(x: F32): F32 {
    return forward(this.#ctx, this.#layers, this.activation, x, null);
  }

  /**
   * One step on a batch: `x` `[B, features]`, `y` int32 class ids `[B]` or float32 targets
   * `[B, classes]`. Returns the batch's loss (a scalar tensor) without reading it back; on
   * WebGPU the whole step is submitted at once when something is read or flushed.
   */
  trainStep(x: F32, y: Tensor): F32 {
    this.#checkBatch('trainStep', x, y);
    return this.#step(x, y, null);
  }

  /**
   * Trains for `epochs` passes over `x` and `y` in batches of `batchSize` (the last may be
   * smaller), reshuffled each epoch from the model's seed. Reads back once per epoch, for the
   * history and the callback, never once per batch.
   */
  async fit(x: F32, y: Tensor, options: FitOptions = {}): Promise<History> {
    checkFitKeys(options);
    const rows = this.#checkBatch('fit', x, y);
    const epochs = options.epochs ?? 1;
    const batchSize = options.batchSize ?? 32;
    for (const [name, value] of [['epochs', epochs], ['batchSize', batchSize]] as const) {
      if (!Number.isSafeInteger(value) || value < 1) throw new ValueError(`fit: ${name} must be a positive integer, got ${value}`);
    }
    const validation = options.validationData;
    if (validation !== undefined) this.#checkBatch('fit (validationData)', validation[0], validation[1]);
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
    const stopper = this.#earlyStopping('fit', options.earlyStopping, validation !== undefined || split !== undefined, 'validationData or validationSplit');
    const rateAt = this.#schedule('fit', options.learningRate, epochs * Math.ceil(trainRows / batchSize));
    options.signal?.throwIfAborted();
    return this.#exclusive('fit', () => this.#fit(x, y, rows, trainRows, epochs, batchSize, stopper, rateAt, options));
  }

  async #fit(
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
    // The held-out rows are the last ones, as Keras's validation_split takes them.
    const held = rows === allRows ? null : ([this.#rows(x, null, rows, allRows - rows), this.#rows(y, null, rows, allRows - rows)] as const);
    try {
      return await this.#fitRows(x, y, rows, epochs, batchSize, stopper, rateAt, options.validationData ?? held ?? undefined, options);
    } finally {
      held?.[0].dispose();
      held?.[1].dispose();
    }
  }

  async #fitRows(
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
    const ctx = this.#ctx;
    const batches = Math.ceil(rows / batchSize);
    let best: LayerWeights[] | null = null;
    const history: History = { loss: [], accuracy: [], valLoss: [], valAccuracy: [] };
    let yielded = performance.now();
    for (let epoch = 0; epoch < epochs; epoch++) {
      const started = performance.now();
      const order = options.shuffle === false ? null : ctx.tensor(this.#random.permutation(rows));
      const metrics = ctx.tensor(new Float32Array(4));
      let figures: Float32Array;
      try {
        for (let batch = 0; batch < batches; batch++) {
          this.#stillAlive('fit');
          options.signal?.throwIfAborted();
          const start = batch * batchSize;
          const count = Math.min(batchSize, rows - start);
          const xb = this.#rows(x, order, start, count);
          const yb = this.#rows(y, order, start, count);
          try {
            this.#optimizer.setLearningRate(rateAt(epoch * batches + batch));
            this.#step(xb, yb, metrics).dispose();
          } finally {
            xb.dispose();
            yb.dispose();
          }
          // One submit per step keeps the device busy while the next step is recorded.
          await ctx.flush();
          options.onBatchEnd?.({ epoch, batch, batches });
          if (performance.now() - yielded > YIELD_EVERY_MS) {
            await nextTask();
            yielded = performance.now();
          }
        }
        this.#stillAlive('fit');
        figures = await metrics.read();
      } finally {
        order?.dispose();
        metrics.dispose();
      }
      const scores = await this.#endEpoch('fit', epoch, started, figures, validation === undefined ? null : () => this.evaluate(validation[0], validation[1]), history, options.onEpochEnd);
      const verdict = await this.#judge('fit', stopper, epoch, scores);
      if (verdict.best !== null) best = verdict.best;
      if (verdict.stop) break;
    }
    if (best !== null) this.setLayers('fit', best, (l, field) => `layers[${l}].${field}`);
    await this.#settle('fit');
    return history;
  }

  /** The early-stopping rule of a run, checked before any work; null without one. */
  #earlyStopping(where: string, options: EarlyStoppingOptions | undefined, validated: boolean, needs: string): EarlyStopping | null {
    if (options === undefined) return null;
    const stopper = new EarlyStopping(where, options);
    if (!validated) throw new ValueError(`${where}: earlyStopping needs ${needs} to monitor ${stopper.monitor}`);
    return stopper;
  }

  /**
   * An epoch's verdict under early stopping: whether to stop, and the weights to keep as the
   * best so far (read back only when they are to be restored).
   */
  async #judge(where: string, stopper: EarlyStopping | null, epoch: number, scores: Evaluation | null): Promise<{ stop: boolean; best: LayerWeights[] | null }> {
    if (stopper === null || scores === null) return { stop: false, best: null };
    const { improved, stop } = stopper.update(epoch, scores);
    const best = improved && stopper.restoreBestWeights ? await this.getLayers(where) : null;
    this.#stillAlive(where);
    return { stop, best };
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
    checkFitDatasetKeys(options);
    this.#alive('fitDataset');
    const epochs = options.epochs ?? 1;
    if (!Number.isSafeInteger(epochs) || epochs < 1) throw new ValueError(`fitDataset: epochs must be a positive integer, got ${epochs}`);
    const validation = options.validationData;
    const pair = Array.isArray(validation) && validation.length === 2 && validation[0] instanceof Tensor;
    if (pair) this.#checkBatch('fitDataset (validationData)', validation[0] as F32, validation[1] as Tensor);
    else if (validation !== undefined) openBatches('fitDataset (validationData)', validation as Dataset, 0, true);
    openBatches('fitDataset', dataset, 0, true);
    const stopper = this.#earlyStopping('fitDataset', options.earlyStopping, validation !== undefined, 'validationData');
    // A stream's length is unknown: a cosine schedule must say its totalSteps.
    const rateAt = this.#schedule('fitDataset', options.learningRate, undefined);
    return this.#exclusive('fitDataset', () => this.#fitDataset(dataset, epochs, pair, stopper, rateAt, options));
  }

  async #fitDataset(
    dataset: Dataset,
    epochs: number,
    pair: boolean,
    stopper: EarlyStopping | null,
    rateAt: (step: number) => number,
    options: FitDatasetOptions,
  ): Promise<History> {
    const validation = options.validationData;
    let steps = 0;
    let best: LayerWeights[] | null = null;
    const ctx = this.#ctx;
    const history: History = { loss: [], accuracy: [], valLoss: [], valAccuracy: [] };
    let yielded = performance.now();
    for (let epoch = 0; epoch < epochs; epoch++) {
      const started = performance.now();
      const metrics = ctx.tensor(new Float32Array(4));
      let figures: Float32Array;
      try {
        await this.#walk('fitDataset', dataset, epoch, options.signal, async (x, y, batch) => {
          this.#stillAlive('fitDataset');
          this.#optimizer.setLearningRate(rateAt(steps++));
          this.#step(x, y, metrics).dispose();
          // One submit per step: the device trains on it while the next batch is made and uploaded.
          await ctx.flush();
          options.onBatchEnd?.({ epoch, batch, rows: x.shape[0]! });
          if (performance.now() - yielded > YIELD_EVERY_MS) {
            await nextTask();
            yielded = performance.now();
          }
        });
        this.#stillAlive('fitDataset');
        figures = await metrics.read();
      } finally {
        metrics.dispose();
      }
      const evaluate =
        validation === undefined ? null
        : pair ? () => this.evaluate(...(validation as readonly [F32, Tensor]))
        : () => this.#evaluateDataset(validation as Dataset, epoch, options.signal);
      const scores = await this.#endEpoch('fitDataset', epoch, started, figures, evaluate, history, options.onEpochEnd);
      const verdict = await this.#judge('fitDataset', stopper, epoch, scores);
      if (verdict.best !== null) best = verdict.best;
      if (verdict.stop) break;
    }
    if (best !== null) this.setLayers('fitDataset', best, (l, field) => `layers[${l}].${field}`);
    await this.#settle('fitDataset');
    return history;
  }

  /** Runs `run` as the model's only training run: a second one while it goes on is refused. */
  async #exclusive<T>(where: string, run: () => Promise<T>): Promise<T> {
    if (this.#training !== null) {
      throw new BusyError(
        `${where}: the model is already training (a ${this.#training} has not finished); await it, or stop it with its signal, before starting another`,
      );
    }
    this.#training = where;
    try {
      return await run();
    } finally {
      this.#training = null;
      // However the run ended (done, stopped early, aborted, disposed), the rate is the optimizer's own again.
      this.#optimizer.setLearningRate(this.#optimizer.options.learningRate);
    }
  }

  /** The rate of each step of a run: the schedule's, checked now, or the optimizer's own. */
  #schedule(where: string, schedule: LearningRateSchedule | undefined, totalSteps: number | undefined): (step: number) => number {
    const baseRate = this.#optimizer.options.learningRate;
    return schedule === undefined ? () => baseRate : learningRateSchedule(schedule, { baseRate, totalSteps, where });
  }

  /** After any wait inside a training run: the app may have disposed the model meanwhile. */
  #stillAlive(where: string): void {
    if (this.#disposed) throw new DisposedError(`${where}: the model was disposed during training`);
  }

  /** The end of a training run: the weights read back, so `toJSON` works at once. */
  async #settle(where: string): Promise<void> {
    this.#stillAlive(where);
    await this.getLayers(where);
    this.#stillAlive(where);
  }

  async #endEpoch(
    where: string,
    epoch: number,
    started: number,
    figures: Float32Array,
    evaluate: (() => Promise<Evaluation>) | null,
    history: History,
    onEpochEnd: ((logs: EpochLogs) => void | Promise<void>) | undefined,
  ): Promise<Evaluation | null> {
    const [lossSum, correct, counted, seen] = figures as unknown as [number, number, number, number];
    this.#stillAlive(where);
    const scores = evaluate === null ? null : await evaluate();
    this.#stillAlive(where);
    const logs = {
      epoch,
      loss: lossSum / seen,
      accuracy: correct / counted,
      ...(scores === null ? {} : { valLoss: scores.loss, valAccuracy: scores.accuracy }),
      seconds: (performance.now() - started) / 1000,
    };
    history.loss.push(logs.loss);
    history.accuracy.push(logs.accuracy);
    if (scores !== null) {
      history.valLoss.push(scores.loss);
      history.valAccuracy.push(scores.accuracy);
    }
    await onEpochEnd?.(logs);
    this.#stillAlive(where);
    return scores;
  }

  /** `evaluate` over a stream of batches, with one read back at the end. */
  async #evaluateDataset(dataset: Dataset, epoch: number, signal: AbortSignal | undefined): Promise<Evaluation> {
    const ctx = this.#ctx;
    const metrics = ctx.tensor(new Float32Array(4));
    try {
      await this.#walk('fitDataset (validationData)', dataset, epoch, signal, async (x, y) => {
        this.#stillAlive('fitDataset');
        this.#score(x, y, metrics);
        await ctx.flush();
      });
      const [lossSum, correct, counted] = await metrics.read();
      return { loss: lossSum! / counted!, accuracy: correct! / counted! };
    } finally {
      metrics.dispose();
    }
  }

  /**
   * Walks one epoch of `dataset`: each batch checked and made into tensors (uploads where it
   * holds arrays), handed to `visit`, then released. Closes the iterator however the walk ends.
   */
  async #walk(
    where: string,
    dataset: Dataset,
    epoch: number,
    signal: AbortSignal | undefined,
    visit: (x: F32, y: Tensor, batch: number) => Promise<void>,
  ): Promise<void> {
    const iterator = openBatches(where, dataset, epoch, false)!;
    let finished = false;
    try {
      for (let batch = 0; ; batch++) {
        signal?.throwIfAborted();
        const next = await iterator.next();
        if (next.done === true) {
          finished = true;
          if (batch === 0) {
            const hint = epoch > 0 ? ' (a generator object runs once: pass the generator function, which is called each epoch)' : '';
            throw new ValueError(`${where}: the dataset yielded no batches in epoch ${epoch}${hint}`);
          }
          return;
        }
        signal?.throwIfAborted();
        const { x, y, owned } = this.#batchTensors(`${where}: batch ${batch} of epoch ${epoch}`, next.value);
        try {
          await visit(x, y, batch);
        } finally {
          for (const t of owned) t.dispose();
        }
      }
    } finally {
      if (!finished) await iterator.return?.();
    }
  }

  /** Checks one batch and makes tensors of its arrays; `owned` are the ones made here. */
  #batchTensors(where: string, batch: unknown): { x: F32; y: Tensor; owned: Tensor[] } {
    if (typeof batch !== 'object' || batch === null || !('x' in batch) || !('y' in batch)) {
      throw new ValueError(`${where}: expected { x, y }, got ${describe(batch)}`);
    }
    checkBatchKeys(where, batch);
    const { x, y } = batch as Batch;
    const { features, classes } = this;
    let rows: number;
    if (x instanceof Float32Array) {
      rows = x.length / features;
      if (!Number.isInteger(rows) || rows === 0) {
        throw new ShapeError(`${where}: x holds ${x.length} values, not a positive multiple of the model's ${features} features`);
      }
    } else if (x instanceof Tensor) {
      rows = this.#checkFeatures(where, x);
    } else {
      throw new ValueError(`${where}: x must be a Float32Array or a float32 tensor, got ${describe(x)}`);
    }
    if (y instanceof Int32Array || (y instanceof Tensor && y.dtype === 'int32')) {
      const labels = y instanceof Int32Array ? y : this.#ctx[internals].labels(y);
      const length = y instanceof Int32Array ? y.length : y.shape.length === 1 ? y.shape[0] : -1;
      if (length !== rows) throw new ShapeError(`${where}: y must hold ${rows} class ids, one per row of x, got ${describe(y)}${y instanceof Int32Array ? ` of ${y.length}` : ''}`);
      if (labels !== null) {
        const bad = labels.findIndex((v) => (v < 0 || v >= classes) && v !== IGNORE_INDEX);
        if (bad >= 0) throw new ValueError(`${where}: y[${bad}] = ${labels[bad]} is outside [0, ${classes})`);
      }
    } else if (y instanceof Float32Array) {
      if (y.length !== rows * classes) {
        throw new ShapeError(`${where}: probability targets must hold ${rows} x ${classes} values, got ${y.length}`);
      }
    } else if (y instanceof Tensor) {
      if (y.shape.length !== 2 || y.shape[0] !== rows || y.shape[1] !== classes) {
        throw new ShapeError(`${where}: y must be int32 [${rows}] or float32 [${rows}, ${classes}], got ${describe(y)}`);
      }
    } else {
      throw new ValueError(`${where}: y must be an Int32Array, a Float32Array or a tensor, got ${describe(y)}`);
    }
    const owned: Tensor[] = [];
    const xt = x instanceof Tensor ? x : this.#ctx.tensor(x, [rows, features]);
    if (!(x instanceof Tensor)) owned.push(xt);
    let yt: Tensor;
    if (y instanceof Tensor) yt = y;
    else {
      yt = y instanceof Int32Array ? this.#ctx.tensor(y) : this.#ctx.tensor(y, [rows, classes]);
      owned.push(yt);
    }
    return { x: xt, y: yt, owned };
  }


  /**
   * Mean cross-entropy (with the model's label smoothing; class weights only weigh training)
   * and accuracy over a data set, in one read back.
   */
  async evaluate(x: F32, y: Tensor): Promise<Evaluation> {
    this.#checkBatch('evaluate', x, y);
    const metrics = this.#ctx.tensor(new Float32Array(4));
    try {
      this.#score(x, y, metrics);
      const [lossSum, correct, counted] = await metrics.read();
      return { loss: lossSum! / counted!, accuracy: correct! / counted! };
    } finally {
      metrics.dispose();
    }
  }

  /**
   * Adds the summed loss and the accuracy counts of `x` and `y` to `metrics`, a chunk of rows
   * at a time, so the logits held stay within EVALUATE_CHUNK_ELEMENTS whatever the rows.
   */
  #score(x: F32, y: Tensor, metrics: F32): void {
    const ctx = this.#ctx;
    const rows = x.shape[0]!;
    const chunk = Math.max(1, Math.floor(EVALUATE_CHUNK_ELEMENTS / this.classes));
    for (let start = 0; start < rows; start += chunk) {
      const whole = start === 0 && chunk >= rows;
      const count = Math.min(chunk, rows - start);
      const xb = whole ? x : this.#rows(x, null, start, count);
      const yb = whole ? y : this.#rows(y, null, start, count);
      const z = this.#logits(xb);
      const loss = ctx.crossEntropy(z, yb, { reduction: 'sum', labelSmoothing: this.#options.labelSmoothing });
      this.#accumulate(z, yb, loss, metrics, 1);
      for (const t of whole ? [z, loss] : [z, loss, xb, yb]) t.dispose();
    }
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
  predict(x: F32, options: PredictOptions): { indices: Tensor<'int32'>; values: F32 };
  predict(x: F32, options?: PredictOptions): F32 | { indices: Tensor<'int32'>; values: F32 } {
    this.#alive('predict');
    checkPredictKeys(options);
    const rows = this.#checkFeatures('predict', x);
    if (options !== undefined) return this.#topK(x, rows, options);
    const z = this.#logits(x);
    const p = this.#ctx.softmax(z);
    z.dispose();
    return p;
  }

  #topK(x: F32, rows: number, options: PredictOptions): { indices: Tensor<'int32'>; values: F32 } {
    const k = options?.topK;
    if (!Number.isSafeInteger(k) || k < 1 || k > Math.min(this.classes, MAX_TOP_K)) {
      throw new ValueError(`predict: topK must be an integer in [1, ${Math.min(this.classes, MAX_TOP_K)}] (classes, at most ${MAX_TOP_K}), got ${k}`);
    }
    const ctx = this.#ctx;
    const access = ctx[internals];
    const indices = ctx.tensor(new Int32Array(rows * k), [rows, k]);
    const values = ctx.tensor(new Float32Array(rows * k), [rows, k]);
    const chunk = Math.max(1, Math.floor(EVALUATE_CHUNK_ELEMENTS / this.classes));
    for (let start = 0; start < rows; start += chunk) {
      const whole = start === 0 && chunk >= rows;
      const count = Math.min(chunk, rows - start);
      const xb = whole ? x : this.#rows(x, null, start, count);
      const z = this.#logits(xb);
      access.backend().topK(
        access.storage(z, 'predict', 'z'),
        access.storage(indices, 'predict', 'indices'),
        access.storage(values, 'predict', 'values'),
        { rows: count, cols: this.classes, k, firstRow: start },
      );
      z.dispose();
      if (!whole) xb.dispose();
    }
    return { indices, values };
  }

  /** Copies of each layer's weights (row-major `[in, out]`) and bias, first layer first. */
  async getLayers(where = 'getWeights'): Promise<LayerWeights[]> {
    this.#alive(where);
    const version = this.#version;
    // Every read starts now, so a dispose right after this call does not cut it short.
    const values = await Promise.all(this.#layers.flatMap((l) => [l.weight.read(), l.bias.read()]));
    const read = this.#layers.map((_, i) => ({ weight: values[2 * i] as Float32Array, bias: values[2 * i + 1] as Float32Array }));
    if (version === this.#version) this.#host = read;
    return read.map(({ weight, bias }) => ({ weight: weight.slice(), bias: bias.slice() }));
  }

  /**
   * Replaces every layer's weights, checked whole before any is replaced; steps queued before
   * this call still apply to the old ones. `name(i)` names layer i's arrays in errors.
   */
  setLayers(where: string, layers: readonly LayerWeights[], name: (layer: number, field: 'weight' | 'bias') => string): void {
    this.#alive(where);
    if (!Array.isArray(layers) || layers.length !== this.#layers.length) {
      throw new ShapeError(`${where}: expected ${this.#layers.length} layers, got ${Array.isArray(layers) ? layers.length : typeof layers}`);
    }
    this.#layers.forEach(({ inSize, outSize }, i) => {
      const { weight, bias } = layers[i] ?? ({} as Partial<LayerWeights>);
      if (!(weight instanceof Float32Array) || weight.length !== inSize * outSize) {
        throw new ShapeError(`${where}: ${name(i, 'weight')} must be a Float32Array of ${inSize * outSize} values ([${inSize}, ${outSize}]), got ${describe(weight)}${weight instanceof Float32Array ? ` of ${weight.length}` : ''}`);
      }
      if (!(bias instanceof Float32Array) || bias.length !== outSize) {
        throw new ShapeError(`${where}: ${name(i, 'bias')} must be a Float32Array of ${outSize} values, got ${describe(bias)}${bias instanceof Float32Array ? ` of ${bias.length}` : ''}`);
      }
    });
    // New tensors rather than writes into the old ones: a write would land before steps
    // that are queued but not yet submitted.
    this.#layers.forEach((layer, i) => {
      const { weight, bias } = layers[i]!;
      layer.weight.dispose();
      layer.bias.dispose();
      layer.weight = this.#ctx.tensor(weight, [layer.inSize, layer.outSize]);
      layer.bias = this.#ctx.tensor(bias, [layer.outSize]);
    });
    this.#version++;
    this.#host = layers.map(({ weight, bias }) => ({ weight: weight.slice(), bias: bias.slice() }));
  }

  /**
   * The model in an export format: ONNX or safetensors bytes, or TF.js `ModelArtifacts`. Each
   * writer (ONNX's with its protobuf encoder) loads on first use, so apps that never export
   * do not carry them.
   */
  async export(format: ExportFormat, options: ExportOptions = {}): Promise<Uint8Array | TfjsModelArtifacts> {
    this.#alive('export');
    if (format !== 'onnx' && format !== 'safetensors' && format !== 'tfjs') {
      throw new ValueError(`export: format must be 'onnx', 'safetensors' or 'tfjs', got ${JSON.stringify(format)}`);
    }
    checkKnownKeys(`export('${format}')`, options, format === 'onnx' ? WRITE_ONNX_KEYS : []);
    const layers = await this.getLayers('export');
    const desc = { features: this.features, classes: this.classes, hidden: this.hidden, activation: this.activation, layers };
    if (format === 'onnx') return (await import('../export/onnx.js')).writeOnnx(desc, options);
    if (format === 'safetensors') return (await import('../export/safetensors.js')).writeSafetensors(desc);
    return (await import('../export/tfjs.js')).writeTfjs(desc);
  }

  /**
   * The weights on the host, without a wait: always so on the CPU, and on WebGPU after `fit`,
   * `getWeights` or `setWeights`; null after a bare `trainStep` on WebGPU.
   */
  hostLayers(where: string): LayerWeights[] | null {
    this.#alive(where);
    return this.#host ?? this.#peek();
  }

  /** Frees the weights and the optimizer's state. Safe to call twice. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const { weight, bias } of this.#layers) {
      weight.dispose();
      bias.dispose();
    }
    this.#classWeights?.dispose();
    this.#optimizer.dispose();
  }

  #lossOptions(): CrossEntropyOptions<F32> {
    return {
      labelSmoothing: this.#options.labelSmoothing,
      ...(this.#classWeights === null ? {} : { classWeights: this.#classWeights }),
    };
  }

  /** Forward, fused loss and gradient, the backward pass and the update; `metrics` gathers figures for `fit`. */
  #step(x: F32, y: Tensor, metrics: F32 | null): F32 {
    const ctx = this.#ctx;
    const tape: ForwardTape = { inputs: [], preActivations: [] };
    try {
      const limit = ctx[internals].backend().tensorByteLimit?.bytes ?? Infinity;
      if (x.shape[0]! * this.classes * 4 > Math.min(FUSED_STEP_LOGITS_BYTES, limit)) {
        let h = x;
        if (this.#layers.length > 1) {
          // The hidden layers' output is the fused step's input; the tape keeps it for the backward pass.
          h = forward(ctx, this.#layers.slice(0, -1), this.activation, x, tape, true);
          tape.inputs.push(h);
        }
        return this.#fusedStep(h, y, metrics, tape);
      }
      const z = forward(ctx, this.#layers, this.activation, x, tape);
      const { loss, grad } = ctx.crossEntropyWithGrad(z, y, this.#lossOptions());
      if (metrics !== null) this.#accumulate(z, y, loss, metrics, x.shape[0]!);
      z.dispose();
      const grads = backward(ctx, this.#layers, this.activation, tape, grad, null);
      this.#update(grads);
      grad.dispose();
      return loss;
    } finally {
      for (const t of tape.inputs) if (t !== x) t.dispose();
      for (const t of tape.preActivations) t.dispose();
    }
  }

  /** Applies the optimizer to every parameter, `[weight0, bias0, weight1, …]`, and frees the gradients. */
  #update(grads: F32[]): void {
    this.#optimizer.step(this.#layers.flatMap((l, i) => [
      { param: l.weight, grad: grads[2 * i]! },
      { param: l.bias, grad: grads[2 * i + 1]! },
    ]));
    for (const g of grads) g.dispose();
    this.#version++;
    this.#host = null;
  }

  /**
   * `#step` through `linearCrossEntropy` for the last layer: the batch's logits are never whole.
   * `h` is the last layer's input; gradX, the gradient at it, is formed only below hidden layers.
   */
  #fusedStep(h: F32, y: Tensor, metrics: F32 | null, tape: ForwardTape): F32 {
    const access = this.#ctx[internals];
    const where = 'trainStep';
    const options = this.#lossOptions();
    const classWeights = this.#classWeights;
    const last = this.#last;
    const deep = this.#layers.length > 1;
    const { plan } = planLinearCrossEntropy(where, h, last.weight, [this.classes], y, access.labels(y), classWeights?.shape ?? null, options, true);
    const storage = (t: Tensor, name: string) => access.storage(t, where, name);
    const result = access.backend().linearCrossEntropy(
      storage(h, 'x'),
      storage(last.weight, 'weights'),
      storage(last.bias, 'bias'),
      storage(y, 'y'),
      classWeights === null ? null : storage(classWeights, 'classWeights'),
      metrics === null ? null : storage(metrics, 'metrics'),
      { ...plan, withGradX: deep, metricsLossScale: h.shape[0]! },
    );
    const loss = access.adopt(result.loss, [], 'float32');
    const dw = access.adopt(result.gradWeight!, [last.inSize, this.classes], 'float32');
    const db = access.adopt(result.gradBias!, [this.classes], 'float32');
    if (!deep) {
      this.#update([dw, db]);
      return loss;
    }
    const dh = access.adopt(result.gradX!, h.shape, 'float32');
    const grads = backward(this.#ctx, this.#layers, this.activation, tape, dh, [dw, db]);
    dh.dispose();
    this.#update(grads);
    return loss;
  }

  #accumulate(z: F32, y: Tensor, loss: F32, metrics: F32, lossScale: number): void {
    const access = this.#ctx[internals];
    access.backend().accumulateMetrics(
      access.storage(z, 'metrics', 'z'),
      access.storage(y, 'metrics', 'y'),
      access.storage(loss, 'metrics', 'loss'),
      access.storage(metrics, 'metrics', 'metrics'),
      {
        rows: z.shape[0]!,
        classes: this.classes,
        target: y.dtype === 'int32' ? 'index' : 'probs',
        ignoreIndex: -100,
        lossScale,
      },
    );
  }

  /** `count` rows of `t` from `start`, in `order` when given (a device-side gather). */
  #rows<D extends Tensor['dtype']>(t: Tensor<D>, order: Tensor<'int32'> | null, start: number, count: number): Tensor<D> {
    const access = this.#ctx[internals];
    const cols = t.shape.length === 2 ? t.shape[1]! : 1;
    const storage = access
      .backend()
      .gatherRows(access.storage(t, 'gatherRows', 't'), order === null ? null : access.storage(order, 'gatherRows', 'order'), {
        rows: count,
        cols,
        start,
      });
    return access.adopt(storage, [count, ...t.shape.slice(1)], t.dtype);
  }

  #peek(): LayerWeights[] | null {
    const access = this.#ctx[internals];
    const host: LayerWeights[] = [];
    for (const layer of this.#layers) {
      const weight = access.backend().peek(access.storage(layer.weight, 'toJSON', 'weights'));
      const bias = access.backend().peek(access.storage(layer.bias, 'toJSON', 'bias'));
      if (!(weight instanceof Float32Array && bias instanceof Float32Array)) return null;
      host.push({ weight, bias });
    }
    return host;
  }

  #alive(where: string): void {
    if (this.#disposed) throw new DisposedError(`${where}: the model was disposed`);
  }

  #checkFeatures(where: string, x: F32): number {
    if (!(x instanceof Tensor) || x.dtype !== 'float32' || x.shape.length !== 2 || x.shape[1] !== this.features) {
      throw new ShapeError(`${where}: x must be float32 [N, ${this.features}], got ${describe(x)}`);
    }
    return x.shape[0]!;
  }

  /** Checks features and targets of the same N >= 1 rows; returns N. */
  #checkBatch(where: string, x: F32, y: Tensor): number {
    this.#alive(where);
    const rows = this.#checkFeatures(where, x);
    const ids = y instanceof Tensor && y.dtype === 'int32' && y.shape.length === 1 && y.shape[0] === rows;
    const probs = y instanceof Tensor && y.dtype === 'float32' && y.shape.length === 2 && y.shape[0] === rows && y.shape[1] === this.classes;
    if (!ids && !probs) {
      throw new ShapeError(`${where}: y must be int32 [${rows}] or float32 [${rows}, ${this.classes}] for x ${formatShape(x.shape)}, got ${describe(y)}`);
    }
    if (rows === 0) throw new ShapeError(`${where}: x holds no rows`);
    return rows;
  }
}

/** Class ids equal to this count for nothing, as in `crossEntropy`'s default. */
const IGNORE_INDEX = -100;

type BatchIterator = Iterator<Batch> | AsyncIterator<Batch>;

/**
 * A new iterator over `dataset` for one epoch (null with `check`, which only proves that one
 * can be had without starting a function's work).
 */
function openBatches(where: string, dataset: Dataset, epoch: number, check: boolean): BatchIterator | null {
  const bad = (what: unknown) =>
    new ValueError(
      `${where}: the dataset must be an array, an iterable or async iterable of { x, y } batches, or a function returning one; ` +
        `got ${describe(what)}${epoch > 0 ? ` in epoch ${epoch}` : ''}`,
    );
  if (typeof dataset === 'function') {
    if (check) return null;
    const source: unknown = dataset();
    if (!isSource(source)) throw bad(source);
    return iteratorOf(source);
  }
  if (!isSource(dataset)) throw bad(dataset);
  return check ? null : iteratorOf(dataset);
}

function isSource(value: unknown): value is Iterable<Batch> | AsyncIterable<Batch> {
  if (typeof value !== 'object' || value === null) return false;
  return typeof (value as Partial<AsyncIterable<Batch>>)[Symbol.asyncIterator] === 'function' ||
    typeof (value as Partial<Iterable<Batch>>)[Symbol.iterator] === 'function';
}

function iteratorOf(source: Iterable<Batch> | AsyncIterable<Batch>): BatchIterator {
  const async = (source as Partial<AsyncIterable<Batch>>)[Symbol.asyncIterator];
  return typeof async === 'function' ? async.call(source) : (source as Iterable<Batch>)[Symbol.iterator]();
}

function describe(t: unknown): string {
  if (t instanceof Tensor || t === null || t === undefined) return String(t);
  if (typeof t !== 'object' && typeof t !== 'function') return typeof t;
  return (t as object).constructor?.name ?? typeof t;
}
