import type { CrossEntropyPlan } from '../backend.js';
import { rowStats } from './softmax.js';

/**
 * Softmax cross-entropy and its gradient in one pass per row, in float64.
 *
 * Every target kind becomes one effective weight row `t`: for class ids,
 * `t = (1 - s) w[y] onehot(y) + (s / C) w`; for probabilities, `t = w ((1 - s) y + s / C)`.
 * Then `loss_i = -sum_c t_c log p_c` (a term with `t_c = 0` is 0, even where p_c = 0) and
 * `dloss_i/dz = p sum(t) - t`, which is `p - y` for a one-hot `y` (seeds 000 to 002).
 * `'mean'` divides by the summed `w[y]` of the rows not ignored (class ids) or by N
 * (probabilities), as PyTorch does; with nothing to divide by the loss is NaN and the gradient 0.
 */
export function crossEntropy(
  z: Float32Array,
  target: Float32Array | Int32Array,
  weights: Float32Array | null,
  plan: CrossEntropyPlan,
): { loss: Float32Array; grad: Float32Array | null } {
  const { rows, classes, labelSmoothing } = plan;
  const uniform = labelSmoothing / classes;
  const weightOf = (c: number) => (weights === null ? 1 : weights[c]!);
  const denominator = meanDenominator(target, weights, plan);
  const scale = plan.reduction !== 'mean' ? 1 : denominator !== 0 ? 1 / denominator : 0;

  const rowLoss = new Float64Array(rows);
  const grad = plan.withGrad ? new Float32Array(rows * classes) : null;
  const t = new Float64Array(classes);
  for (let i = 0; i < rows; i++) {
    const o = i * classes;
    if (plan.target === 'index') {
      const y = target[i]!;
      if (y === plan.ignoreIndex) continue;
      for (let c = 0; c < classes; c++) t[c] = uniform * weightOf(c);
      t[y]! += (1 - labelSmoothing) * weightOf(y);
    } else {
      for (let c = 0; c < classes; c++) t[c] = weightOf(c) * ((1 - labelSmoothing) * target[o + c]! + uniform);
    }
    const { max, logSum } = rowStats(z, o, classes);
    const shift = max === -Infinity ? Infinity : max + logSum;
    let loss = 0;
    let total = 0;
    for (let c = 0; c < classes; c++) {
      const tc = t[c]!;
      total += tc;
      if (tc !== 0) loss -= tc * (z[o + c]! - shift);
    }
    rowLoss[i] = loss;
    if (grad !== null) {
      for (let c = 0; c < classes; c++) grad[o + c] = (Math.exp(z[o + c]! - shift) * total - t[c]!) * scale;
    }
  }

  if (plan.reduction === 'none') return { loss: Float32Array.from(rowLoss), grad };
  let sum = 0;
  for (let i = 0; i < rows; i++) sum += rowLoss[i]!;
  const loss = plan.reduction === 'sum' ? sum : denominator !== 0 ? sum / denominator : NaN;
  return { loss: Float32Array.of(loss), grad };
}

/** What `'mean'` divides by: the summed class weights of the counted rows, or N for probabilities. */
export function meanDenominator(target: Float32Array | Int32Array, weights: Float32Array | null, plan: CrossEntropyPlan): number {
  if (plan.target === 'probs') return plan.rows;
  let total = 0;
  for (let i = 0; i < plan.rows; i++) {
    const y = target[i]!;
    if (y !== plan.ignoreIndex) total += weights === null ? 1 : weights[y]!;
  }
  return total;
}
