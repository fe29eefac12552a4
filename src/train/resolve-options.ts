import { ShapeError, ValueError } from '../errors.js';
import type { Init, OptimizerOptions, SoftmaxRegressionJSON, SoftmaxRegressionOptions } from './options.js';

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

function checkOptimizer(o: OptimizerOptions): OptimizerOptions {
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
  const features = positiveInteger('features', options.features);
  const classes = positiveInteger('classes', options.classes);
  const init = options.init ?? 'zeros';
  if (typeof init === 'object') {
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

/** Options that rebuild a model saved by `toJSON`, after checking the document's form. */
export function optionsFromJSON(json: SoftmaxRegressionJSON): SoftmaxRegressionOptions {
  if (json?.format !== 'webgpu-softmax/softmax-regression' || json.version !== 1) {
    throw new ValueError(
      `loadSoftmaxRegression: expected a 'webgpu-softmax/softmax-regression' document of version 1, got format ${JSON.stringify(json?.format)} version ${JSON.stringify(json?.version)}`,
    );
  }
  return {
    features: json.features,
    classes: json.classes,
    seed: json.seed,
    optimizer: json.optimizer,
    init: { weights: Float32Array.from(json.weights ?? []), bias: Float32Array.from(json.bias ?? []) },
    loss: { labelSmoothing: json.loss.labelSmoothing, classWeights: json.loss.classWeights ?? undefined },
  };
}

function describeLength(a: unknown): string {
  return a instanceof Float32Array ? `${a.length} values` : a === undefined ? 'nothing' : (a as object).constructor?.name ?? typeof a;
}
