import type { CrossEntropyPlan, Reduction } from '../backend.js';
import { checkArity, checkKnownKeys, keysOf } from '../check-options.js';
import { DTypeError, ShapeError, ValueError } from '../errors.js';
import { formatShape, type Shape } from '../shape.js';
import { FLOAT16_TAKERS } from './float16.js';
import type { DType } from '../tensor.js';

/**
 * Options of `crossEntropy`, with PyTorch's `F.cross_entropy` meaning and defaults.
 *
 * @example
 * ctx.crossEntropy(z, labels, { reduction: 'sum', labelSmoothing: 0.1, classWeights: [1, 2, 1] });
 */
export interface CrossEntropyOptions<T> {
  /** `'mean'` (default) divides by the summed weights of the counted rows; `'none'` gives `[N]`. */
  readonly reduction?: Reduction;
  /** Rows whose class id equals this count for nothing (index targets only). Default -100. */
  readonly ignoreIndex?: number;
  /** Mixes each target with the uniform distribution: `(1 - s) * y + s / C`. In [0, 1], default 0. */
  readonly labelSmoothing?: number;
  /** A float32 weight per class, `[C]`. */
  readonly classWeights?: T | Float32Array | readonly number[];
}

export const CROSS_ENTROPY_KEYS = keysOf<CrossEntropyOptions<unknown>>({ reduction: true, ignoreIndex: true, labelSmoothing: true, classWeights: true });

/** Refuses extra arguments and options `crossEntropy` (`where`) does not know: a `reduce: 'sum'` would give the mean. */
export function checkCrossEntropyCall(where: string, given: number, options: unknown): void {
  checkArity(where, given, 3);
  checkKnownKeys(where, options, CROSS_ENTROPY_KEYS);
}

interface Operand {
  readonly shape: Shape;
  readonly dtype: DType;
}

const REDUCTIONS: readonly string[] = ['mean', 'sum', 'none'] satisfies Reduction[];

/**
 * Checks logits `[N, C]`, a target (int32 `[N]` ids, whose values are checked here, or float32
 * `[N, C]` weights) and the options; returns the plan and the loss's shape.
 */
export function planCrossEntropy(
  where: string,
  z: Operand,
  target: Operand,
  labels: Int32Array | null,
  classWeights: Shape | null,
  options: CrossEntropyOptions<unknown>,
  withGrad: boolean,
): { plan: CrossEntropyPlan; lossShape: Shape } {
  if (z.dtype !== 'float32' && z.dtype !== 'float16') throw new DTypeError(`${where}: logits must be float32 or float16, got ${z.dtype}`);
  if (target.dtype === 'float16') {
    throw new DTypeError(`${where}: target must be int32 class ids or float32 probabilities, got float16; ${FLOAT16_TAKERS}, not targets`);
  }
  if (z.shape.length !== 2 || z.shape[1] === 0) {
    throw new ShapeError(`${where}: logits must be [N, C] with C >= 1, got ${formatShape(z.shape)}`);
  }
  const [rows, classes] = z.shape as [number, number];
  const reduction = options.reduction ?? 'mean';
  if (!REDUCTIONS.includes(reduction)) {
    throw new ValueError(`${where}: reduction must be 'mean', 'sum' or 'none', got ${JSON.stringify(reduction)}`);
  }
  const ignoreIndex = options.ignoreIndex ?? -100;
  if (!Number.isSafeInteger(ignoreIndex)) {
    throw new ValueError(`${where}: ignoreIndex must be an integer, got ${ignoreIndex}`);
  }
  const labelSmoothing = options.labelSmoothing ?? 0;
  if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) {
    throw new ValueError(`${where}: labelSmoothing must be in [0, 1], got ${labelSmoothing}`);
  }
  if (classWeights !== null && (classWeights.length !== 1 || classWeights[0] !== classes)) {
    throw new ShapeError(
      `${where}: classWeights must be [${classes}], one per class of logits ${formatShape(z.shape)}, got ${formatShape(classWeights)}`,
    );
  }

  let kind: CrossEntropyPlan['target'];
  if (target.dtype === 'int32') {
    if (target.shape.length !== 1 || target.shape[0] !== rows) {
      throw new ShapeError(
        `${where}: class-id targets must be [${rows}] for logits ${formatShape(z.shape)}, got ${formatShape(target.shape)}`,
      );
    }
    if (labels !== null) checkLabels(where, labels, classes, ignoreIndex);
    kind = 'index';
  } else {
    if (target.shape.length !== 2 || target.shape[0] !== rows || target.shape[1] !== classes) {
      throw new ShapeError(
        `${where}: probability targets must have the logits' shape ${formatShape(z.shape)}, got ${formatShape(target.shape)}`,
      );
    }
    kind = 'probs';
  }
  const plan: CrossEntropyPlan = {
    rows,
    classes,
    target: kind,
    reduction,
    ignoreIndex,
    labelSmoothing,
    withGrad,
  };
  return { plan, lossShape: reduction === 'none' ? [rows] : [] };
}

function checkLabels(where: string, labels: Int32Array, classes: number, ignoreIndex: number): void {
  let bad = 0;
  let first = -1;
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]!;
    if ((y < 0 || y >= classes) && y !== ignoreIndex) {
      if (bad++ === 0) first = i;
    }
  }
  if (bad > 0) {
    throw new ValueError(
      `${where}: target[${first}] = ${labels[first]} is outside [0, ${classes}) and is not ignoreIndex (${ignoreIndex})` +
        (bad > 1 ? `; ${bad} labels are out of range` : ''),
    );
  }
}
