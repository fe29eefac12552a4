import type { RowsPlan } from '../backend.js';

/** Column totals of a row-major `[rows, cols]` matrix, accumulated in float64. */
export function sumRows(t: Float32Array, { rows, cols }: RowsPlan): Float32Array {
  const acc = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let c = 0; c < cols; c++) acc[c]! += t[o + c]!;
  }
  return Float32Array.from(acc);
}
