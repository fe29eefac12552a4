import type { RowsPlan } from '../backend.js';
import { checkArity, checkKnownKeys, keysOf } from '../check-options.js';
import { ValueError } from '../errors.js';
import { formatShape, sizeOf, type Shape } from '../shape.js';

/**
 * What `ctx.sum` takes.
 *
 * @example
 * ```ts
 * const db = ctx.sum(grad, { axis: 0 }); // the column sums: a bias gradient
 * ```
 */
export interface SumOptions {
  /** `0` sums over the first axis (the column sums of a matrix); omitted sums everything. */
  readonly axis?: 0;
}

const SUM_KEYS = keysOf<SumOptions>({ axis: true });

/** Refuses extra arguments and options `sum` does not know. */
export function checkSumCall(given: number, options: unknown): void {
  checkArity('sum', given, 2);
  checkKnownKeys('sum', options, SUM_KEYS);
}

/** Both sums reduce rows of a row-major matrix: over the first axis, or a single column of all elements. */
export function planSum(shape: Shape, axis: unknown): { plan: RowsPlan; shape: Shape } {
  if (axis === undefined) return { plan: { rows: sizeOf(shape), cols: 1 }, shape: [] };
  if (axis !== 0) {
    throw new ValueError(`sum: axis must be 0 or omitted, got ${String(axis)}`);
  }
  if (shape.length === 0) {
    throw new ValueError(`sum: axis 0 needs a tensor with at least one axis, got ${formatShape(shape)}`);
  }
  const rest = shape.slice(1);
  return { plan: { rows: shape[0]!, cols: sizeOf(rest) }, shape: rest };
}
