import { describe, expect, it } from 'vitest';
import { WebGPUSoftmaxError } from '../src/index.js';
import { BACKENDS, openContext } from './helpers/backends.js';
import { labels, uniform } from './helpers/random.js';

describe.each(BACKENDS)('ctx.profile (%s)', (backend) => {
  it('times each kernel of the work queued inside, and only that', async () => {
    const ctx = await openContext(backend);
    const z = ctx.tensor(uniform(64 * 10, 1), [64, 10]);
    const y = ctx.tensor(labels(64, 10, 2));
    const before = ctx.softmax(z);
    const { result, kernels, totalMs, source } = await ctx.profile(async () => {
      const { loss } = ctx.crossEntropyWithGrad(z, y, { reduction: 'sum' });
      return (await loss.read())[0];
    });
    expect(result).toBeGreaterThan(0);
    expect(source).toBe(backend === 'webgpu' ? 'timestamp-query' : 'wall-clock');
    const names = kernels.map((k) => k.label.split(' ')[0]);
    expect(names.every((n) => n === 'crossEntropy')).toBe(true);
    expect(kernels.length).toBe(backend === 'webgpu' ? 2 : 1);
    expect(kernels.every((k) => Number.isFinite(k.ms) && k.ms >= 0)).toBe(true);
    expect(totalMs).toBeCloseTo(kernels.reduce((s, k) => s + k.ms, 0), 9);
    await before.read();
    ctx.destroy();
  });

  it('profiles work that holds no kernel, such as a bare read', async () => {
    const ctx = await openContext(backend);
    const t = ctx.tensor(new Float32Array([1, 2, 3]), [3]);
    const { result, kernels } = await ctx.profile(() => t.read());
    expect(Array.from(result)).toEqual([1, 2, 3]);
    expect(kernels).toEqual([]);
    ctx.destroy();
  });

  it('refuses a second profile while one runs', async () => {
    const ctx = await openContext(backend);
    let release!: () => void;
    // Called together, before the first has awaited anything.
    const first = ctx.profile(() => new Promise<void>((r) => (release = r)));
    await expect(ctx.profile(() => 0)).rejects.toThrow(new WebGPUSoftmaxError('profile: a profile is already running on this context'));
    await new Promise((r) => setTimeout(r, 0));
    release();
    await first;
    ctx.destroy();
  });
});
