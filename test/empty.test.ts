import { describe, expect, it } from 'vitest';
import { BACKENDS, openContext } from './helpers/backends.js';

/**
 * Empty batches are legal. What they give: row-wise ops give empty tensors of the input's
 * shape; a matmul with K = 0 gives zeros (plus the bias); column sums of no rows are zeros;
 * cross-entropy of N = 0 rows is NaN for 'mean' (0 / 0, as in PyTorch), 0 for 'sum', `[0]` for
 * 'none', with a `[0, C]` gradient.
 */
describe.each(BACKENDS)('empty batches (%s)', (backend) => {
  it('row-wise ops and matmul', async () => {
    const ctx = await openContext(backend);
    const z = ctx.tensor(new Float32Array(0), [0, 5]);
    for (const out of [ctx.softmax(z), ctx.logSoftmax(z), ctx.softmaxBackward(z, z)]) {
      expect(out.shape).toEqual([0, 5]);
      expect(await out.read()).toEqual(new Float32Array(0));
    }
    const k0 = ctx.matmul(ctx.tensor(new Float32Array(0), [3, 0]), ctx.tensor(new Float32Array(0), [0, 2]), {
      bias: ctx.tensor(new Float32Array([1, -2]), [2]),
    });
    expect(k0.shape).toEqual([3, 2]);
    expect(Array.from(await k0.read())).toEqual([1, -2, 1, -2, 1, -2]);
    const m0 = ctx.matmul(ctx.tensor(new Float32Array(0), [0, 4]), ctx.tensor(new Float32Array(12), [4, 3]));
    expect(m0.shape).toEqual([0, 3]);
    expect((await m0.read()).length).toBe(0);
    ctx.destroy();
  });

  it('sums', async () => {
    const ctx = await openContext(backend);
    const t = ctx.tensor(new Float32Array(0), [0, 4]);
    expect(Array.from(await ctx.sum(t, { axis: 0 }).read())).toEqual([0, 0, 0, 0]);
    const all = ctx.sum(t);
    expect(all.shape).toEqual([]);
    expect(Array.from(await all.read())).toEqual([0]);
    ctx.destroy();
  });

  it('cross-entropy of no rows', async () => {
    const ctx = await openContext(backend);
    const z = ctx.tensor(new Float32Array(0), [0, 5]);
    const y = ctx.tensor(new Int32Array(0));
    const mean = ctx.crossEntropyWithGrad(z, y);
    expect(mean.loss.shape).toEqual([]);
    expect(Number.isNaN((await mean.loss.read())[0])).toBe(true);
    expect(mean.grad.shape).toEqual([0, 5]);
    expect(Array.from(await ctx.crossEntropy(z, y, { reduction: 'sum' }).read())).toEqual([0]);
    const none = ctx.crossEntropy(z, y, { reduction: 'none' });
    expect(none.shape).toEqual([0]);
    expect((await none.read()).length).toBe(0);
    ctx.destroy();
  });

  it('cross-entropy where every row is ignored: NaN mean, zero gradient', async () => {
    const ctx = await openContext(backend);
    const z = ctx.tensor(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
    const { loss, grad } = ctx.crossEntropyWithGrad(z, ctx.tensor(new Int32Array([-100, -100])));
    expect(Number.isNaN((await loss.read())[0])).toBe(true);
    expect(Array.from(await grad.read())).toEqual([0, 0, 0, 0, 0, 0]);
    ctx.destroy();
  });
});

describe.each(BACKENDS)('memory accounting (%s)', (backend) => {
  it('counts live tensors and their bytes, and gives them back on dispose', async () => {
    const ctx = await openContext(backend);
    const before = ctx.memory();
    expect(before.tensors).toBe(0);
    const a = ctx.tensor(new Float32Array(6), [2, 3]);
    const p = ctx.softmax(a);
    const now = ctx.memory();
    expect(now.tensors).toBe(2);
    expect(now.bytes).toBeGreaterThanOrEqual(48);
    a.dispose();
    p.dispose();
    expect(ctx.memory()).toMatchObject({ tensors: 0, bytes: 0 });
    ctx.destroy();
  });
});
