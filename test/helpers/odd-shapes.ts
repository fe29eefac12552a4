import type { FixtureArray, FixtureCase } from './cases.js';
import { labels, uniform } from './random.js';

const f32 = (shape: number[], data: ArrayLike<number>): FixtureArray => ({
  shape,
  dtype: 'float32',
  data: Array.from(data, (v) => (Number.isNaN(v) ? 'NaN' : v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : v)),
});
const i32 = (data: Int32Array): FixtureArray => ({ shape: [data.length], dtype: 'int32', data: Array.from(data) });

/** Logits with the rows the numerics promise to survive: 1e4, -1e30, -Infinity masks and a NaN row. */
function specialLogits(rows: number, cols: number, seed: number): Float32Array {
  const z = uniform(rows * cols, seed, 4);
  for (let c = 0; c < cols; c++) {
    z[c] = 1e4 + (c % 7);
    if (rows > 1) z[cols + c] = c % 2 === 0 ? -1e30 : (c % 5) - 2;
    if (rows > 2 && c % 3 !== 1) z[2 * cols + c] = -Infinity;
  }
  if (rows > 3) z[3 * cols + Math.floor(cols / 2)] = NaN;
  return z;
}

function rowCases(tag: string, rows: number, cols: number, seed: number, special = false, only?: readonly string[]): FixtureCase[] {
  const z = f32([rows, cols], special ? specialLogits(rows, cols, seed) : uniform(rows * cols, seed, 4));
  const p = f32([rows, cols], uniform(rows * cols, seed + 1).map((v) => (v + 1) / 2));
  const dp = f32([rows, cols], uniform(rows * cols, seed + 2));
  const y = labels(rows, cols, seed + 3);
  if (special && rows > 2) y[2] = 1; // the class left finite in the masked row
  const target = i32(y);
  const soft = f32([rows, cols], uniform(rows * cols, seed + 4).map((v) => (v + 1) * 0.6));
  const base = { options: {}, expected: {} };
  const cases: FixtureCase[] = [
    { ...base, name: `softmax ${tag}`, op: 'softmax', inputs: { z } },
    { ...base, name: `logSoftmax ${tag}`, op: 'logSoftmax', inputs: { z } },
    { ...base, name: `softmaxBackward ${tag}`, op: 'softmaxBackward', inputs: { p, dp } },
    { ...base, name: `crossEntropy ids mean ${tag}`, op: 'crossEntropy', inputs: { z, target } },
    { ...base, name: `crossEntropy ids none, smoothing ${tag}`, op: 'crossEntropy', inputs: { z, target }, options: { reduction: 'none', labelSmoothing: 0.1 } },
    { ...base, name: `crossEntropy probs sum ${tag}`, op: 'crossEntropy', inputs: { z, target: soft }, options: { reduction: 'sum' } },
    { ...base, name: `sum axis 0 ${tag}`, op: 'sum', inputs: { t: dp }, options: { axis: 0 } },
  ];
  return only === undefined ? cases : cases.filter((c) => only.some((name) => c.name.startsWith(name)));
}

function matmulCase(name: string, a: number[], b: number[], options: { transposeA?: boolean; transposeB?: boolean }, bias: boolean, seed: number): FixtureCase {
  const n = options.transposeB ? b[b.length - 2]! : b[b.length - 1]!;
  return {
    name: `matmul ${name}`,
    op: 'matmul',
    inputs: {
      a: f32(a, uniform(a.reduce((x, y) => x * y, 1), seed)),
      b: f32(b, uniform(b.reduce((x, y) => x * y, 1), seed + 1)),
      ...(bias ? { bias: f32([n], uniform(n, seed + 2)) } : {}),
    },
    options: { transposeA: options.transposeA ?? false, transposeB: options.transposeB ?? false },
    expected: {},
  };
}

/**
 * The odd shapes of the WebGPU parity suite, with random inputs: no reference but the CPU
 * backend. Their names start with "random " so they never collide with a fixture's.
 */
export function oddShapeCases(): FixtureCase[] {
  const cases: FixtureCase[] = [
    ...rowCases('1x1', 1, 1, 100),
    ...rowCases('7x33', 7, 33, 200),
    ...rowCases('5x4099 with 1e4, -1e30, -Infinity and NaN rows', 5, 4099, 300, true),
    ...rowCases('2x100000', 2, 100000, 400),
    // Dispatched one row per workgroup, 70 000 rows need a folded grid (SwiftShader runs each
    // of those workgroups slowly, so only the ops with distinct kernels take this shape).
    ...rowCases('70000x10', 70000, 10, 500, false, ['softmax', 'crossEntropy ids mean', 'softmaxBackward']),
    ...rowCases('6x10 with 1e4, -1e30, -Infinity and NaN rows', 6, 10, 600, true),
    matmulCase('1x1 · 1x1', [1, 1], [1, 1], {}, true, 700),
    matmulCase('7x33 · 33x5', [7, 33], [33, 5], {}, true, 710),
    matmulCase('7x33 · 33x40, b transposed', [7, 33], [40, 33], { transposeB: true }, true, 720),
    matmulCase('5x4099 · 4099x3', [5, 4099], [4099, 3], {}, false, 730),
    matmulCase('(1024x784)ᵀ · 1024x10, the dW shape', [1024, 784], [1024, 10], { transposeA: true }, false, 740),
    matmulCase('1024x784 · 784x10 + bias, the logits shape', [1024, 784], [784, 10], {}, true, 750),
    matmulCase('batched 3x65x67 · 67x66, both transposed', [3, 67, 65], [66, 67], { transposeA: true, transposeB: true }, true, 760),
    matmulCase('70000x3 · 3x20', [70000, 3], [3, 20], {}, true, 770),
  ];
  return cases.map((c) => ({ ...c, name: `random ${c.name}` }));
}
