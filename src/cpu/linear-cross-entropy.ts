import type { LinearCrossEntropyPlan } from '../backend.js';
import { meanDenominator } from './cross-entropy.js';

/** What `linearCrossEntropy` returns: the loss and, when asked, the gradients (float32). */
export interface LinearCrossEntropyArrays {
  readonly loss: Float32Array;
  readonly gradX: Float32Array | null;
  readonly gradWeight: Float32Array | null;
  readonly gradBias: Float32Array | null;
}

/**
 * `crossEntropy(x · weight + bias)` and its gradients, one row of logits at a time, in float64:
 * the only per-row memory is the row's logits, never `[N, C]`.
 *
 * Each row's effective target weights `t` follow src/cpu/cross-entropy.ts (PyTorch's
 * semantics); then `dz = (p sum(t) - t) * scale`, `gradX_i = dz · Wᵀ`, `gradW += x_iᵀ dz`,
 * `gradBias += dz`. `scale` (1 / the mean's denominator) is known from the targets before the
 * first row, so each row's gradient is final when it is formed.
 *
 * @example
 * const { loss } = linearCrossEntropy(x, w, null, labels, null, null, plan);
 */
export function linearCrossEntropy(
  x: Float32Array,
  weight: Float32Array,
  bias: Float32Array | null,
  target: Float32Array | Int32Array,
  classWeights: Float32Array | null,
  metrics: Float32Array | null,
  plan: LinearCrossEntropyPlan,
): LinearCrossEntropyArrays {
  const { features: d, transposeWeight } = plan;
  const ce = plan.crossEntropy;
  const { rows, classes: c, labelSmoothing } = ce;
  const uniform = labelSmoothing / c;
  const weightOf = (k: number) => (classWeights === null ? 1 : classWeights[k]!);
  const denominator = meanDenominator(target, classWeights, ce);
  const scale = ce.reduction !== 'mean' ? 1 : denominator !== 0 ? 1 / denominator : 0;
  // W[f, k] sits at f * fStride + k * kStride whatever the layout.
  const fStride = transposeWeight ? 1 : c;
  const kStride = transposeWeight ? d : 1;

  const rowLoss = new Float64Array(rows);
  const gradX = ce.withGrad && plan.withGradX ? new Float32Array(rows * d) : null;
  const gradW = ce.withGrad ? new Float64Array(d * c) : null;
  const gradB = ce.withGrad && bias !== null ? new Float64Array(c) : null;
  const z = new Float64Array(c);
  const t = new Float64Array(c);
  const gx = new Float64Array(d);
  let correct = 0;
  let counted = 0;
  for (let i = 0; i < rows; i++) {
    const xo = i * d;
    if (ce.target === 'index') {
      const y = target[i]!;
      if (y === ce.ignoreIndex) continue;
      for (let k = 0; k < c; k++) t[k] = uniform * weightOf(k);
      t[y]! += (1 - labelSmoothing) * weightOf(y);
    } else {
      const to = i * c;
      for (let k = 0; k < c; k++) t[k] = weightOf(k) * ((1 - labelSmoothing) * target[to + k]! + uniform);
    }
    for (let k = 0; k < c; k++) z[k] = bias === null ? 0 : bias[k]!;
    for (let f = 0; f < d; f++) {
      const xf = x[xo + f]!;
      const wo = f * fStride;
      for (let k = 0; k < c; k++) z[k]! += xf * weight[wo + k * kStride]!;
    }
    // The max for the log-sum-exp, and the first largest logit for the metrics (none with a NaN).
    let max = -Infinity;
    let best = -1;
    let nan = false;
    for (let k = 0; k < c; k++) {
      const v = z[k]!;
      if (Number.isNaN(v)) nan = true;
      else if (best < 0 || v > max) {
        best = k;
        max = v;
      }
    }
    if (metrics !== null) {
      counted++;
      const truth = ce.target === 'index' ? target[i]! : argmax(target, i * c, c);
      if (!nan && best === truth) correct++;
    }
    let sumExp = 0;
    if (max !== -Infinity) for (let k = 0; k < c; k++) sumExp += Math.exp(z[k]! - max);
    const shift = max === -Infinity ? Infinity : max + Math.log(sumExp);
    let loss = 0;
    let total = 0;
    for (let k = 0; k < c; k++) {
      const tk = t[k]!;
      total += tk;
      if (tk !== 0) loss -= tk * (z[k]! - shift);
    }
    rowLoss[i] = loss;
    if (gradW === null) continue;
    // z becomes dz in place.
    for (let k = 0; k < c; k++) z[k] = (Math.exp(z[k]! - shift) * total - t[k]!) * scale;
    gx.fill(0);
    for (let f = 0; f < d; f++) {
      const xf = x[xo + f]!;
      const wo = f * fStride;
      if (gradX === null) {
        for (let k = 0; k < c; k++) gradW[wo + k * kStride]! += xf * z[k]!;
        continue;
      }
      let s = 0;
      for (let k = 0; k < c; k++) {
        const dz = z[k]!;
        s += dz * weight[wo + k * kStride]!;
        gradW[wo + k * kStride]! += xf * dz;
      }
      gx[f] = s;
    }
    gradX?.set(gx, xo);
    if (gradB !== null) for (let k = 0; k < c; k++) gradB[k]! += z[k]!;
  }

  let loss: Float32Array;
  if (ce.reduction === 'none') loss = Float32Array.from(rowLoss);
  else {
    let sum = 0;
    for (let i = 0; i < rows; i++) sum += rowLoss[i]!;
    loss = Float32Array.of(ce.reduction === 'sum' ? sum : denominator !== 0 ? sum / denominator : NaN);
  }
  if (metrics !== null) {
    const f = Math.fround;
    metrics[0] = f(metrics[0]! + f(loss[0]! * plan.metricsLossScale!));
    metrics[1] = metrics[1]! + correct;
    metrics[2] = metrics[2]! + counted;
    metrics[3] = metrics[3]! + rows;
  }
  return {
    loss,
    gradX,
    gradWeight: gradW === null ? null : Float32Array.from(gradW),
    gradBias: ce.withGrad && bias !== null ? Float32Array.from(gradB!) : null,
  };
}

/** The first index of a probability row's largest entry. */
function argmax(a: Float32Array | Int32Array, offset: number, cols: number): number {
  let best = 0;
  for (let k = 1; k < cols; k++) if (a[offset + k]! > a[offset + best]!) best = k;
  return best;
}
