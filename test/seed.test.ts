import { describe, expect, it } from 'vitest';
import { BACKENDS, openContext } from './helpers/backends.js';

/** Relative agreement to 6 significant digits. */
function expectDigits(actual: ArrayLike<number>, expected: readonly number[]): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    expect(Math.abs(actual[i]! - expected[i]!), `element ${i}: ${actual[i]} vs ${expected[i]}`).toBeLessThanOrEqual(
      5e-6 * Math.max(1, Math.abs(expected[i]!)),
    );
  }
}

describe.each(BACKENDS)('seed examples (%s)', (backend) => {
  it('seed 001: one SGD step with learning rate 1 from W = 0.5, b = 1, x = [8, 7], y = [0, 0, 1]', async () => {
    const ctx = await openContext(backend);
    const x = ctx.tensor(new Float32Array([8, 7]), [1, 2]);
    const w = ctx.tensor(new Float32Array(6).fill(0.5), [2, 3]);
    const b = ctx.tensor(new Float32Array(3).fill(1), [3]);
    const y = ctx.tensor(new Float32Array([0, 0, 1]), [1, 3]);

    const { loss, grad } = ctx.crossEntropyWithGrad(ctx.matmul(x, w, { bias: b }), y);
    // All three logits are equal, so p = 1/3 and the true cross-entropy is ln 3 (the seed's
    // printed 1.9095 is a summed binary cross-entropy, not this loss).
    expectDigits(await loss.read(), [Math.log(3)]);
    expectDigits(await grad.read(), [1 / 3, 1 / 3, -2 / 3]);

    const dw = await ctx.matmul(x, grad, { transposeA: true }).read();
    const db = await ctx.sum(grad, { axis: 0 }).read();
    const w1 = Array.from(dw, (g) => 0.5 - g);
    const b1 = Array.from(db, (g) => 1 - g);
    expectDigits(w1, [-2.16667, -2.16667, 5.83333, -1.83333, -1.83333, 5.16667]);
    expectDigits(b1, [0.66667, 0.66667, 1.66667]);
    expectDigits(w1, [-13 / 6, -13 / 6, 35 / 6, -11 / 6, -11 / 6, 31 / 6]);
    expectDigits(b1, [2 / 3, 2 / 3, 5 / 3]);

    // After the step the right class leads by 114 nats: the loss is about 2e-50, 0 in float32.
    const z1 = ctx.matmul(x, ctx.tensor(Float32Array.from(w1), [2, 3]), { bias: ctx.tensor(Float32Array.from(b1), [3]) });
    const [after] = await ctx.crossEntropy(z1, y).read();
    expect(after).toBeGreaterThanOrEqual(0);
    expect(after).toBeLessThan(1e-30);
    ctx.destroy();
  });

  it('seed 002: soft targets that do not sum to 1 give dL/dz = p * sum(y) - y', async () => {
    const ctx = await openContext(backend);
    const z = [0.5, -1.25, 2];
    const y = [0.2, 0.5, 0.6];
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const p = e.map((v) => v / e.reduce((s, x) => s + x, 0));
    const { loss, grad } = ctx.crossEntropyWithGrad(
      ctx.tensor(Float32Array.from(z), [1, 3]),
      ctx.tensor(Float32Array.from(y), [1, 3]),
      { reduction: 'sum' },
    );
    expectDigits(await grad.read(), p.map((pc, c) => pc * 1.3 - y[c]!));
    expectDigits(await loss.read(), [-y.reduce((s, yc, c) => s + yc * Math.log(p[c]!), 0)]);
    ctx.destroy();
  });
});
