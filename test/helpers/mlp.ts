import type { MlpActivation, MlpDescription } from '../../src/export/index.js';
import { layerSizes } from '../../src/export/index.js';
import { uniform } from './random.js';

/** A head with seeded weights, uniform in ±1/√in as nn.Linear's, biases included. */
export function randomMlp(
  features: number,
  hidden: number[],
  classes: number,
  activation: MlpActivation,
  seed: number,
): MlpDescription {
  const layers = layerSizes({ features, hidden, classes }).map(([inSize, outSize], i) => ({
    weight: uniform(inSize * outSize, seed * 100 + 2 * i, 1 / Math.sqrt(inSize)),
    bias: uniform(outSize, seed * 100 + 2 * i + 1, 1 / Math.sqrt(inSize)),
  }));
  return { features, classes, hidden, activation, layers };
}

/** erf in float64 to about 1e-13: its Taylor series below 3, a continued fraction for erfc above. */
export function erf64(x: number): number {
  const a = Math.abs(x);
  if (a < 3) {
    let term = a;
    let sum = a;
    for (let n = 1; n < 200 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
      term *= (-a * a) / n;
      sum += term / (2 * n + 1);
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(a) = exp(-a²)/√π · 1/(a + (1/2)/(a + 1/(a + (3/2)/(a + ...)))), evaluated from the tail.
  let k = a;
  for (let n = 60; n >= 1; n--) k = a + n / 2 / k;
  return Math.sign(x) * (1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / k);
}

const ACTIVATIONS: Record<MlpActivation, (v: number) => number> = {
  relu: (v) => Math.max(v, 0),
  tanh: Math.tanh,
  gelu: (v) => 0.5 * v * (1 + erf64(v / Math.SQRT2)),
};

/** The head's logits and probabilities for `x` [rows, features], computed in float64. */
export function forward64(desc: MlpDescription, x: ArrayLike<number>, rows: number): { logits: Float64Array; probabilities: Float64Array } {
  let h = Float64Array.from(x);
  const sizes = layerSizes(desc);
  sizes.forEach(([inSize, outSize], l) => {
    const { weight, bias } = desc.layers[l]!;
    const out = new Float64Array(rows * outSize);
    for (let r = 0; r < rows; r++) {
      for (let o = 0; o < outSize; o++) {
        let s = bias[o]!;
        for (let i = 0; i < inSize; i++) s += h[r * inSize + i]! * weight[i * outSize + o]!;
        out[r * outSize + o] = l === sizes.length - 1 ? s : ACTIVATIONS[desc.activation](s);
      }
    }
    h = out;
  });
  const probabilities = new Float64Array(h.length);
  for (let r = 0; r < rows; r++) {
    const row = h.subarray(r * desc.classes, (r + 1) * desc.classes);
    const max = Math.max(...row);
    const exps = row.map((v) => Math.exp(v - max));
    const total = exps.reduce((a, b) => a + b, 0);
    exps.forEach((e, c) => (probabilities[r * desc.classes + c] = e / total));
  }
  return { logits: h, probabilities };
}

/** The largest |a - b| over two equally long arrays (Infinity if their lengths differ). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** The cases whose exports are committed under test/fixtures/export/ and read by PyTorch there. */
export const EXPORT_CASES = [
  { name: 'ours-relu', features: 6, hidden: [8], classes: 5, activation: 'relu', seed: 11 },
  { name: 'ours-gelu', features: 6, hidden: [8, 7], classes: 5, activation: 'gelu', seed: 12 },
  { name: 'ours-tanh', features: 6, hidden: [8], classes: 5, activation: 'tanh', seed: 13 },
  { name: 'ours-linear', features: 6, hidden: [], classes: 5, activation: 'relu', seed: 14 },
] as const satisfies readonly { name: string; features: number; hidden: readonly number[]; classes: number; activation: MlpActivation; seed: number }[];

/** The rows every fixture case is evaluated on: 4 × 6 float32 in [-2, 2). */
export const EXPORT_INPUT = { rows: 4, features: 6, data: uniform(24, 99, 2) };

export function exportCase(c: (typeof EXPORT_CASES)[number]): MlpDescription {
  return randomMlp(c.features, [...c.hidden], c.classes, c.activation, c.seed);
}
