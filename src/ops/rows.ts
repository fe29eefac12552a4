import type { RowsPlan } from '../backend.js';
import { ShapeError } from '../errors.js';
import { formatShape, sizeOf, type Shape } from '../shape.js';

/** Views a tensor of rank >= 1 as rows of its last axis, the axis softmax works over. */
export function planRows(shape: Shape, where: string): RowsPlan {
  if (shape.length === 0) {
    throw new ShapeError(`${where}: needs at least one axis to work over, got a scalar ${formatShape(shape)}`);
  }
  const cols = shape[shape.length - 1]!;
  return { rows: cols === 0 ? sizeOf(shape.slice(0, -1)) : sizeOf(shape) / cols, cols };
}
