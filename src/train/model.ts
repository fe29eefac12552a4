import type { Features } from './batch-ops.js';
import { checkKnownKeys } from '../check-options.js';
import { WRITE_ONNX_KEYS } from '../export/options.js';
import { BusyError, DisposedError, ShapeError, ValueError, WebGPUSoftmaxError } from '../errors.js';
import { internals, type TrainingContext } from '../internal.js';
import { formatShape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { forward, type Dense, type LayerWeights } from './layers.js';
import type { Activation } from './activations.js';
import { createOptimizer, type Optimizer } from './optimizers.js';
import type { WriteOnnxOptions as ExportOptions } from '../export/onnx.js';
import type { TfjsModelArtifacts } from '../export/tfjs.js';
import { Random } from './random.js';
import type { ResolvedOptions } from './resolve-options.js';

type F32 = Tensor<'float32'>;

/** The formats a model exports to: ONNX and safetensors as bytes, TF.js as `ModelArtifacts`. */
export type ExportFormat = 'onnx' | 'safetensors' | 'tfjs';

/** Which public class a model is: what a checkpoint restores it as. */
export type ModelKind = 'softmax-regression' | 'classifier';

/**
 * Where training got to, as a checkpoint saves it: the next epoch and the batch within it to
 * run, the optimizer steps the run's schedule has counted, and the random stream's state at
 * the start of that epoch (before its shuffle was drawn), so that resuming there draws the
 * same order.
 */
export interface Progress {
  epoch: number;
  batch: number;
  step: number;
  random: number;
}

/** What a model is made of: its layers' sizes, the activation between them, and where its first weights come from. */
export interface ModelShape {
  readonly kind: ModelKind;
  readonly hidden: readonly number[];
  readonly activation: Activation;
  /** The initial weights of each layer, drawn from the model's random stream (which then shuffles `fit`'s batches). */
  readonly init: (random: Random) => LayerWeights[];
}

/**
 * A stack of dense layers, `softmax(act(act(x W0 + b0) W1 + b1) … Wn + bn)`, trained with
 * cross-entropy: the state behind `SoftmaxRegression` (no hidden layer) and `Classifier`. It
 * holds the weights on the device, the optimizer and the random stream, and says whether the
 * model may be used now. The work on it lives beside it: step.ts (one training step), fit.ts
 * and fit-dataset.ts (the loops, through training-run.ts's epochs), evaluation.ts and
 * prediction.ts. Every step runs on the context's backend: on WebGPU the forward pass, the
 * fused loss and gradient, the backward pass and the optimizer update are one submit, with
 * nothing read back.
 */
export class Model {
  readonly kind: ModelKind;
  readonly features: number;
  readonly classes: number;
  readonly hidden: readonly number[];
  readonly activation: Activation;
  readonly ctx: TrainingContext;
  readonly progress: Progress;
  /** The options the model was made with, resolved. */
  readonly options: ResolvedOptions;
  readonly optimizer: Optimizer;
  classWeights: F32 | null;
  readonly random: Random;
  readonly layers: Dense[];
  /** The weights as last read or set, while nothing has changed them on the device since. */
  #host: LayerWeights[] | null = null;
  /** Counts changes to the weights, so a read that finishes after a change is not kept. */
  #version = 0;
  #disposed = false;
  /** The `fit` or `fitDataset` running now, if any: a model trains one run at a time. */
  #training: string | null = null;

  constructor(ctx: TrainingContext, o: ResolvedOptions, shape: ModelShape) {
    this.ctx = ctx;
    this.kind = shape.kind;
    this.options = o;
    this.features = o.features;
    this.classes = o.classes;
    this.hidden = [...shape.hidden];
    this.activation = shape.activation;
    this.random = new Random(o.seed);
    const initial = shape.init(this.random);
    const sizes = [o.features, ...shape.hidden, o.classes];
    this.layers = initial.map(({ weight, bias }, i) => ({
      inSize: sizes[i]!,
      outSize: sizes[i + 1]!,
      weight: ctx.tensor(weight, [sizes[i]!, sizes[i + 1]!]),
      bias: ctx.tensor(bias, [sizes[i + 1]!]),
    }));
    this.#host = initial.map(({ weight, bias }) => ({ weight: weight.slice(), bias: bias.slice() }));
    this.classWeights = o.classWeights === null ? null : ctx.tensor(o.classWeights, [o.classes]);
    this.optimizer = createOptimizer(ctx, o.optimizer);
    this.progress = { epoch: 0, batch: 0, step: 0, random: this.random.state };
  }

  /** An epoch starts at `batch`, `step` steps into its run's schedule, before its shuffle is drawn. */
  startEpoch(epoch: number, batch: number, step: number): void {
    Object.assign(this.progress, { epoch, batch, step, random: this.random.state });
  }

  /** A step was queued. */
  stepped(): void {
    this.progress.batch++;
    this.progress.step++;
  }

  /** The epoch under way is done: the next starts at its first batch, with the stream as it stands. */
  endEpoch(): void {
    Object.assign(this.progress, { epoch: this.progress.epoch + 1, batch: 0, random: this.random.state });
  }

  /** A model of the same layers, options and optimizer, with zero weights: what `ready` rehearses on. */
  twin(): Model {
    const sizes = [this.features, ...this.hidden, this.classes];
    return new Model(this.ctx, this.options, {
      kind: this.kind,
      hidden: this.hidden,
      activation: this.activation,
      init: () => sizes.slice(1).map((out, i) => ({ weight: new Float32Array(sizes[i]! * out), bias: new Float32Array(out) })),
    });
  }

  /** The logits of `x`, intermediates freed. */
  logits(x: F32): F32 {
    return forward(this.ctx, this.layers, this.activation, x, null);
  }

  /** Copies of each layer's weights (row-major `[in, out]`) and bias, first layer first. */
  async getLayers(where = 'getWeights'): Promise<LayerWeights[]> {
    this.alive(where);
    const version = this.#version;
    // Every read starts now, so a dispose right after this call does not cut it short.
    const values = await Promise.all(this.layers.flatMap((l) => [l.weight.read(), l.bias.read()]));
    const read = this.layers.map((_, i) => ({ weight: values[2 * i] as Float32Array, bias: values[2 * i + 1] as Float32Array }));
    if (version === this.#version) this.#host = read;
    return read.map(({ weight, bias }) => ({ weight: weight.slice(), bias: bias.slice() }));
  }

  /**
   * Replaces every layer's weights, checked whole before any is replaced; steps queued before
   * this call still apply to the old ones. `name(i)` names layer i's arrays in errors.
   */
  setLayers(where: string, layers: readonly LayerWeights[], name: (layer: number, field: 'weight' | 'bias') => string): void {
    this.alive(where);
    if (!Array.isArray(layers) || layers.length !== this.layers.length) {
      throw new ShapeError(`${where}: expected ${this.layers.length} layers, got ${Array.isArray(layers) ? layers.length : typeof layers}`);
    }
    this.layers.forEach(({ inSize, outSize }, i) => {
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
    this.layers.forEach((layer, i) => {
      const { weight, bias } = layers[i]!;
      layer.weight.dispose();
      layer.bias.dispose();
      layer.weight = this.ctx.tensor(weight, [layer.inSize, layer.outSize]);
      layer.bias = this.ctx.tensor(bias, [layer.outSize]);
    });
    this.#version++;
    this.#host = layers.map(({ weight, bias }) => ({ weight: weight.slice(), bias: bias.slice() }));
  }

  /** The class weights made again on the context's backend now (the old ones were on a lost device). */
  reuploadClassWeights(): void {
    this.classWeights?.dispose();
    this.classWeights = this.options.classWeights === null ? null : this.ctx.tensor(this.options.classWeights, [this.classes]);
  }

  /** The optimizer has changed the weights on the device: the host's copy is no longer them. */
  weightsChanged(): void {
    this.#version++;
    this.#host = null;
  }

  /**
   * The model in an export format: ONNX or safetensors bytes, or TF.js `ModelArtifacts`. Each
   * writer (ONNX's with its protobuf encoder) loads on first use, so apps that never export
   * do not carry them.
   */
  async export(format: ExportFormat, options: ExportOptions = {}): Promise<Uint8Array | TfjsModelArtifacts> {
    this.alive('export');
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
   * The weights on the host, without a wait, for the synchronous `toJSON`: always there on the
   * CPU, and on WebGPU after `fit`, `getWeights` or `setWeights`; after a bare `trainStep` on
   * WebGPU, an error says to read them first.
   */
  hostLayers(where: string): LayerWeights[] {
    this.alive(where);
    const host = this.#host ?? this.#peek();
    if (host === null) {
      throw new WebGPUSoftmaxError(
        `${where}: the weights changed on the GPU since they were last read; \`await model.getWeights()\` first ` +
          `(${where} is synchronous, and reading from a GPU is not)`,
      );
    }
    return host;
  }

  /** Frees the weights and the optimizer's state. Safe to call twice. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const { weight, bias } of this.layers) {
      weight.dispose();
      bias.dispose();
    }
    this.classWeights?.dispose();
    this.optimizer.dispose();
  }

  /** Runs `run` as the model's only training run: a second one while it goes on is refused. */
  async exclusive<T>(where: string, run: () => Promise<T>): Promise<T> {
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
      this.optimizer.setLearningRate(this.optimizer.options.learningRate);
    }
  }

  #peek(): LayerWeights[] | null {
    const access = this.ctx[internals];
    const host: LayerWeights[] = [];
    for (const layer of this.layers) {
      const weight = access.backend().peek(access.storage(layer.weight, 'toJSON', 'weights'));
      const bias = access.backend().peek(access.storage(layer.bias, 'toJSON', 'bias'));
      if (!(weight instanceof Float32Array && bias instanceof Float32Array)) return null;
      host.push({ weight, bias });
    }
    return host;
  }

  /** Before any use: a disposed model refuses. */
  alive(where: string): void {
    if (this.#disposed) throw new DisposedError(`${where}: the model was disposed`);
  }

  /** After any wait inside a training run: the app may have disposed the model meanwhile. */
  stillAlive(where: string): void {
    if (this.#disposed) throw new DisposedError(`${where}: the model was disposed during training`);
  }

  /** Checks features `[N, features]`; returns N. */
  checkFeatures(where: string, x: Features): number {
    if (!(x instanceof Tensor) || (x.dtype !== 'float32' && x.dtype !== 'float16') || x.shape.length !== 2 || x.shape[1] !== this.features) {
      throw new ShapeError(`${where}: x must be float32 or float16 [N, ${this.features}], got ${describe(x)}`);
    }
    return x.shape[0]!;
  }

  /** Checks features and targets of the same N >= 1 rows; returns N. */
  checkBatch(where: string, x: Features, y: Tensor): number {
    this.alive(where);
    const rows = this.checkFeatures(where, x);
    const ids = y instanceof Tensor && y.dtype === 'int32' && y.shape.length === 1 && y.shape[0] === rows;
    const probs = y instanceof Tensor && y.dtype === 'float32' && y.shape.length === 2 && y.shape[0] === rows && y.shape[1] === this.classes;
    if (!ids && !probs) {
      throw new ShapeError(`${where}: y must be int32 [${rows}] or float32 [${rows}, ${this.classes}] for x ${formatShape(x.shape)}, got ${describe(y)}`);
    }
    if (rows === 0) throw new ShapeError(`${where}: x holds no rows`);
    return rows;
  }
}

/** What a value is, for an error message: a tensor as its dtype and shape, else its class name or `typeof`. */
export function describe(t: unknown): string {
  if (t instanceof Tensor || t === null || t === undefined) return String(t);
  if (typeof t !== 'object' && typeof t !== 'function') return typeof t;
  return (t as object).constructor?.name ?? typeof t;
}
