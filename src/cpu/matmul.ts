import type { MatmulPlan } from '../backend.js';

/**
 * `op(a) · op(b) + bias` for each batch entry. Products of two float32 values are exact in
 * float64 and the sums run in float64, so each output is rounded to float32 once: the result is
 * within half an ulp of the exact dot product (plus float64's far smaller error), whatever K is.
 * The i-k-j loop order walks `b` and the accumulator row contiguously.
 */
export function matmul(a: Float32Array, b: Float32Array, bias: Float32Array | null, plan: MatmulPlan): Float32Array {
  const { batch, m, k, n, transposeA, transposeB } = plan;
  const out = new Float32Array(batch * m * n);
  const acc = new Float64Array(n);
  const bRowMajor = transposeB ? new Float32Array(k * n) : null;
  for (let e = 0; e < batch; e++) {
    const aOff = e * plan.aBatchStride;
    const bOff = e * plan.bBatchStride;
    let bk: Float32Array;
    if (bRowMajor === null) {
      bk = b.subarray(bOff, bOff + k * n);
    } else {
      for (let j = 0; j < n; j++) for (let kk = 0; kk < k; kk++) bRowMajor[kk * n + j] = b[bOff + j * k + kk]!;
      bk = bRowMajor;
    }
    const aRowStride = transposeA ? 1 : k;
    const aColStride = transposeA ? m : 1;
    for (let i = 0; i < m; i++) {
      acc.fill(0);
      const aRow = aOff + i * aRowStride;
      for (let kk = 0; kk < k; kk++) {
        const aik = a[aRow + kk * aColStride]!;
        const row = kk * n;
        for (let j = 0; j < n; j++) acc[j]! += aik * bk[row + j]!;
      }
      const o = (e * m + i) * n;
      if (bias === null) for (let j = 0; j < n; j++) out[o + j] = acc[j]!;
      else for (let j = 0; j < n; j++) out[o + j] = acc[j]! + bias[j]!;
    }
  }
  return out;
}
