import { halfTable } from '../float16.js';
import type { AdamPlan, AdamWPlan, GatherPlan, MetricsPlan, RmspropPlan, SgdPlan } from '../backend.js';

const f = Math.fround;

/** Rows taken at `indices[start + r]`, or from row `start` on. */
export function gatherRows(t: Float32Array | Int32Array | Uint16Array, indices: Int32Array | null, { rows, cols, start, widen }: GatherPlan): Float32Array | Int32Array | Uint16Array {
  const halves = widen ? halfTable() : null;
  const out = halves !== null ? new Float32Array(rows * cols) : new (t.constructor as new (n: number) => typeof t)(rows * cols);
  for (let r = 0; r < rows; r++) {
    const from = (indices === null ? start + r : indices[start + r]!) * cols;
    if (halves === null) out.set(t.subarray(from, from + cols), r * cols);
    else for (let c = 0; c < cols; c++) out[r * cols + c] = halves[t[from + c]!]!;
  }
  return out;
}

// The optimizer steps round every operation to float32 in the order the WGSL kernels
// (shaders/optimizers.wgsl) evaluate them, so both backends take the same steps.

export function sgdStep(p: Float32Array, g: Float32Array, velocity: Float32Array | null, plan: SgdPlan): void {
  const lr = f(plan.learningRate);
  const momentum = f(plan.momentum);
  const decay = f(plan.weightDecay);
  for (let i = 0; i < plan.elements; i++) {
    let d = f(g[i]! + f(decay * p[i]!));
    if (velocity !== null) {
      const v = f(f(momentum * velocity[i]!) + d);
      velocity[i] = v;
      d = plan.nesterov ? f(d + f(momentum * v)) : v;
    }
    p[i] = f(p[i]! - f(lr * d));
  }
}

export function adamStep(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, plan: AdamPlan): void {
  const [stepSize, correction2Sqrt] = [f(plan.stepSize), f(plan.correction2Sqrt)];
  const [b1, b2, eps, decay] = [f(plan.beta1), f(plan.beta2), f(plan.epsilon), f(plan.weightDecay)];
  for (let i = 0; i < plan.elements; i++) {
    const d = f(g[i]! + f(decay * p[i]!));
    const mi = f(f(b1 * m[i]!) + f(f(1 - b1) * d));
    const vi = f(f(b2 * v[i]!) + f(f(f(1 - b2) * d) * d));
    m[i] = mi;
    v[i] = vi;
    const denom = f(f(f(Math.sqrt(vi)) / correction2Sqrt) + eps);
    p[i] = f(p[i]! - f(stepSize * f(mi / denom)));
  }
}

export function adamwStep(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, plan: AdamWPlan): void {
  const [scale, stepSize, correction2Sqrt] = [f(plan.paramScale), f(plan.stepSize), f(plan.correction2Sqrt)];
  const [b1, b2, eps] = [f(plan.beta1), f(plan.beta2), f(plan.epsilon)];
  for (let i = 0; i < plan.elements; i++) {
    const d = g[i]!;
    const mi = f(f(b1 * m[i]!) + f(f(1 - b1) * d));
    const vi = f(f(b2 * v[i]!) + f(f(f(1 - b2) * d) * d));
    m[i] = mi;
    v[i] = vi;
    const denom = f(f(f(Math.sqrt(vi)) / correction2Sqrt) + eps);
    p[i] = f(f(p[i]! * scale) - f(stepSize * f(mi / denom)));
  }
}

export function rmspropStep(
  p: Float32Array,
  g: Float32Array,
  square: Float32Array,
  mean: Float32Array | null,
  buffer: Float32Array | null,
  plan: RmspropPlan,
): void {
  const [lr, alpha, eps, decay, momentum] = [f(plan.learningRate), f(plan.alpha), f(plan.epsilon), f(plan.weightDecay), f(plan.momentum)];
  const rest = f(1 - alpha);
  for (let i = 0; i < plan.elements; i++) {
    const d = f(g[i]! + f(decay * p[i]!));
    const s = f(f(alpha * square[i]!) + f(f(rest * d) * d));
    square[i] = s;
    let variance = s;
    if (mean !== null) {
      const a = f(f(alpha * mean[i]!) + f(rest * d));
      mean[i] = a;
      variance = f(s - f(a * a));
    }
    const denom = f(f(Math.sqrt(variance)) + eps);
    let step = f(d / denom);
    if (buffer !== null) {
      step = f(f(momentum * buffer[i]!) + step);
      buffer[i] = step;
    }
    p[i] = f(p[i]! - f(lr * step));
  }
}

/** The first index of a row's largest value; -1 when the row holds NaN (never right). */
function argmax(a: Float32Array, offset: number, cols: number): number {
  let best = -1;
  let max = -Infinity;
  for (let c = 0; c < cols; c++) {
    const v = a[offset + c]!;
    if (Number.isNaN(v)) return -1;
    if (best < 0 || v > max) {
      best = c;
      max = v;
    }
  }
  return best;
}

export function accumulateMetrics(z: Float32Array, target: Float32Array | Int32Array, loss: number, acc: Float32Array, plan: MetricsPlan): void {
  let correct = 0;
  let counted = 0;
  for (let r = 0; r < plan.rows; r++) {
    const truth = plan.target === 'index' ? target[r]! : argmax(target as Float32Array, r * plan.classes, plan.classes);
    if (plan.target === 'index' && truth === plan.ignoreIndex) continue;
    counted++;
    if (argmax(z, r * plan.classes, plan.classes) === truth) correct++;
  }
  acc[0] = f(acc[0]! + f(loss * plan.lossScale));
  acc[1] = acc[1]! + correct;
  acc[2] = acc[2]! + counted;
  acc[3] = acc[3]! + plan.rows;
}

// The non-finite guard (shaders/guard.wgsl on WebGPU), on the guard's four int32 words:
// [last bad step + 1, first bad step (-1: none), bad steps, 0].

/** Whether the guard skips its step's updates (see `StepGuard`). */
export function guardSkips(words: Int32Array, step: number, sticky: boolean): boolean {
  return sticky ? words[0] !== 0 : words[0] === step + 1;
}

/** Marks `step` as bad where any of `values` is NaN or ±Infinity. */
export function checkFinite(values: readonly Float32Array[], words: Int32Array, step: number): void {
  if (words[0] === step + 1) return;
  for (const a of values) {
    for (let i = 0; i < a.length; i++) {
      // NaN - NaN and ±Infinity - ±Infinity are NaN; any finite x - x is 0.
      const v = a[i]!;
      if (v - v !== 0) {
        words[0] = step + 1;
        words[2] = words[2]! + 1;
        if (words[1] === -1) words[1] = step;
        return;
      }
    }
  }
}

/** `acc += stepAcc` (float32) unless the step was bad; `stepAcc` zeroed either way. */
export function commitMetrics(stepAcc: Float32Array, acc: Float32Array, words: Int32Array, step: number): void {
  const good = words[0] !== step + 1;
  for (let k = 0; k < 4; k++) {
    if (good) acc[k] = acc[k]! + stepAcc[k]!;
    stepAcc[k] = 0;
  }
}
