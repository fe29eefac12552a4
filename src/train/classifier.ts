import { checkArity, checkKnownKeys, keysOf } from '../check-options.js';
import type { TrainingContext } from '../internal.js';
import { ShapeError, ValueError, WebGPUSoftmaxError } from '../errors.js';
import { ACTIVATIONS, type Activation } from './activations.js';
import { checkLayerKeys, glorotInit, layerShapes, linearInit, zerosInit, type LayerWeights } from './layers.js';
import { Model } from './model.js';
import type { LossOptions, OptimizerOptions } from './options.js';
import { checkLossKeys, checkOptimizerKeys, resolveOptions, type ResolvedOptions } from './resolve-options.js';
import { TrainableModel } from './trainable-model.js';

/**
 * A classifier's first weights: `'pytorch'` as `nn.Linear` (U(±1/√in) for weights and bias),
 * `'glorot'` (Glorot-uniform weights, zero bias), `'zeros'`, or each layer's given.
 */
export type ClassifierInit = 'pytorch' | 'glorot' | 'zeros' | readonly LayerWeights[];

/**
 * What `ctx.classifier` takes: the layers, their first weights, the optimizer and the loss.
 *
 * @example
 * ```ts
 * const head = ctx.classifier({ features: 1280, classes: 5, hidden: [100], activation: 'gelu', seed: 1, optimizer: { type: 'adam', learningRate: 1e-3 } });
 * ```
 */
export interface ClassifierOptions {
  /** Features per row: the width of `x`. */
  readonly features: number;
  /** Classes: the width of the last layer; class ids run from 0 to `classes - 1`. */
  readonly classes: number;
  /** Widths of the hidden layers, first to last. Default `[]`: softmax regression. */
  readonly hidden?: readonly number[];
  /** Between hidden layers. Default `'relu'`; `'gelu'` is the exact erf form, as PyTorch's default. */
  readonly activation?: Activation;
  /** Default `'pytorch'`. */
  readonly init?: ClassifierInit;
  /** Seeds every random choice: the first weights and the shuffling in `fit`. Default 0. */
  readonly seed?: number;
  /** Default `{ type: 'sgd', learningRate: 0.1 }`. */
  readonly optimizer?: OptimizerOptions;
  /** The cross-entropy's label smoothing and class weights. Default: neither. */
  readonly loss?: LossOptions;
}

const CLASSIFIER_KEYS = keysOf<ClassifierOptions>({
  features: true,
  classes: true,
  hidden: true,
  activation: true,
  init: true,
  seed: true,
  optimizer: true,
  loss: true,
});

/** A classifier as `toJSON` writes it and `ctx.loadClassifier` reads it. */
export interface ClassifierJSON {
  /** Names the document's kind. */
  readonly format: 'webgpu-softmax/classifier';
  /** The document's version. */
  readonly version: 1;
  /** Features per row. */
  readonly features: number;
  /** Classes. */
  readonly classes: number;
  /** Hidden layer widths, first to last; empty for softmax regression. */
  readonly hidden: number[];
  /** The activation between layers. */
  readonly activation: Activation;
  /** The seed it was made with. */
  readonly seed: number;
  /** The optimizer's options (not its state). */
  readonly optimizer: OptimizerOptions;
  /** The loss options it trained with. */
  readonly loss: {
    /** In [0, 1]. */
    readonly labelSmoothing: number;
    /** One weight per class, or null for none. */
    readonly classWeights: number[] | null;
  };
  /** Each layer's weight (row-major `[in, out]`) and bias, first layer first. */
  readonly layers: {
    /** Row-major `[in, out]`. */
    readonly weight: number[];
    /** `[out]`. */
    readonly bias: number[];
  }[];
}

const WHERE = 'classifier';

/** The options shared with `softmaxRegression`, checked there, with errors named for `classifier`. */
function resolveShared(options: ClassifierOptions): ResolvedOptions {
  checkKnownKeys(WHERE, options, CLASSIFIER_KEYS);
  try {
    const { features, classes, seed, optimizer, loss } = options;
    return resolveOptions({ features, classes, ...(seed === undefined ? {} : { seed }), ...(optimizer === undefined ? {} : { optimizer }), ...(loss === undefined ? {} : { loss }) });
  } catch (e) {
    if (e instanceof WebGPUSoftmaxError) {
      const Kind = e.constructor as new (message: string) => WebGPUSoftmaxError;
      throw new Kind(e.message.replace(/^softmaxRegression:/, `${WHERE}:`));
    }
    throw e;
  }
}

/** Checks `hidden`, `activation` and `init`, naming the value at fault. */
function resolveShape(options: ClassifierOptions, o: ResolvedOptions) {
  const hidden = options.hidden ?? [];
  if (!Array.isArray(hidden)) throw new ValueError(`${WHERE}: hidden must be an array of layer widths, got ${typeof hidden}`);
  hidden.forEach((width, i) => {
    if (typeof width !== 'number' || !Number.isSafeInteger(width) || width < 1) {
      throw new ValueError(`${WHERE}: hidden[${i}] must be a positive integer, got ${String(width)}`);
    }
  });
  const activation = options.activation ?? 'relu';
  if (!ACTIVATIONS.includes(activation)) {
    throw new ValueError(`${WHERE}: activation must be one of ${ACTIVATIONS.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(activation)}`);
  }
  const shapes = layerShapes(o.features, hidden, o.classes);
  const init = options.init ?? 'pytorch';
  if (Array.isArray(init)) {
    checkLayerKeys(`${WHERE}: init`, init);
    checkLayers(`${WHERE}: init`, init, shapes);
  } else if (init !== 'pytorch' && init !== 'glorot' && init !== 'zeros') {
    throw new ValueError(`${WHERE}: init must be 'pytorch', 'glorot', 'zeros' or an array of { weight, bias } per layer, got ${JSON.stringify(init)}`);
  }
  return { hidden: [...hidden] as number[], activation, shapes, init };
}

/** Each layer's arrays: Float32Arrays of the layer's sizes, every value finite. */
function checkLayers(where: string, layers: readonly LayerWeights[], shapes: [number, number][]): void {
  if (layers.length !== shapes.length) {
    throw new ShapeError(`${where} must hold ${shapes.length} layers (${shapes.map(([i, o]) => `[${i}, ${o}]`).join(', ')}), got ${layers.length}`);
  }
  shapes.forEach(([inSize, outSize], l) => {
    const layer = layers[l];
    for (const [field, length] of [['weight', inSize * outSize], ['bias', outSize]] as const) {
      const a = layer?.[field];
      if (!(a instanceof Float32Array) || a.length !== length) {
        throw new ShapeError(`${where}[${l}].${field} must be a Float32Array of ${length} values, got ${a instanceof Float32Array ? `${a.length}` : typeof a}`);
      }
      const bad = a.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) throw new ValueError(`${where}[${l}].${field}[${bad}] is ${a[bad]}, not a finite number`);
    }
  });
}

/**
 * A classifier head: dense layers with an activation between them, `features → hidden… →
 * classes`, trained with cross-entropy on the context's backend, as a PyTorch
 * `nn.Sequential(Linear, act, …, Linear)` would be. With `hidden: []` it is softmax regression.
 *
 * @example
 * const model = ctx.classifier({ features: 1280, classes: 5, hidden: [100], activation: 'relu', seed: 1,
 *   optimizer: { type: 'adam', learningRate: 1e-3 } });
 * await model.fit(x, y, { epochs: 10, batchSize: 32, validationData: [xVal, yVal] });
 * const p = model.predict(xNew);
 */
export class Classifier extends TrainableModel {
  /** Hidden layer widths, first to last. */
  readonly hidden: readonly number[];
  /** The activation between layers. */
  readonly activation: Activation;
  readonly #model: Model;

  /** @internal Use `ctx.classifier` or `ctx.loadClassifier`. */
  constructor(ctx: TrainingContext, options: ClassifierOptions) {
    const o = resolveShared(options);
    const { hidden, activation, shapes, init } = resolveShape(options, o);
    const model = new Model(ctx, o, {
      kind: 'classifier',
      hidden,
      activation,
      init: (random) => {
        if (Array.isArray(init)) return init.map(({ weight, bias }) => ({ weight: weight.slice(), bias: bias.slice() }));
        return shapes.map(([inSize, outSize]) => {
          if (init === 'pytorch') return linearInit(random, inSize, outSize);
          return init === 'glorot' ? glorotInit(random, inSize, outSize) : zerosInit(inSize, outSize);
        });
      },
    });
    super(model);
    this.#model = model;
    this.hidden = Object.freeze([...hidden]);
    this.activation = activation;
  }

  /** Copies of each layer's weight (row-major `[in, out]`) and bias, first layer first. */
  async getWeights(): Promise<LayerWeights[]> {
    checkArity('getWeights', arguments.length, 0);
    return this.#model.getLayers();
  }

  /** Replaces every layer's weights, all checked before any is replaced. */
  setWeights(layers: readonly LayerWeights[]): void {
    checkArity('setWeights', arguments.length, 1);
    checkLayerKeys('setWeights: layers', layers);
    this.#model.setLayers('setWeights', layers, (l, field) => `layers[${l}].${field}`);
  }

  /**
   * The model as plain JSON, for `ctx.loadClassifier`; synchronous, so on WebGPU after a bare
   * `trainStep`, `await model.getWeights()` first. It holds no optimizer state (moments,
   * momentum, step count), no shuffling state and no place in a schedule: to save training and
   * go on with it, use `checkpoint()`.
   */
  toJSON(): ClassifierJSON {
    const host = this.#model.hostLayers('toJSON');
    const o = this.#model.options;
    return {
      format: 'webgpu-softmax/classifier',
      version: 1,
      features: o.features,
      classes: o.classes,
      hidden: [...this.hidden],
      activation: this.activation,
      seed: o.seed,
      optimizer: o.optimizer,
      loss: { labelSmoothing: o.labelSmoothing, classWeights: o.classWeights === null ? null : Array.from(o.classWeights) },
      layers: host.map(({ weight, bias }) => ({ weight: Array.from(weight), bias: Array.from(bias) })),
    };
  }
}

/** Options that rebuild a classifier saved by `toJSON`; every weight must be a finite number. */
export function classifierOptionsFromJSON(json: ClassifierJSON): ClassifierOptions {
  const where = 'loadClassifier';
  if (json?.format !== 'webgpu-softmax/classifier' || json.version !== 1) {
    throw new ValueError(
      `${where}: expected a 'webgpu-softmax/classifier' document of version 1, got format ${JSON.stringify(json?.format)} version ${JSON.stringify(json?.version)}`,
    );
  }
  if (!Array.isArray(json.layers)) throw new ValueError(`${where}: layers must be an array, got ${typeof json.layers}`);
  const layers = json.layers.map((layer, l) => {
    const read = (field: 'weight' | 'bias') => {
      const values: unknown = layer?.[field];
      if (!Array.isArray(values)) throw new ValueError(`${where}: layers[${l}].${field} must be an array of numbers, got ${typeof values}`);
      const bad = values.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v));
      if (bad >= 0) throw new ValueError(`${where}: layers[${l}].${field}[${bad}] is ${JSON.stringify(values[bad]) ?? 'missing'}, not a finite number`);
      return Float32Array.from(values as number[]);
    };
    return { weight: read('weight'), bias: read('bias') };
  });
  return {
    features: json.features,
    classes: json.classes,
    hidden: json.hidden,
    activation: json.activation,
    seed: json.seed,
    optimizer: json.optimizer,
    init: layers,
    loss: { labelSmoothing: json.loss?.labelSmoothing ?? 0, classWeights: json.loss?.classWeights ?? undefined },
  };
}

/** What `ctx.importClassifier` reads, and the training options the file cannot hold. */
export interface ImportClassifierOptions {
  /** The bytes' format. */
  readonly format: 'onnx' | 'safetensors';
  /**
   * safetensors: the activation, which a state_dict does not hold (default: the file's
   * `activation` metadata, which our exports write, else 'relu'). onnx: checked against the graph's.
   */
  readonly activation?: Activation;
  /** Seeds the shuffling in later training. Default 0. */
  readonly seed?: number;
  /** The optimizer to go on training with (the file holds no optimizer). Default SGD, learning rate 0.1. */
  readonly optimizer?: OptimizerOptions;
  /** The loss to go on training with. Default: plain cross-entropy. */
  readonly loss?: LossOptions;
}

const IMPORT_CLASSIFIER_KEYS = keysOf<ImportClassifierOptions>({ format: true, activation: true, seed: true, optimizer: true, loss: true });

/**
 * Options that rebuild a classifier from ONNX or safetensors bytes, fully checked first: a
 * corrupt or mismatched file throws, naming the tensor or node at fault, before any tensor is
 * made. The readers load on first use.
 */
export async function importedClassifierOptions(bytes: Uint8Array, options: ImportClassifierOptions): Promise<ClassifierOptions> {
  const where = 'importClassifier';
  if (!(bytes instanceof Uint8Array)) throw new ValueError(`${where}: bytes must be a Uint8Array, got ${bytes === null ? 'null' : typeof bytes}`);
  checkKnownKeys(where, options, IMPORT_CLASSIFIER_KEYS);
  checkOptimizerKeys(where, options?.optimizer);
  checkLossKeys(where, options?.loss);
  const format = options?.format;
  if (format !== 'onnx' && format !== 'safetensors') {
    throw new ValueError(`${where}: format must be 'onnx' or 'safetensors', got ${JSON.stringify(format)}`);
  }
  const read = options.activation === undefined ? {} : { activation: options.activation };
  const desc = format === 'onnx' ? (await import('../export/onnx.js')).readOnnx(bytes, read) : (await import('../export/safetensors.js')).readSafetensors(bytes, read);
  const { seed, optimizer, loss } = options;
  return {
    features: desc.features,
    classes: desc.classes,
    hidden: [...desc.hidden],
    activation: desc.activation,
    init: desc.layers.map(({ weight, bias }) => ({ weight, bias })),
    ...(seed === undefined ? {} : { seed }),
    ...(optimizer === undefined ? {} : { optimizer }),
    ...(loss === undefined ? {} : { loss }),
  };
}
