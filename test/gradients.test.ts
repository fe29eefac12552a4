import { describe, expect, it } from 'vitest';
import type { Context, CrossEntropyOptions, Tensor } from '../src/index.js';
import { BACKENDS, openContext } from './helpers/backends.js';
import { labels, uniform } from './helpers/random.js';

type F32 = Tensor<'float32'>;

/** The scalar a loss tensor stands for: itself, or the sum of a `'none'` loss vector. */
async function scalar(ctx: Context, loss: F32): Promise<number> {
  const total = loss.shape.length === 0 ? loss : ctx.sum(loss);
  const [v] = await total.read();
  if (total !== loss) total.dispose();
  loss.dispose();
  return v!;
}

/**
 * Central differences of `f` at every element of `x` (float32 inputs, so a step of 1e-2 keeps
 * rounding noise near 1e-4 while the truncation error stays near h² = 1e-4 too).
 */
async function numericGradient(x: Float32Array, f: (x: Float32Array) => Promise<number>, h = 1e-2): Promise<Float64Array> {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const plus = x.slice();
    const minus = x.slice();
    plus[i]! += h;
    minus[i]! -= h;
    g[i] = ((await f(plus)) - (await f(minus))) / (2 * h);
  }
  return g;
}

function expectGradientsMatch(analytic: Float32Array, numeric: Float64Array): void {
  expect(analytic.length).toBe(numeric.length);
  let worst = 0;
  for (let i = 0; i < numeric.length; i++) {
    worst = Math.max(worst, Math.abs(analytic[i]! - numeric[i]!) / (2e-3 + 1e-2 * Math.abs(numeric[i]!)));
  }
  expect(worst, 'largest error in units of the tolerance (2e-3 + 1e-2 |g|)').toBeLessThanOrEqual(1);
}

const N = 4;
const C = 5;
const SOFT_TARGETS = Float32Array.from(uniform(N * C, 11), (v) => (v + 1) * 0.4); // rows sum to about 2, not 1

const CE_CASES: [string, 'index' | 'probs', CrossEntropyOptions<F32> & { classWeights?: readonly number[] }][] = [
  ['index, mean', 'index', {}],
  ['index, sum', 'index', { reduction: 'sum' }],
  ['index, none', 'index', { reduction: 'none' }],
  ['index, ignoreIndex', 'index', { ignoreIndex: 1 }],
  ['index, labelSmoothing', 'index', { labelSmoothing: 0.3 }],
  ['index, classWeights', 'index', { classWeights: [0.5, 2, 1, 3, 0.25] }],
  ['index, weights + smoothing + ignore, mean', 'index', { classWeights: [0.5, 2, 1, 3, 0.25], labelSmoothing: 0.2, ignoreIndex: 1 }],
  ['index, weights + smoothing + ignore, none', 'index', { reduction: 'none', classWeights: [0.5, 2, 1, 3, 0.25], labelSmoothing: 0.2, ignoreIndex: 1 }],
  ['probs not summing to 1, mean', 'probs', {}],
  ['probs, sum', 'probs', { reduction: 'sum' }],
  ['probs, weights + smoothing, none', 'probs', { reduction: 'none', classWeights: [0.5, 2, 1, 3, 0.25], labelSmoothing: 0.2 }],
];

describe.each(BACKENDS)('finite-difference gradients (%s)', (backend) => {
  it.each(CE_CASES)('crossEntropyWithGrad: %s', async (_name, kind, options) => {
    const ctx = await openContext(backend);
    const z0 = uniform(N * C, 7, 3);
    const target = kind === 'index' ? ctx.tensor(labels(N, C, 3)) : ctx.tensor(SOFT_TARGETS, [N, C]);
    const lossAt = (z: Float32Array) => {
      const zt = ctx.tensor(z, [N, C]);
      const loss = ctx.crossEntropy(zt, target, options);
      zt.dispose();
      return scalar(ctx, loss);
    };
    const z = ctx.tensor(z0, [N, C]);
    const { loss, grad } = ctx.crossEntropyWithGrad(z, target, options);
    loss.dispose();
    expectGradientsMatch(await grad.read(), await numericGradient(z0, lossAt));
    ctx.destroy();
  });

  it('softmaxBackward is the gradient of sum(softmax(z) * r)', async () => {
    const ctx = await openContext(backend);
    const z0 = uniform(3 * 7, 5, 2);
    const r = ctx.tensor(uniform(3 * 7, 6), [3, 7]);
    const objective = async (z: Float32Array) => {
      const zt = ctx.tensor(z, [3, 7]);
      const p = ctx.softmax(zt);
      const [pv, rv] = [await p.read(), await r.read()];
      zt.dispose();
      p.dispose();
      return pv.reduce((s, v, i) => s + v * rv[i]!, 0);
    };
    const p = ctx.softmax(ctx.tensor(z0, [3, 7]));
    const analytic = await ctx.softmaxBackward(p, r).read();
    expectGradientsMatch(analytic, await numericGradient(z0, objective));
    ctx.destroy();
  });

  it('dW = xᵀ dz and db = column sums of dz are the gradients of a linear layer + cross-entropy', async () => {
    const ctx = await openContext(backend);
    const [n, f, c] = [6, 4, 3];
    const x = ctx.tensor(uniform(n * f, 21, 2), [n, f]);
    const y = ctx.tensor(labels(n, c, 22));
    const w0 = uniform(f * c, 23);
    const b0 = uniform(c, 24);
    const lossOf = (w: Float32Array, b: Float32Array) => {
      const [wt, bt] = [ctx.tensor(w, [f, c]), ctx.tensor(b, [c])];
      const z = ctx.matmul(x, wt, { bias: bt });
      const loss = ctx.crossEntropy(z, y);
      for (const t of [wt, bt, z]) t.dispose();
      return scalar(ctx, loss);
    };
    const z = ctx.matmul(x, ctx.tensor(w0, [f, c]), { bias: ctx.tensor(b0, [c]) });
    const { grad } = ctx.crossEntropyWithGrad(z, y);
    const dw = await ctx.matmul(x, grad, { transposeA: true }).read();
    const db = await ctx.sum(grad, { axis: 0 }).read();
    expectGradientsMatch(dw, await numericGradient(w0, (w) => lossOf(w, b0)));
    expectGradientsMatch(db, await numericGradient(b0, (b) => lossOf(w0, b)));
    ctx.destroy();
  });

  it('the softmax Jacobian is diag(p) - p pᵀ', async () => {
    const ctx = await openContext(backend);
    const cols = 4;
    const z = ctx.tensor(uniform(cols, 31, 2), [1, cols]);
    const p = await ctx.softmax(z).read();
    for (let j = 0; j < cols; j++) {
      const e = new Float32Array(cols);
      e[j] = 1;
      const column = await ctx.softmaxBackward(ctx.softmax(z), ctx.tensor(e, [1, cols])).read();
      for (let i = 0; i < cols; i++) {
        const expected = (i === j ? p[i]! : 0) - p[i]! * p[j]!;
        expect(column[i]).toBeCloseTo(expected, 7);
      }
    }
    ctx.destroy();
  });
});
