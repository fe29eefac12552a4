import { describe } from '../describe.js';
import type { DType } from '../dtype.js';
import { DTypeError, ShapeError } from '../errors.js';
import { toHalves } from '../float16.js';
import { checkShape, formatShape, sizeOf, type Shape } from '../shape.js';

/** What `ctx.tensor` stores: the values as the backend takes them (float16 as half bits), the shape and the dtype. */
export interface TensorPlan {
  readonly values: Float32Array | Int32Array | Uint16Array;
  readonly shape: Shape;
  readonly dtype: DType;
}

const FROM = "Float32Array: float32 (or 'float16', rounded to nearest even), Int32Array: int32, Uint16Array of half bits: 'float16'";

/**
 * Checks `ctx.tensor(data, shape, dtype)`: the data's array type against the dtype (given, or
 * implied by the array), and its length against the shape. Float32 data for a float16 tensor
 * is rounded here, on the host, so every backend stores the same halves.
 */
export function planTensor(data: unknown, shape: Shape, dtype: unknown): TensorPlan {
  if (!(data instanceof Float32Array || data instanceof Int32Array || data instanceof Uint16Array)) {
    throw new DTypeError(`tensor: data must be a Float32Array, an Int32Array or a Uint16Array (float16 bits), got ${describe(data)}`);
  }
  if (dtype !== undefined && dtype !== 'float32' && dtype !== 'int32' && dtype !== 'float16') {
    throw new DTypeError(`tensor: dtype must be 'float32', 'int32' or 'float16', got ${JSON.stringify(dtype)}`);
  }
  const kind = data instanceof Float32Array ? 'float32' : data instanceof Int32Array ? 'int32' : 'float16';
  const resolved: DType = dtype ?? kind;
  // A Uint16Array could as well hold integers: it makes a float16 tensor only when asked to.
  const fits = (resolved === kind && !(kind === 'float16' && dtype === undefined)) || (resolved === 'float16' && kind === 'float32');
  if (!fits) {
    const hint = data instanceof Uint16Array && dtype === undefined ? "; a Uint16Array holds float16 bits: pass 'float16' as the dtype" : '';
    throw new DTypeError(`tensor: a ${data.constructor.name} cannot make a ${dtype === undefined ? 'tensor without a dtype' : `${resolved} tensor`} (${FROM})${hint}`);
  }
  checkShape(shape, 'tensor');
  const size = sizeOf(shape);
  if (data.length !== size) {
    throw new ShapeError(`tensor: shape ${formatShape(shape)} holds ${size} elements but the data has ${data.length}`);
  }
  const values = resolved === 'float16' && data instanceof Float32Array ? toHalves(data) : data;
  return { values, shape, dtype: resolved };
}
