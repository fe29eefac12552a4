import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WasmBackend } from '../src/cpu/wasm/backend.js';
import type { ThreadPool } from '../src/cpu/wasm/threads/pool.js';
import { createContext, ValueError, WorkerThreadError, type Context, type Tensor } from '../src/index.js';
import { internals } from '../src/internal.js';
import { uniform } from './helpers/random.js';

// The CPU backend on 1, 2, 3 and 4 threads: every op and whole fits agree to the bit (compared
// through Int32Array views, so -0 and NaN payloads count), and the pool survives what a user's
// machine does to threads. Shapes are odd on purpose: rows that are not whole f32x4, panels
// that do not divide evenly, batches, edge rows of the matmul tiles.

const COUNTS = [1, 2, 3, 4] as const;
let contexts: Context[] = [];

function pool(ctx: Context): ThreadPool | null {
  return (ctx[internals].backend() as WasmBackend).threadPool;
}

function bits(a: Float32Array | Int32Array): Int32Array {
  return new Int32Array(a.buffer, a.byteOffset, a.length);
}

/** `actual` equals `expected` to the bit (a loop: `toEqual` walks big typed arrays slowly). */
function expectSameBits(actual: Int32Array, expected: Int32Array, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  let first = -1;
  for (let i = 0; i < expected.length && first < 0; i++) if (actual[i] !== expected[i]) first = i;
  expect(first < 0 ? 'same bits' : `differs first at ${first}: ${actual[first]} vs ${expected[first]}`, what).toBe('same bits');
}

/** Runs `op` on every context, checks each result against one thread's bit for bit, and that the pools ran jobs. */
async function sameOnAll(op: (ctx: Context) => Tensor[]): Promise<void> {
  const dispatched = contexts.map((c) => pool(c)?.dispatched ?? 0);
  const results: Int32Array[][] = [];
  for (const ctx of contexts) {
    const outs = op(ctx);
    results.push(await Promise.all(outs.map(async (t) => bits(await t.read()))));
    for (const t of outs) t.dispose();
  }
  for (let i = 1; i < contexts.length; i++) {
    for (const [j, r] of results[i]!.entries()) expectSameBits(r, results[0]![j]!, `${COUNTS[i]} threads, output ${j}`);
    expect(pool(contexts[i]!)!.dispatched, `${COUNTS[i]} threads split the op`).toBeGreaterThan(dispatched[i]!);
  }
}

beforeAll(async () => {
  contexts = await Promise.all(COUNTS.map((threads) => createContext({ backend: 'cpu', threads })));
});
afterAll(() => {
  for (const c of contexts) c.destroy();
});

describe('threads', () => {
  it('say how many run, and refuse a count out of range', async () => {
    expect(contexts.map((c) => c.threads)).toEqual([...COUNTS]);
    expect(pool(contexts[0]!)).toBeNull();
    expect(contexts[3]!.backendReason).toBe("backend 'cpu' was asked for; 4 threads");
    for (const threads of [0, 1.5, 65, 'many']) {
      await expect(createContext({ backend: 'cpu', threads: threads as number })).rejects.toThrow(ValueError);
    }
    await expect(createContext({ backend: 'cpu', cpu: 'reference', threads: 2 })).rejects.toThrow(/needs cpu 'wasm'/);
    const reference = await createContext({ backend: 'cpu', cpu: 'reference' });
    expect(reference.threads).toBe(1);
    reference.destroy();
  });

  it('give the same bits for matmul: plain, transposed, with bias, batched, shared B, few panels', async () => {
    const t = (ctx: Context, n: number, shape: number[], seed: number) => ctx.tensor(uniform(n, seed), shape);
    // Each big enough to split (MATMUL_PARALLEL_NS): M·K·N above 13.3 million.
    await sameOnAll((ctx) => [ctx.matmul(t(ctx, 67 * 401, [67, 401], 1), t(ctx, 401 * 523, [401, 523], 2), { bias: t(ctx, 523, [523], 3) })]);
    await sameOnAll((ctx) => [ctx.matmul(t(ctx, 411 * 66, [411, 66], 4), t(ctx, 517 * 411, [517, 411], 5), { transposeA: true, transposeB: true })]);
    await sameOnAll((ctx) => [ctx.matmul(t(ctx, 3 * 67 * 300, [3, 67, 300], 6), t(ctx, 3 * 300 * 700, [3, 300, 700], 7))]);
    await sameOnAll((ctx) => [ctx.matmul(t(ctx, 2 * 81 * 520, [2, 81, 520], 8), t(ctx, 520 * 321, [520, 321], 9))]);
    // Few panels (a 10-class head): bands of row tiles, with edge rows, plain and transposed.
    await sameOnAll((ctx) => [ctx.matmul(t(ctx, 1003 * 1333, [1003, 1333], 10), t(ctx, 1333 * 10, [1333, 10], 11), { bias: t(ctx, 10, [10], 12) })]);
    await sameOnAll((ctx) => [ctx.matmul(t(ctx, 6600 * 203, [6600, 203], 13), t(ctx, 6600 * 10, [6600, 10], 14), { transposeA: true })]);
  });

  it('give the same bits for the row ops, with rows that are not whole f32x4', async () => {
    const rows = 1001;
    for (const cols of [257, 258, 259, 260]) {
      const z = uniform(rows * cols, cols, 8);
      const dp = uniform(rows * cols, cols + 1);
      const labels = Int32Array.from({ length: rows }, (_, i) => (i * 7) % cols);
      labels[5] = -100;
      await sameOnAll((ctx) => {
        const zt = ctx.tensor(z, [rows, cols]);
        const p = ctx.softmax(zt);
        const { loss, grad } = ctx.crossEntropyWithGrad(zt, ctx.tensor(labels));
        return [p, ctx.logSoftmax(zt), ctx.softmaxBackward(p, ctx.tensor(dp, [rows, cols])), loss, grad, ctx.crossEntropy(zt, ctx.tensor(labels), { reduction: 'none' })];
      });
    }
  });

  it('give the same bits for column sums and the fused linear cross-entropy', async () => {
    await sameOnAll((ctx) => [ctx.sum(ctx.tensor(uniform(3001 * 403, 11), [3001, 403]), { axis: 0 })]);
    const [n, d, c] = [300, 129, 1001];
    const y = Int32Array.from({ length: n }, (_, i) => (i * 31) % c);
    await sameOnAll((ctx) => {
      const r = ctx.linearCrossEntropyWithGrad(ctx.tensor(uniform(n * d, 12), [n, d]), ctx.tensor(uniform(d * c, 13, 0.1), [d, c]), ctx.tensor(y), {
        bias: ctx.tensor(uniform(c, 14)),
        chunkRows: 128,
      });
      return [r.loss, r.gradX, r.gradWeight, r.gradBias!];
    });
  });

  it('train a SoftmaxRegression and a Classifier to the same bits (adam, sgd with momentum, rmsprop)', async () => {
    // 300 × 1003 parameters: enough for the optimizer steps to split too.
    const [n, d, c] = [384, 300, 1003];
    const x = uniform(n * d, 21);
    const y = Int32Array.from({ length: n }, (_, i) => (i * 13) % c);
    const runs: string[] = [];
    for (const ctx of contexts) {
      const before = pool(ctx)?.dispatched ?? 0;
      const xt = ctx.tensor(x, [n, d]);
      const yt = ctx.tensor(y);
      using regression = ctx.softmaxRegression({ features: d, classes: c, seed: 3, optimizer: { type: 'adam', learningRate: 0.01 } });
      const h1 = await regression.fit(xt, yt, { epochs: 2, batchSize: 128 });
      using classifier = ctx.classifier({ features: d, classes: c, hidden: [61], activation: 'relu', seed: 4, optimizer: { type: 'sgd', learningRate: 0.1, momentum: 0.9 } });
      const h2 = await classifier.fit(xt, yt, { epochs: 2, batchSize: 96 });
      using centered = ctx.classifier({ features: d, classes: c, hidden: [], seed: 5, optimizer: { type: 'rmsprop', learningRate: 0.01, centered: true, momentum: 0.5 } });
      const h3 = await centered.fit(xt, yt, { epochs: 1, batchSize: 128 });
      runs.push(JSON.stringify([h1, h2, h3, regression.toJSON(), classifier.toJSON(), centered.toJSON()]));
      if (ctx.threads! > 1) expect(pool(ctx)!.dispatched).toBeGreaterThan(before);
      xt.dispose();
      yt.dispose();
    }
    for (let i = 1; i < runs.length; i++) expect(runs[i] === runs[0], `${COUNTS[i]} threads`).toBe(true);
  });

  it('keep working while the shared memory grows between jobs', async () => {
    const ctx = contexts[1]!;
    const before = ctx.memory().bytes + ctx.memory().pooledBytes;
    const a = uniform(64 * 700, 31);
    const b = uniform(700 * 900, 32);
    const expected = bits(await contexts[0]!.matmul(contexts[0]!.tensor(a, [64, 700]), contexts[0]!.tensor(b, [700, 900])).read());
    const held: Tensor[] = [];
    for (let i = 0; i < 6; i++) {
      // Each round holds a bigger tensor, so the memory grows while the workers wait for jobs.
      held.push(ctx.tensor(new Float32Array(2 ** (20 + i))));
      expectSameBits(bits(await ctx.matmul(ctx.tensor(a, [64, 700]), ctx.tensor(b, [700, 900])).read()), expected, `round ${i}`);
    }
    expect(ctx.memory().bytes + ctx.memory().pooledBytes).toBeGreaterThan(before + 2 ** 27);
    for (const t of held) t.dispose();
  });
});

describe('a worker thread that fails', () => {
  let ctx: Context;
  const a = uniform(96 * 500, 41);
  const b = uniform(500 * 640, 42);
  let expected: Int32Array;
  beforeAll(async () => {
    ctx = await createContext({ backend: 'cpu', threads: 3 });
    expected = bits(await contexts[0]!.matmul(contexts[0]!.tensor(a, [96, 500]), contexts[0]!.tensor(b, [500, 640])).read());
  });
  afterAll(() => ctx.destroy());
  const matmul = () => ctx.matmul(ctx.tensor(a, [96, 500]), ctx.tensor(b, [500, 640]));
  const ready = async (p: ThreadPool) => {
    for (let i = 0; i < 2000 && p.ready < p.size - 1; i++) await new Promise((r) => setTimeout(r, 5));
    expect(p.ready).toBe(p.size - 1);
  };

  /** Runs the matmul until one run fails (at most 50 runs), and returns what it threw; null if none did. */
  const firstFailure = (): unknown => {
    for (let i = 0; i < 50; i++) {
      try {
        matmul().dispose();
      } catch (e) {
        return e;
      }
    }
    return null;
  };

  it('that throws rejects the op clearly, is replaced, and the context goes on to the same bits', async () => {
    const p = pool(ctx)!;
    p.injectFault(0, 'throw');
    // The caller may take every chunk before worker 1 wakes: run until it has claimed one.
    const error = firstFailure();
    expect(error).toBeInstanceOf(WorkerThreadError);
    expect(String(error)).toMatch(/worker thread 1 of 2 failed \(a fault injected by a test\).*context stays usable/);
    expect(p.respawns).toBe(1);
    await ready(p);
    expectSameBits(bits(await matmul().read()), expected, 'after');
  });

  it('that dies holding a chunk rejects the op once it stalls, is replaced, and the context goes on', async () => {
    const p = pool(ctx)!;
    p.stallMs = 300;
    p.injectFault(1, 'die');
    const error = firstFailure();
    expect(String(error)).toMatch(/worker thread 2 of 2 stopped in the middle of the op/);
    await ready(p);
    expectSameBits(bits(await matmul().read()), expected, 'after');
  });

  it('that is terminated between ops is replaced, and no op is lost', async () => {
    const p = pool(ctx)!;
    const respawns = p.respawns;
    p.workers[0]!.terminate();
    // Until the exit is seen, the two other threads claim its share.
    expectSameBits(bits(await matmul().read()), expected, 'after');
    for (let i = 0; i < 400 && p.respawns === respawns; i++) await new Promise((r) => setTimeout(r, 5));
    expect(p.respawns).toBe(respawns + 1);
    await ready(p);
    expectSameBits(bits(await matmul().read()), expected, 'after');
  });
});

describe('a Node process', () => {
  it.skipIf(!existsSync('dist/index.js'))('exits by itself after destroy(), and without it', () => {
    for (const destroy of [true, false]) {
      const script =
        `import { createContext } from './dist/index.js';\n` +
        `const ctx = await createContext({ backend: 'cpu', threads: 3 });\n` +
        `const a = ctx.tensor(new Float32Array(256 * 256).fill(1), [256, 256]);\n` +
        `const s = await ctx.sum(ctx.matmul(a, a)).read();\n` +
        `console.log(ctx.threads, s[0]);\n` +
        (destroy ? 'ctx.destroy();\n' : '');
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
      expect(r.error, r.stderr).toBeUndefined();
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe(`3 ${256 * 256 * 256}`);
    }
  });

  it.skipIf(!existsSync('dist/index.js') || !existsSync('/proc/self/task'))('ends the workers of contexts the app dropped without destroy(), once collected', () => {
    const script =
      `import { readdirSync } from 'node:fs';\n` +
      `import { createContext } from './dist/index.js';\n` +
      `const threads = () => readdirSync('/proc/self/task').length;\n` +
      `const base = threads();\n` +
      `async function use() {\n` +
      `  const ctx = await createContext({ backend: 'cpu', threads: 4 });\n` +
      `  const a = ctx.tensor(new Float32Array(128 * 128).fill(1), [128, 128]);\n` +
      `  await ctx.matmul(a, a).read();\n` +
      `}\n` +
      `for (let i = 0; i < 3; i++) await use();\n` +
      `const live = threads();\n` +
      `for (let i = 0; i < 100 && threads() > base; i++) { gc(); await new Promise((r) => setTimeout(r, 50)); }\n` +
      `console.log(live - base, threads() - base);\n`;
    const r = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('9 0');
  });
});
