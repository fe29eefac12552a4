import type { LinearCrossEntropyPlan, MatmulPlan } from '../backend.js';
import { meanDenominator } from './cross-entropy.js';
import { matmul } from './matmul.js';

/** What `linearCrossEntropy` returns: the loss and, when asked, the gradients (float32). */
export interface LinearCrossEntropyArrays {
  readonly loss: Float32Array;
  readonly gradX: Float32Array | null;
  readonly gradWeight: Float32Array | null;
  readonly gradBias: Float32Array | null;
}

/** A chunk's logits stay within this many bytes unless `chunkRows` says otherwise. */
const LOGITS_CHUNK_BYTES = 4 * 2 ** 20;

/**
 * `crossEntropy(x · weight + bias)` and its gradients, a chunk of rows at a time, so the only
 * logits held are a chunk's `[R, C]` (4 MiB by default, or `chunkRows` rows), never `[N, C]`.
 *
 * The products go through the CPU matmul (each output a float64 sum rounded once to float32,
 * as in the unfused chain); each row's effective target weights `t` follow
 * src/cpu/cross-entropy.ts (PyTorch's semantics), and `dz = (p sum(t) - t) * scale`. `scale`
 * (1 / the mean's denominator) is known from the targets before the first chunk, so each
 * chunk's gradient is final when it is formed; `gradW` and `gradBias` sum over the chunks in
 * float64.
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
  const { rows, classes: c, labelSmoothing, withGrad } = ce;
  const uniform = labelSmoothing / c;
  const weightOf = (k: number) => (classWeights === null ? 1 : classWeights[k]!);
  const denominator = meanDenominator(target, classWeights, ce);
  const scale = ce.reduction !== 'mean' ? 1 : denominator !== 0 ? 1 / denominator : 0;
  const chunk = Math.max(1, Math.min(rows, plan.chunkRows ?? Math.floor(LOGITS_CHUNK_BYTES / (4 * c))));

  const rowLoss = new Float64Array(rows);
  const gradX = withGrad && plan.withGradX ? new Float32Array(rows * d) : null;
  const gradW = withGrad ? new Float64Array(d * c) : null;
  const gradB = withGrad && bias !== null ? new Float64Array(c) : null;
  const t = new Float64Array(c);
  let correct = 0;
  let counted = 0;
  for (let first = 0; first < rows; first += chunk) {
    const r = Math.min(chunk, rows - first);
    const xc = x.subarray(first * d, (first + r) * d);
    const z = matmul(xc, weight, bias, linear(r, d, c, false, transposeWeight));
    for (let i = 0; i < r; i++) {
      const row = first + i;
      const o = i * c;
      if (ce.target === 'index') {
        const y = target[row]!;
        if (y === ce.ignoreIndex) {
          z.fill(0, o, o + c);
          continue;
        }
        for (let k = 0; k < c; k++) t[k] = uniform * weightOf(k);
        t[y]! += (1 - labelSmoothing) * weightOf(y);
      } else {
        const to = row * c;
        for (let k = 0; k < c; k++) t[k] = weightOf(k) * ((1 - labelSmoothing) * target[to + k]! + uniform);
      }
      // The max for the log-sum-exp, and the first largest logit for the metrics (none with a NaN).
      let max = -Infinity;
      let best = -1;
      let nan = false;
      for (let k = 0; k < c; k++) {
        const v = z[o + k]!;
        if (Number.isNaN(v)) nan = true;
        else if (best < 0 || v > max) {
          best = k;
          max = v;
        }
      }
      if (metrics !== null) {
        counted++;
        const truth = ce.target === 'index' ? target[row]! : argmax(target, row * c, c);
        if (!nan && best === truth) correct++;
      }
      let sumExp = 0;
      if (max !== -Infinity) for (let k = 0; k < c; k++) sumExp += Math.exp(z[o + k]! - max);
      const shift = max === -Infinity ? Infinity : max + Math.log(sumExp);
      let loss = 0;
      let total = 0;
      for (let k = 0; k < c; k++) {
        const tk = t[k]!;
        total += tk;
        if (tk !== 0) loss -= tk * (z[o + k]! - shift);
      }
      rowLoss[row] = loss;
      // The chunk's logits become its dz in place.
      if (withGrad) for (let k = 0; k < c; k++) z[o + k] = (Math.exp(z[o + k]! - shift) * total - t[k]!) * scale;
    }
    if (gradW === null) continue;
    if (gradX !== null) gradX.set(matmul(z, weight, null, linear(r, c, d, false, !transposeWeight)), first * d);
    const part = transposeWeight ? matmul(z, xc, null, linear(c, r, d, true, false)) : matmul(xc, z, null, linear(d, r, c, true, false));
    for (let i = 0; i < part.length; i++) gradW[i]! += part[i]!;
    if (gradB !== null) {
      for (let i = 0; i < r; i++) for (let k = 0; k < c; k++) gradB[k]! += z[i * c + k]!;
    }
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
    gradBias: gradB === null ? null : Float32Array.from(gradB),
  };
}

function linear(m: number, k: number, n: number, transposeA: boolean, transposeB: boolean): MatmulPlan {
  return { batch: 1, m, k, n, transposeA, transposeB, aBatchStride: 0, bBatchStride: 0 };
}

/** The first index of a probability row's largest entry. */
function argmax(a: Float32Array | Int32Array, offset: number, cols: number): number {
  let best = 0;
  for (let k = 1; k < cols; k++) if (a[offset + k]! > a[offset + best]!) best = k;
  return best;
}
