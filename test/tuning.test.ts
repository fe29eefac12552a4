import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createContext, type Context, type TuningTable } from '../src/index.js';
import { LIBRARY_VERSION } from '../src/version.js';
import { expectAllClose } from './helpers/allclose.js';
import { nodeGpu, openContext } from './helpers/backends.js';
import { labels, uniform } from './helpers/random.js';

const TOL = { rtol: 1e-4, atol: 1e-5 };

async function webgpu(options: { tuning?: TuningTable } = {}): Promise<Context> {
  return createContext({ backend: 'webgpu', gpu: await nodeGpu(), ...options });
}

/** A training step's ops at a classifier head's shapes, read back. */
async function headOps(ctx: Context): Promise<Float32Array[]> {
  const x = ctx.tensor(uniform(300 * 40, 1), [300, 40]);
  const w = ctx.tensor(uniform(40 * 10, 2), [40, 10]);
  const y = ctx.tensor(labels(300, 10, 3));
  const z = ctx.matmul(x, w);
  const { loss, grad } = ctx.crossEntropyWithGrad(z, y);
  return Promise.all([z, loss, grad, ctx.matmul(x, grad, { transposeA: true }), ctx.softmax(z), ctx.sum(grad, { axis: 0 })].map((t) => t.read()));
}

describe('tuning on the adapter in hand', () => {
  it('the library version tuning tables are keyed by is package.json\'s', () => {
    expect(LIBRARY_VERSION).toBe(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version);
  });

  it('tunes, stays correct, and its table round-trips through JSON into a new context that uses it', { timeout: 240_000 }, async () => {
    const ctx = await webgpu();
    const cpu = await openContext('cpu-reference');
    try {
      // The row families: SwiftShader compiles each matmul candidate for seconds, so the matmul
      // candidates are each run below, through a table, and timed by the benchmark.
      await ctx.tune({ budgetMs: 100_000, ops: ['crossEntropy', 'softmax', 'sum'] });
      const table = ctx.tuning()!;
      expect(table.version).toBe(1);
      expect(table.library).toBe(LIBRARY_VERSION);
      expect(table.adapter).toEqual({ vendor: ctx.adapter!.vendor, architecture: ctx.adapter!.architecture, device: ctx.adapter!.device, description: ctx.adapter!.description });
      const classes = Object.keys(table.choices);
      expect(classes.sort()).toEqual(['crossEntropy cols<=1024', 'crossEntropy cols<=32', 'softmax cols<=1024', 'softmax cols<=32', 'sum']);
      // Every candidate timed passed its self-check on this adapter: none refused, none wrong.
      expect(table.rejected).toEqual([]);
      expect(Object.keys(table.choices['crossEntropy cols<=1024']!.ms).sort()).toEqual(['crossEntropy/thread', 'crossEntropy/workgroup']);
      for (const [klass, c] of Object.entries(table.choices)) {
        // The winner was timed, and is the fastest of those timed.
        expect(c.ms[c.choice], klass).toBeDefined();
        expect(Math.min(...Object.values(c.ms))).toBe(c.ms[c.choice]);
        expect(['timestamp-query', 'wall-clock']).toContain(c.source);
      }
      const [got, want] = await Promise.all([headOps(ctx), headOps(cpu)]);
      want.forEach((e, i) => expectAllClose({ shape: [e.length], data: got[i]! }, { shape: [e.length], data: e }, TOL, `output ${i}`));

      const stored = JSON.parse(JSON.stringify(table)) as TuningTable;
      const again = await webgpu({ tuning: stored });
      try {
        expect(again.backendReason).toBe("backend 'webgpu' was asked for");
        expect(again.tuning()!.choices).toEqual(table.choices);
        const results = await headOps(again);
        want.forEach((e, i) => expectAllClose({ shape: [e.length], data: results[i]! }, { shape: [e.length], data: e }, TOL, `output ${i}, from the stored table`));
      } finally {
        again.destroy();
      }
    } finally {
      ctx.destroy();
      cpu.destroy();
    }
  });

  it('runs every matmul candidate a table can name, each checked and each right', { timeout: 120_000 }, async () => {
    const probe = await webgpu();
    const adapter = probe.tuning()!.adapter;
    probe.destroy();
    const pick = (choice: string) => ({ choice, ms: { [choice]: 1 }, source: 'wall-clock' as const });
    const choices = {
      'matmul n>16': pick('matmul/tiled-k32'),
      'matmul n>16 aT': pick('matmul/tiled-k64'),
      'matmul n>16 bT': pick('matmul/blocked-16x16'),
      'matmul n<=16': pick('matmul/skinny-32rows'),
      'matmul n<=16 aT': pick('matmul/skinny-4slices'),
    };
    const tuning = { version: 1, library: LIBRARY_VERSION, adapter, choices, rejected: [], selfCheck: { pipelines: 0, totalMs: 0, maxMs: 0 } };
    const [ctx, cpu] = await Promise.all([webgpu({ tuning }), openContext('cpu-reference')]);
    try {
      const run = (c: Context) => {
        const a = c.tensor(uniform(67 * 45, 1), [67, 45]);
        const b = c.tensor(uniform(45 * 70, 2), [45, 70]);
        const at = c.tensor(uniform(45 * 67, 3), [45, 67]);
        const bt = c.tensor(uniform(70 * 45, 4), [70, 45]);
        const narrow = c.tensor(uniform(45 * 9, 5), [45, 9]);
        return [c.matmul(a, b), c.matmul(at, b, { transposeA: true }), c.matmul(a, bt, { transposeB: true }), c.matmul(a, narrow), c.matmul(at, narrow, { transposeA: true })];
      };
      const profile = await ctx.profile(() => Promise.all(run(ctx).map((t) => t.read())));
      const want = await Promise.all(run(cpu).map((t) => t.read()));
      want.forEach((e, i) => expectAllClose({ shape: [e.length], data: profile.result[i]! }, { shape: [e.length], data: e }, TOL, `product ${i}`));
      expect(profile.kernels.map((k) => k.label.split(' ').slice(0, 3).join(' '))).toEqual([
        'matmul tiled k32',
        'matmul tiled k64',
        'matmul blocked 16x16',
        'matmul skinny 32rows',
        'matmul skinny 4slices',
      ]);
      expect(ctx.tuning()!.rejected).toEqual([]);
    } finally {
      ctx.destroy();
      cpu.destroy();
    }
  });

  it("ignores another adapter's table, and another version's, saying why", async () => {
    const base = { version: 1, library: LIBRARY_VERSION, choices: { 'matmul n>16': { choice: 'matmul/tiled', ms: { 'matmul/tiled': 1 }, source: 'wall-clock' as const } }, rejected: [], selfCheck: { pipelines: 0, totalMs: 0, maxMs: 0 } };
    const foreign = { ...base, adapter: { vendor: 'apple', architecture: 'metal-3', device: '', description: 'Apple M2' } };
    const ctx = await webgpu({ tuning: foreign });
    expect(ctx.backendReason).toMatch(/the tuning table is for another adapter \(apple metal-3 Apple M2\), this is .*swiftshader.*, so it was ignored$/);
    expect(ctx.tuning()!.choices).toEqual({});
    const adapter = ctx.tuning()!.adapter;
    ctx.destroy();
    const old = await webgpu({ tuning: { ...base, adapter, library: '0.0.1' } });
    expect(old.backendReason).toMatch(/made by webgpu-softmax "0.0.1", this is .*so it was ignored$/);
    expect(old.tuning()!.choices).toEqual({});
    old.destroy();
  });

  it('refuses bad tune options and modes before any work', async () => {
    const ctx = await createContext({ backend: 'cpu' });
    await expect(ctx.tune({ budgetMs: -1 })).rejects.toThrow('tune: budgetMs must be a positive number of milliseconds, got -1');
    await expect(ctx.tune({ ops: ['matmull' as 'matmul'] })).rejects.toThrow(`tune: ops holds "matmull"`);
    await expect(createContext({ backend: 'cpu', tune: 'on' as 'auto' })).rejects.toThrow(`createContext: tune must be 'auto' or 'off', got "on"`);
    // Nothing to tune on the CPU.
    await ctx.tune();
    expect(ctx.tuning()).toBeNull();
  });
});
