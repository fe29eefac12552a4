import { ShapeError } from './errors.js';

/** A tensor's dimensions, outermost first; `[]` is a scalar. */
export type Shape = readonly number[];

/** Number of elements of a shape; 1 for a scalar. */
export function sizeOf(shape: Shape): number {
  let size = 1;
  for (const d of shape) size *= d;
  return size;
}

/** `[2, 3]`, the way every error message prints a shape. */
export function formatShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/** Throws unless every dimension is a non-negative safe integer. */
export function checkShape(shape: Shape, where: string): void {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new ShapeError(
      `${where}: a shape is a list of non-negative integers, got ${JSON.stringify(shape)}`,
    );
  }
}
