import type { LinearCrossEntropyPlan } from '../backend.js';
import { checkArity, checkKnownKeys, keysOf } from '../check-options.js';
import { DTypeError, ShapeError, ValueError } from '../errors.js';
import { formatShape, type Shape } from '../shape.js';
import type { DType } from '../tensor.js';
import { CROSS_ENTROPY_KEYS, planCrossEntropy, type CrossEntropyOptions } from './cross-entropy.js';

/**
 * Options of `linearCrossEntropy`: those of `crossEntropy` (PyTorch's meaning and defaults),
 * the layer's bias and weight layout, and how many rows of logits to form at a time.
 *
 * @example
 * ctx.linearCrossEntropy(x, embedding, labels, { transposeWeight: true, labelSmoothing: 0.1 });
 */
export interface LinearCrossEntropyOptions<T> extends CrossEntropyOptions<T> {
  /** A float32 `[C]` added to every row of logits. */
  readonly bias?: T;
  /** `weight` is `[C, D]` (a PyTorch `Linear`, or an embedding tied to the output) instead of `[D, C]`. */
  readonly transposeWeight?: boolean;
  /**
   * Rows of logits formed at a time. The default keeps a chunk's logits within 32 MiB (and the
   * device's binding limit); fewer rows use less memory, more rows fewer, larger dispatches.
   */
  readonly chunkRows?: number;
}

const LINEAR_CROSS_ENTROPY_KEYS = [
  ...CROSS_ENTROPY_KEYS,
  ...keysOf<Omit<LinearCrossEntropyOptions<unknown>, keyof CrossEntropyOptions<unknown>>>({ bias: true, transposeWeight: true, chunkRows: true }),
];

/** Refuses extra arguments and options `linearCrossEntropy` (`where`) does not know. */
export function checkLinearCrossEntropyCall(where: string, given: number, options: unknown): void {
  checkArity(where, given, 4);
  checkKnownKeys(where, options, LINEAR_CROSS_ENTROPY_KEYS);
}

interface Operand {
  readonly shape: Shape;
  readonly dtype: DType;
}

/**
 * Checks `x` `[N, D]`, `weight` `[D, C]` (or `[C, D]` with `transposeWeight`), the bias, the
 * target and the cross-entropy options; returns the plan, the loss's shape and C.
 */
export function planLinearCrossEntropy(
  where: string,
  x: Operand,
  weight: Operand,
  bias: Shape | null,
  target: Operand,
  labels: Int32Array | null,
  classWeights: Shape | null,
  options: LinearCrossEntropyOptions<unknown>,
  withGrad: boolean,
): { plan: LinearCrossEntropyPlan; lossShape: Shape } {
  const transposeWeight = options.transposeWeight ?? false;
  if (typeof transposeWeight !== 'boolean') {
    throw new ValueError(`${where}: transposeWeight must be a boolean, got ${JSON.stringify(transposeWeight)}`);
  }
  for (const [name, t] of [['x', x], ['weight', weight]] as const) {
    if (t.dtype !== 'float32' && t.dtype !== 'float16') throw new DTypeError(`${where}: ${name} must be float32 or float16, got ${t.dtype}`);
    if (t.shape.length !== 2) throw new ShapeError(`${where}: ${name} must be 2-D, got ${formatShape(t.shape)}`);
  }
  const [rows, features] = x.shape as [number, number];
  const [wRows, wCols] = weight.shape as [number, number];
  const [wFeatures, classes] = transposeWeight ? [wCols, wRows] : [wRows, wCols];
  const layout = transposeWeight ? '[C, D] (transposeWeight)' : '[D, C]';
  if (wFeatures !== features) {
    throw new ShapeError(
      `${where}: weight ${formatShape(weight.shape)} as ${layout} has ${wFeatures} features but x ${formatShape(x.shape)} has ${features}`,
    );
  }
  if (classes === 0) throw new ShapeError(`${where}: weight ${formatShape(weight.shape)} as ${layout} has no classes`);
  if (bias !== null && (bias.length !== 1 || bias[0] !== classes)) {
    throw new ShapeError(`${where}: bias must be [${classes}], one per class of weight ${formatShape(weight.shape)}, got ${formatShape(bias)}`);
  }
  const chunkRows = options.chunkRows ?? null;
  if (chunkRows !== null && !(Number.isSafeInteger(chunkRows) && chunkRows >= 1)) {
    throw new ValueError(`${where}: chunkRows must be an integer >= 1, got ${chunkRows}`);
  }
  const logits = { shape: [rows, classes], dtype: 'float32' as const };
  const { plan: crossEntropy, lossShape } = planCrossEntropy(where, logits, target, labels, classWeights, options, withGrad);
  return {
    plan: { features, transposeWeight, hasBias: bias !== null, chunkRows, crossEntropy, withGradX: withGrad, metricsLossScale: null, float16X: x.dtype === 'float16' },
    lossShape,
  };
}
