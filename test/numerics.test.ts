import { describe, expect, it } from 'vitest';
import { BACKENDS, openContext } from './helpers/backends.js';
import { labels, uniform } from './helpers/random.js';

const NEG_INF = -Infinity;

describe.each(BACKENDS)('numerics (%s)', (backend) => {
  it('softmax rows sum to 1, for few and for many columns', async () => {
    const ctx = await openContext(backend);
    for (const [rows, cols] of [[64, 10], [5, 4099], [2, 1]] as const) {
      const p = await ctx.softmax(ctx.tensor(uniform(rows * cols, rows + cols, 8), [rows, cols])).read();
      for (let r = 0; r < rows; r++) {
        let sum = 0;
        for (let c = 0; c < cols; c++) sum += p[r * cols + c]!;
        expect(Math.abs(sum - 1), `${rows}x${cols} row ${r}`).toBeLessThan(1e-5);
      }
    }
    ctx.destroy();
  });

  it('gradient rows sum to 0 for one-hot targets', async () => {
    const ctx = await openContext(backend);
    const [rows, cols] = [32, 10];
    const { grad } = ctx.crossEntropyWithGrad(
      ctx.tensor(uniform(rows * cols, 1, 5), [rows, cols]),
      ctx.tensor(labels(rows, cols, 2)),
      { reduction: 'sum' },
    );
    const g = await grad.read();
    for (let r = 0; r < rows; r++) {
      let sum = 0;
      for (let c = 0; c < cols; c++) sum += g[r * cols + c]!;
      expect(Math.abs(sum), `row ${r}`).toBeLessThan(1e-6);
    }
    ctx.destroy();
  });

  it('matmul error stays within a few ulps times sqrt(K) of a float64 reference', async () => {
    const ctx = await openContext(backend);
    for (const k of [1, 17, 784, 4099]) {
      const [m, n] = [9, 11];
      const a = uniform(m * k, k, 1);
      const b = uniform(k * n, k + 1, 1);
      const out = await ctx.matmul(ctx.tensor(a, [m, k]), ctx.tensor(b, [k, n])).read();
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let exact = 0;
          let magnitude = 0;
          for (let kk = 0; kk < k; kk++) {
            exact += a[i * k + kk]! * b[kk * n + j]!;
            magnitude += Math.abs(a[i * k + kk]! * b[kk * n + j]!);
          }
          const bound = 4 * 2 ** -24 * magnitude * Math.sqrt(k) + 2 ** -24 * Math.abs(exact);
          expect(Math.abs(out[i * n + j]! - exact), `K=${k} (${i}, ${j})`).toBeLessThanOrEqual(bound);
        }
      }
    }
    ctx.destroy();
  });

  it('logits of 1e4 and -1e30 give finite, exact results', async () => {
    const ctx = await openContext(backend);
    const z = ctx.tensor(new Float32Array([1e4, 1e4 - 1, 1e4 + 2, -1e30, 0, 1]), [2, 3]);
    const p = await ctx.softmax(z).read();
    const e = [Math.exp(-2), Math.exp(-3), 1];
    const s = e[0]! + e[1]! + e[2]!;
    expect(Array.from(p.slice(0, 3))).toEqual(e.map((v) => expect.closeTo(v / s, 7)));
    expect(p[3]).toBe(0);
    expect(p[5]! / p[4]!).toBeCloseTo(Math.E, 5);
    const logp = await ctx.logSoftmax(z).read();
    expect(logp[3]).toBeCloseTo(-1e30, -24);
    expect([...logp].every(Number.isFinite)).toBe(true);
    const { loss, grad } = ctx.crossEntropyWithGrad(z, ctx.tensor(new Int32Array([0, 0])), { reduction: 'none' });
    const l = await loss.read();
    expect(l[0]).toBeCloseTo(2 + Math.log(s), 5);
    expect(l[1]).toBeCloseTo(1e30, -24);
    expect([...(await grad.read())].every(Number.isFinite)).toBe(true);
    ctx.destroy();
  });

  it('-Infinity masks a class: p = 0 exactly, no NaN anywhere', async () => {
    const ctx = await openContext(backend);
    const z = ctx.tensor(new Float32Array([0, NEG_INF, 1, NEG_INF, NEG_INF, 3]), [2, 3]);
    const p = await ctx.softmax(z).read();
    expect(Array.from(p)).toEqual([expect.closeTo(1 / (1 + Math.E), 6), 0, expect.closeTo(Math.E / (1 + Math.E), 6), 0, 0, 1]);
    const logp = await ctx.logSoftmax(z).read();
    expect(logp[1]).toBe(NEG_INF);
    expect(logp[5]).toBe(0);
    const { loss, grad } = ctx.crossEntropyWithGrad(z, ctx.tensor(new Int32Array([2, 2])), { reduction: 'none' });
    const l = await loss.read();
    expect(l[0]).toBeCloseTo(Math.log(1 + Math.exp(-1)), 6);
    expect(l[1]).toBe(0);
    const g = await grad.read();
    expect(Array.from(g)).toEqual([expect.closeTo(1 / (1 + Math.E), 6), 0, expect.closeTo(-1 / (1 + Math.E), 6), 0, 0, 0]);
    ctx.destroy();
  });

  it('a row of all -Infinity: softmax 0, logSoftmax -Infinity, loss +Infinity, gradient -t * scale', async () => {
    const ctx = await openContext(backend);
    const z = ctx.tensor(new Float32Array([NEG_INF, NEG_INF, NEG_INF, 1, 2, 3]), [2, 3]);
    expect(Array.from((await ctx.softmax(z).read()).slice(0, 3))).toEqual([0, 0, 0]);
    expect(Array.from((await ctx.logSoftmax(z).read()).slice(0, 3))).toEqual([NEG_INF, NEG_INF, NEG_INF]);
    const { loss, grad } = ctx.crossEntropyWithGrad(z, ctx.tensor(new Int32Array([1, 2])), { reduction: 'none' });
    expect((await loss.read())[0]).toBe(Infinity);
    expect(Array.from((await grad.read()).slice(0, 3))).toEqual([0, -1, 0]);
    ctx.destroy();
  });

  it('NaN in one row spoils that row only', async () => {
    const ctx = await openContext(backend);
    const data = uniform(3 * 5, 3);
    data[7] = NaN;
    const z = ctx.tensor(data, [3, 5]);
    const y = ctx.tensor(new Int32Array([0, 1, 2]));
    const { loss, grad } = ctx.crossEntropyWithGrad(z, y, { reduction: 'none' });
    for (const out of [await ctx.softmax(z).read(), await ctx.logSoftmax(z).read(), await grad.read()]) {
      expect(out.slice(5, 10).every(Number.isNaN)).toBe(true);
      expect([...out.slice(0, 5), ...out.slice(10)].every(Number.isFinite)).toBe(true);
    }
    const l = await loss.read();
    expect([Number.isFinite(l[0]), Number.isNaN(l[1]), Number.isFinite(l[2])]).toEqual([true, true, true]);
    ctx.destroy();
  });

  it('a +Infinity logit makes its row NaN, like a NaN logit', async () => {
    const ctx = await openContext(backend);
    const p = await ctx.softmax(ctx.tensor(new Float32Array([Infinity, 0, 1, 2]), [2, 2])).read();
    expect(p.slice(0, 2).every(Number.isNaN)).toBe(true);
    expect(p[2]! + p[3]!).toBeCloseTo(1, 6);
    ctx.destroy();
  });
});
