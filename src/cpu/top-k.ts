import type { TopKPlan } from '../backend.js';

/**
 * The k most probable classes of each row of logits `z` (largest first; ties go to the lower
 * class) and their softmax probabilities, written from row `plan.firstRow` of `indices` and
 * `values` (`[N, k]`). The log-sum-exp runs in float64; a row with a NaN gives NaN probabilities.
 *
 * @example
 * topK(z, indices, values, { rows: 2, cols: 10, k: 3, firstRow: 0 });
 */
const LOWEST = -3.4028234663852886e38;

export function topK(z: Float32Array, indices: Int32Array, values: Float32Array, plan: TopKPlan): void {
  const { rows, cols, k } = plan;
  const order = new Int32Array(k);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let filled = 0;
    let max = -Infinity;
    for (let c = 0; c < cols; c++) {
      const v = z[o + c]!;
      if (v > max || v !== v) max = v;
      // As shaders/top_k.wgsl: only values above float32's lowest finite one are ranked.
      if (v > LOWEST && (filled < k || v > z[o + order[k - 1]!]!)) {
        let j = Math.min(filled, k - 1);
        while (j > 0 && v > z[o + order[j - 1]!]!) {
          order[j] = order[j - 1]!;
          j--;
        }
        order[j] = c;
        filled = Math.min(filled + 1, k);
      }
    }
    let sum = 0;
    if (max !== -Infinity) for (let c = 0; c < cols; c++) sum += Math.exp(z[o + c]! - max);
    const out = (plan.firstRow + r) * k;
    for (let j = 0; j < k; j++) {
      indices[out + j] = j < filled ? order[j]! : -1;
      values[out + j] = j < filled ? Math.exp(z[o + order[j]!]! - max) / sum : 0;
    }
  }
}
