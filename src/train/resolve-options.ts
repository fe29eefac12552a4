import { checkKnownKeys, checkTaggedKeys } from '../check-options.js';
import { ShapeError, ValueError } from '../errors.js';
import {
  BATCH_KEYS,
  FIT_DATASET_KEYS,
  FIT_KEYS,
  INIT_KEYS,
  LOSS_KEYS,
  OPTIMIZER_KEYS,
  PREDICT_KEYS,
  SOFTMAX_REGRESSION_KEYS,
  type Init,
  type OptimizerOptions,
  type SoftmaxRegressionJSON,
  type SoftmaxRegressionOptions,
} from './options.js';

/** A model's options, checked, with their defaults filled in. */
export interface ResolvedOptions {
  readonly features: number;
  readonly classes: number;
  readonly init: Init;
  readonly seed: number;
  readonly optimizer: OptimizerOptions;
  readonly labelSmoothing: number;
  readonly classWeights: Float32Array | null;
}

const WHERE = 'softmaxRegression';

function positiveInteger(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new ValueError(`${WHERE}: ${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

function inRange(name: string, value: number, low: number, high: number, highOpen = false): number {
  const ok = value >= low && (highOpen ? value < high : value <= high);
  if (!ok) {
    throw new ValueError(`${WHERE}: ${name} must be in [${low}, ${high}${highOpen ? ')' : ']'}, got ${value}`);
  }
  return value;
}

const OPTIMIZERS = ['sgd', 'adam', 'adamw', 'rmsprop'] as const;

function checkEpsilon(value: number | undefined): void {
  if (!((value ?? 1e-8) > 0)) throw new ValueError(`${WHERE}: optimizer.epsilon must be above 0, got ${value}`);
}

function checkFlag(name: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new ValueError(`${WHERE}: ${name} must be true or false, got ${JSON.stringify(value)}`);
  }
}

/**
 * Refuses an optimizer key its type does not take (`beta1` for SGD), or, where the type itself
 * is unknown, a key no optimizer takes: `{ typ: 'adam' }` names `typ` before `type` is missed.
 */
export function checkOptimizerKeys(where: string, o: unknown): void {
  checkTaggedKeys(where, o, OPTIMIZER_KEYS, 'optimizer.');
}

/** Refuses a loss key a model does not train with. */
export function checkLossKeys(where: string, loss: unknown): void {
  checkKnownKeys(where, loss, LOSS_KEYS, 'loss.');
}

/** Refuses keys `fit` does not know; its early stopping and schedule check their own where they are read. */
export function checkFitKeys(options: unknown): void {
  checkKnownKeys('fit', options, FIT_KEYS);
}

/** Refuses keys `fitDataset` does not know. */
export function checkFitDatasetKeys(options: unknown): void {
  checkKnownKeys('fitDataset', options, FIT_DATASET_KEYS);
}

/** Refuses keys `predict` does not know. */
export function checkPredictKeys(options: unknown): void {
  checkKnownKeys('predict', options, PREDICT_KEYS);
}

/** Refuses a `fitDataset` batch holding more than `{ x, y }`: a `{ x, y, weights }` would train unweighted. */
export function checkBatchKeys(where: string, batch: unknown): void {
  checkKnownKeys(where, batch, BATCH_KEYS);
}

function checkOptimizer(o: OptimizerOptions): OptimizerOptions {
  checkOptimizerKeys(WHERE, o);
  if (!OPTIMIZERS.includes(o?.type)) {
    throw new ValueError(
      `${WHERE}: optimizer.type must be one of ${OPTIMIZERS.map((t) => `'${t}'`).join(', ')}, got ${JSON.stringify((o as { type: unknown } | undefined)?.type)}`,
    );
  }
  if (!(o.learningRate > 0 && Number.isFinite(o.learningRate))) {
    throw new ValueError(`${WHERE}: optimizer.learningRate must be a positive number, got ${o.learningRate}`);
  }
  inRange('optimizer.weightDecay', o.weightDecay ?? 0, 0, Infinity, true);
  switch (o.type) {
    case 'sgd': {
      const momentum = inRange('optimizer.momentum', o.momentum ?? 0, 0, Infinity, true);
      checkFlag('optimizer.nesterov', o.nesterov);
      if (o.nesterov === true && momentum === 0) {
        throw new ValueError(`${WHERE}: optimizer.nesterov needs a momentum above 0`);
      }
      break;
    }
    case 'adam':
    case 'adamw':
      inRange('optimizer.beta1', o.beta1 ?? 0.9, 0, 1, true);
      inRange('optimizer.beta2', o.beta2 ?? 0.999, 0, 1, true);
      checkEpsilon(o.epsilon);
      break;
    case 'rmsprop':
      inRange('optimizer.alpha', o.alpha ?? 0.99, 0, 1);
      inRange('optimizer.momentum', o.momentum ?? 0, 0, Infinity, true);
      checkEpsilon(o.epsilon);
      checkFlag('optimizer.centered', o.centered);
      break;
  }
  return o;
}

/**
 * Checks every option of `ctx.softmaxRegression` before anything is allocated, naming the
 * value at fault.
 */
export function resolveOptions(options: SoftmaxRegressionOptions): ResolvedOptions {
  checkKnownKeys(WHERE, options, SOFTMAX_REGRESSION_KEYS);
  checkOptimizerKeys(WHERE, options.optimizer);
  checkLossKeys(WHERE, options.loss);
  const features = positiveInteger('features', options.features);
  const classes = positiveInteger('classes', options.classes);
  const init = options.init ?? 'zeros';
  if (typeof init === 'object') {
    checkKnownKeys(WHERE, init, INIT_KEYS, 'init.');
    if (!(init.weights instanceof Float32Array) || init.weights.length !== features * classes) {
      throw new ShapeError(
        `${WHERE}: init.weights must be a Float32Array of ${features} x ${classes} = ${features * classes} values (row-major [features, classes]), got ${describeLength(init.weights)}`,
      );
    }
    if (!(init.bias instanceof Float32Array) || init.bias.length !== classes) {
      throw new ShapeError(`${WHERE}: init.bias must be a Float32Array of ${classes} values, got ${describeLength(init.bias)}`);
    }
  } else if (init !== 'zeros' && init !== 'glorot') {
    throw new ValueError(`${WHERE}: init must be 'zeros', 'glorot' or { weights, bias }, got ${JSON.stringify(init)}`);
  }
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed)) throw new ValueError(`${WHERE}: seed must be an integer, got ${seed}`);
  const optimizer = checkOptimizer(options.optimizer ?? { type: 'sgd', learningRate: 0.1 });
  const labelSmoothing = inRange('loss.labelSmoothing', options.loss?.labelSmoothing ?? 0, 0, 1);
  const weights = options.loss?.classWeights;
  if (weights !== undefined && weights.length !== classes) {
    throw new ShapeError(`${WHERE}: loss.classWeights must hold ${classes} values, one per class, got ${weights.length}`);
  }
  return {
    features,
    classes,
    init,
    seed,
    optimizer,
    labelSmoothing,
    classWeights: weights === undefined ? null : Float32Array.from(weights),
  };
}

const LOAD = 'loadSoftmaxRegression';

/** The numeric and boolean fields an optimizer may save; which of them a type uses is checked later, by `resolveOptions`. */
const OPTIMIZER_NUMBERS = ['learningRate', 'momentum', 'weightDecay', 'beta1', 'beta2', 'epsilon', 'alpha'] as const;
const OPTIMIZER_FLAGS = ['nesterov', 'centered'] as const;

/** How a saved value that is not a finite number reads in an error: `null`, `"0.5"`, `NaN`, an array. */
function describeValue(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'undefined') return String(value);
  if (Array.isArray(value)) return 'an array';
  return JSON.stringify(value) ?? typeof value;
}

function savedNumber(name: string, value: unknown): number {
  if (value === undefined) throw new ValueError(`${LOAD}: ${name} is missing`);
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ValueError(`${LOAD}: ${name} is ${describeValue(value)}; it must be a finite number`);
  }
  return value;
}

function savedInteger(name: string, value: unknown, low: number): number {
  const n = savedNumber(name, value);
  if (!Number.isSafeInteger(n) || n < low) throw new ValueError(`${LOAD}: ${name} is ${n}; it must be an integer ≥ ${low}`);
  return n;
}

/** A saved array of `length` finite numbers, as float32, naming the first bad entry by its index. */
function savedArray(name: string, value: unknown, length: number, shape: string): Float32Array {
  if (value === undefined) throw new ValueError(`${LOAD}: ${name} is missing`);
  if (!Array.isArray(value)) throw new ValueError(`${LOAD}: ${name} must be an array of ${length} numbers (${shape}), got ${describeValue(value)}`);
  if (value.length !== length) throw new ValueError(`${LOAD}: ${name} holds ${value.length} values; ${shape} needs ${length}`);
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    const v: unknown = value[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new ValueError(`${LOAD}: ${name}[${i}] is ${i in value ? describeValue(v) : 'missing'}; every value must be a finite number`);
    }
    out[i] = v;
  }
  return out;
}

function savedObject(name: string, value: unknown): Record<string, unknown> {
  if (value === undefined) throw new ValueError(`${LOAD}: ${name} is missing`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValueError(`${LOAD}: ${name} must be an object, got ${describeValue(value)}`);
  }
  return value as Record<string, unknown>;
}

function savedOptimizer(value: unknown): OptimizerOptions {
  const o = savedObject('optimizer', value);
  if (!OPTIMIZERS.includes(o.type as OptimizerOptions['type'])) {
    throw new ValueError(`${LOAD}: optimizer.type is ${describeValue(o.type)}; it must be one of ${OPTIMIZERS.map((t) => `'${t}'`).join(', ')}`);
  }
  savedNumber('optimizer.learningRate', o.learningRate);
  for (const key of OPTIMIZER_NUMBERS) if (key in o) savedNumber(`optimizer.${key}`, o[key]);
  for (const key of OPTIMIZER_FLAGS) {
    if (key in o && typeof o[key] !== 'boolean') throw new ValueError(`${LOAD}: optimizer.${key} is ${describeValue(o[key])}; it must be true or false`);
  }
  // The ranges are checked by resolveOptions, as for a model made afresh.
  return o as unknown as OptimizerOptions;
}

/**
 * Options that rebuild a model saved by `toJSON`, after checking the document's form: every
 * value present, numeric and finite, and every array of its model's length. An error names
 * the field and, in an array, the index at fault; nothing is allocated before.
 */
export function optionsFromJSON(json: SoftmaxRegressionJSON): SoftmaxRegressionOptions {
  const doc = json as unknown as Record<string, unknown> | null | undefined;
  if (doc?.format !== 'webgpu-softmax/softmax-regression' || doc.version !== 1) {
    throw new ValueError(
      `${LOAD}: expected a 'webgpu-softmax/softmax-regression' document of version 1, got format ${JSON.stringify(doc?.format)} version ${JSON.stringify(doc?.version)}`,
    );
  }
  const features = savedInteger('features', doc.features, 1);
  const classes = savedInteger('classes', doc.classes, 1);
  const seed = savedInteger('seed', doc.seed, Number.MIN_SAFE_INTEGER);
  const optimizer = savedOptimizer(doc.optimizer);
  const loss = savedObject('loss', doc.loss);
  const labelSmoothing = savedNumber('loss.labelSmoothing', loss.labelSmoothing);
  const classWeights = loss.classWeights === null ? undefined : savedArray('loss.classWeights', loss.classWeights, classes, `one per class`);
  const size = features * classes;
  const weights = savedArray('weights', doc.weights, size, `row-major [${features}, ${classes}]`);
  const bias = savedArray('bias', doc.bias, classes, `one per class`);
  return {
    features,
    classes,
    seed,
    optimizer,
    init: { weights, bias },
    loss: { labelSmoothing, classWeights },
  };
}

function describeLength(a: unknown): string {
  return a instanceof Float32Array ? `${a.length} values` : a === undefined ? 'nothing' : (a as object).constructor?.name ?? typeof a;
}
