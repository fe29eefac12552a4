import type { ActivationPlan } from '../backend.js';

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/**
 * erf in float64 to about 1e-15: its Taylor series below 3, where it converges fast, and
 * Lentz's continued fraction for erfc above, where the series would cancel.
 */
export function erf(x: number): number {
  const a = Math.abs(x);
  if (a < 3) {
    let term = a;
    let sum = a;
    for (let n = 1; n < 100 && Math.abs(term) > 1e-17 * sum; n++) {
      term *= (-a * a) / n;
      sum += term / (2 * n + 1);
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(a) = exp(-a²)/√π · 1/(a + 1/2/(a + 1/(a + 3/2/(a + ...)))).
  let f = a;
  let c = a;
  let d = 0;
  for (let n = 1; n < 100; n++) {
    const k = n / 2;
    d = 1 / (a + k * d);
    c = a + k / c;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.sign(x) * (1 - Math.exp(-a * a) / (Math.sqrt(Math.PI) * f));
}

/** act(v) in float64. */
function forward(activation: ActivationPlan['activation']): (v: number) => number {
  if (activation === 'relu') return (v) => (v > 0 ? v : 0);
  if (activation === 'tanh') return Math.tanh;
  return (v) => 0.5 * v * (1 + erf(v * SQRT1_2));
}

/** act'(v) in float64; relu' is 0 at 0, as PyTorch's. */
function derivative(activation: ActivationPlan['activation']): (v: number) => number {
  if (activation === 'relu') return (v) => (v > 0 ? 1 : 0);
  if (activation === 'tanh') {
    return (v) => {
      const t = Math.tanh(v);
      return 1 - t * t;
    };
  }
  return (v) => 0.5 * (1 + erf(v * SQRT1_2)) + v * INV_SQRT_2PI * Math.exp(-0.5 * v * v);
}

/** `act(z)` into `out` (which may be `z`). */
export function activation(z: Float32Array, out: Float32Array, plan: ActivationPlan): void {
  const f = forward(plan.activation);
  for (let i = 0; i < plan.elements; i++) out[i] = f(z[i]!);
}

/** `grad * act'(z)` into `out` (which may be `grad`). */
export function activationBackward(z: Float32Array, grad: Float32Array, out: Float32Array, plan: ActivationPlan): void {
  const d = derivative(plan.activation);
  for (let i = 0; i < plan.elements; i++) out[i] = grad[i]! * d(z[i]!);
}
