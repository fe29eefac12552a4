import type { MatmulPlan } from '../backend.js';

/**
 * `op(a) · op(b) + bias` for each batch entry. Every output is the dot product of a row of
 * op(a) and a column of op(b), so both are first laid out as contiguous rows (op(b) as its
 * transpose, each made once). Products of float32 values are exact in float64 and the sums
 * run in float64 locals, so each output is rounded to float32 once: within half an ulp of the
 * exact dot product (plus float64's far smaller error), whatever K is.
 */
export function matmul(a: Float32Array, b: Float32Array, bias: Float32Array | null, plan: MatmulPlan): Float32Array {
  const { batch, m, k, n } = plan;
  const out = new Float32Array(batch * m * n);
  const rows = plan.transposeA ? new Float32Array(m * k) : null;
  const cols = plan.transposeB ? null : new Float32Array(n * k);
  let colsBatch = -1;
  for (let e = 0; e < batch; e++) {
    const aOff = e * plan.aBatchStride;
    const bOff = e * plan.bBatchStride;
    const aRows = rows === null ? a.subarray(aOff, aOff + m * k) : transpose(a, aOff, k, m, rows);
    let bCols: Float32Array;
    if (cols === null) bCols = b.subarray(bOff, bOff + n * k);
    else {
      // A shared b (stride 0) is transposed once for the whole batch.
      if (colsBatch !== bOff) transpose(b, bOff, k, n, cols);
      colsBatch = bOff;
      bCols = cols;
    }
    dotProducts(aRows, bCols, bias, out, e * m * n, m, n, k);
  }
  return out;
}

/** Side of the square blocks a transpose moves at a time, so reads and writes stay in cache. */
const TRANSPOSE_BLOCK = 32;

/** `target` = the transpose of the row-major [rows, cols] matrix at `source[offset]`. */
function transpose(source: Float32Array, offset: number, rows: number, cols: number, target: Float32Array): Float32Array {
  for (let r0 = 0; r0 < rows; r0 += TRANSPOSE_BLOCK) {
    const r1 = Math.min(rows, r0 + TRANSPOSE_BLOCK);
    for (let c0 = 0; c0 < cols; c0 += TRANSPOSE_BLOCK) {
      const c1 = Math.min(cols, c0 + TRANSPOSE_BLOCK);
      for (let r = r0; r < r1; r++) {
        const from = offset + r * cols;
        for (let c = c0; c < c1; c++) target[c * rows + r] = source[from + c]!;
      }
    }
  }
  return target;
}

/**
 * out[i, j] = rows[i] · cols[j] (+ bias[j]), two rows by four columns at a time: the eight
 * sums live in local variables (registers) and each loaded value feeds two or four of them.
 */
function dotProducts(
  rows: Float32Array,
  cols: Float32Array,
  bias: Float32Array | null,
  out: Float32Array,
  outOff: number,
  m: number,
  n: number,
  k: number,
): void {
  const n4 = n - (n % 4);
  for (let i = 0; i < m; i += 2) {
    const r0 = i * k;
    const pair = i + 1 < m;
    const r1 = pair ? r0 + k : r0;
    for (let j = 0; j < n4; j += 4) {
      const c0 = j * k;
      const c1 = c0 + k;
      const c2 = c1 + k;
      const c3 = c2 + k;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      for (let p = 0; p < k; p++) {
        const x0 = rows[r0 + p]!;
        const x1 = rows[r1 + p]!;
        const y0 = cols[c0 + p]!;
        const y1 = cols[c1 + p]!;
        const y2 = cols[c2 + p]!;
        const y3 = cols[c3 + p]!;
        s00 += x0 * y0;
        s01 += x0 * y1;
        s02 += x0 * y2;
        s03 += x0 * y3;
        s10 += x1 * y0;
        s11 += x1 * y1;
        s12 += x1 * y2;
        s13 += x1 * y3;
      }
      const o0 = outOff + i * n + j;
      const bj = bias === null ? null : bias.subarray(j, j + 4);
      out[o0] = s00 + (bj?.[0] ?? 0);
      out[o0 + 1] = s01 + (bj?.[1] ?? 0);
      out[o0 + 2] = s02 + (bj?.[2] ?? 0);
      out[o0 + 3] = s03 + (bj?.[3] ?? 0);
      if (pair) {
        out[o0 + n] = s10 + (bj?.[0] ?? 0);
        out[o0 + n + 1] = s11 + (bj?.[1] ?? 0);
        out[o0 + n + 2] = s12 + (bj?.[2] ?? 0);
        out[o0 + n + 3] = s13 + (bj?.[3] ?? 0);
      }
    }
    for (let j = n4; j < n; j++) {
      const c = j * k;
      let s0 = 0;
      let s1 = 0;
      for (let p = 0; p < k; p++) {
        const y = cols[c + p]!;
        s0 += rows[r0 + p]! * y;
        s1 += rows[r1 + p]! * y;
      }
      const extra = bias === null ? 0 : bias[j]!;
      out[outOff + i * n + j] = s0 + extra;
      if (pair) out[outOff + (i + 1) * n + j] = s1 + extra;
    }
  }
}
