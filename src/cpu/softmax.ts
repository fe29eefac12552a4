import type { RowsPlan } from '../backend.js';

/**
 * A row's maximum and `log(sum(exp(z - max)))`, in float64. NaN anywhere in the row makes the
 * max NaN, which then spreads to that row only. A row with no finite entry (all -Infinity, or
 * empty) has no meaningful shift: it reports `max = -Infinity` and `logSum = -Infinity` so that
 * callers map it to p = 0 instead of dividing 0 by 0.
 */
export function rowStats(z: Float32Array, offset: number, cols: number): { max: number; logSum: number } {
  let max = -Infinity;
  for (let c = 0; c < cols; c++) {
    const v = z[offset + c]!;
    if (v > max || v !== v) max = v;
    if (max !== max) break;
  }
  if (max === -Infinity) return { max, logSum: -Infinity };
  let sum = 0;
  for (let c = 0; c < cols; c++) sum += Math.exp(z[offset + c]! - max);
  return { max, logSum: Math.log(sum) };
}

/** `exp(z - max) / sum(exp(z - max))` per row; a row of all -Infinity gives all zeros. */
export function softmax(z: Float32Array, { rows, cols }: RowsPlan): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    const { max, logSum } = rowStats(z, o, cols);
    if (max === -Infinity) continue;
    const shift = max + logSum;
    for (let c = 0; c < cols; c++) out[o + c] = Math.exp(z[o + c]! - shift);
  }
  return out;
}

/** `(z - max) - log(sum(exp(z - max)))` per row; a row of all -Infinity gives all -Infinity. */
export function logSoftmax(z: Float32Array, { rows, cols }: RowsPlan): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    const { max, logSum } = rowStats(z, o, cols);
    if (max === -Infinity) {
      out.fill(-Infinity, o, o + cols);
      continue;
    }
    for (let c = 0; c < cols; c++) out[o + c] = z[o + c]! - max - logSum;
  }
  return out;
}

/** The softmax Jacobian-vector product `p * (dp - sum(dp * p))` per row. */
export function softmaxBackward(p: Float32Array, dp: Float32Array, { rows, cols }: RowsPlan): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let dot = 0;
    for (let c = 0; c < cols; c++) dot += dp[o + c]! * p[o + c]!;
    for (let c = 0; c < cols; c++) out[o + c] = p[o + c]! * (dp[o + c]! - dot);
  }
  return out;
}
