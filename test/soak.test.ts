import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Context, MemoryInfo, OptimizerOptions } from '../src/index.js';
import { BACKENDS, openContext, type BackendName } from './helpers/backends.js';
import { labels, uniform } from './helpers/random.js';

// Soak: thousands of training steps and hundreds of create/fit/dispose cycles per backend,
// after which the context holds what it held after warm-up (tensors, bytes, pooled bytes,
// exactly) and the process's heap and resident memory have not grown. TF.js users filed leaks
// in fit for years (tfjs#200, #457, #1517); this is the proof that we have none. Sized for CI:
// about 70 s for the whole file on a busy 2-core machine, most of it on WebGPU (SwiftShader).

// Vitest does not start Node with --expose-gc; the flag can still be set, and a fresh context has gc.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * Steps of the long run, and create/fit/dispose cycles, per backend: WebGPU on a CPU's
 * SwiftShader is the slow one. SOAK_SCALE=10 (say) soaks ten times longer.
 */
const SIZES: Record<BackendName, { readonly steps: number; readonly cycles: number }> = {
  cpu: { steps: 6000, cycles: 300 },
  'cpu-reference': { steps: 6000, cycles: 300 },
  // SwiftShader takes some 15 ms a step and 15 s to compile the pipelines of the warm-up.
  webgpu: { steps: 1500, cycles: 80 },
};

const [FEATURES, CLASSES, ROWS] = [16, 4, 64];
const OPTIMIZERS: readonly OptimizerOptions[] = [
  { type: 'sgd', learningRate: 0.1, momentum: 0.9 },
  { type: 'adam', learningRate: 0.01 },
  { type: 'adamw', learningRate: 0.01 },
  { type: 'rmsprop', learningRate: 0.01, centered: true, momentum: 0.5 },
];

/** The process's heap after a full collection, and its resident set. */
function processMemory(): { heap: number; rss: number } {
  gc();
  gc();
  const { heapUsed, rss } = process.memoryUsage();
  return { heap: heapUsed, rss };
}

describe.each(BACKENDS)('soak on %s', (backend) => {
  let ctx: Context;
  beforeAll(async () => {
    ctx = await openContext(backend);
  });
  afterAll(() => ctx.destroy());

  const scale = Number(process.env['SOAK_SCALE'] ?? 1);
  const steps = Math.round(SIZES[backend].steps * scale);
  const cycles = Math.round(SIZES[backend].cycles * scale);
  const x = uniform(ROWS * FEATURES, 1);
  const y = labels(ROWS, CLASSES, 2);

  /** One life of a model: made, trained (fit, fitDataset, skipping a bad batch), used, exported, disposed. */
  async function cycle(i: number): Promise<void> {
    const optimizer = OPTIMIZERS[i % OPTIMIZERS.length]!;
    const model =
      i % 2 === 0
        ? ctx.softmaxRegression({ features: FEATURES, classes: CLASSES, seed: i, optimizer })
        : ctx.classifier({ features: FEATURES, classes: CLASSES, hidden: [8], seed: i, optimizer });
    const xt = ctx.tensor(x, [ROWS, FEATURES]);
    const yt = ctx.tensor(y);
    await model.fit(xt, yt, { epochs: 1, batchSize: 16, validationSplit: 0.25 });
    const bad = x.slice(0, 16 * FEATURES);
    bad[3] = NaN;
    await model.fitDataset([{ x: bad, y: y.slice(0, 16) }, { x: x.slice(0, 16 * FEATURES), y: y.slice(0, 16) }], { nonFinite: 'skip' });
    const [xb, yb] = [ctx.tensor(bad, [16, FEATURES]), ctx.tensor(y.slice(0, 16))];
    await model.fit(xb, yb, { batchSize: 16 }).then(
      () => expect.unreachable('a NaN batch must reject'),
      () => undefined,
    );
    const p = model.predict(xt);
    const top = model.predict(xt, { topK: 2 });
    await Promise.all([p.read(), top.indices.read(), model.evaluate(xt, yt), model.getWeights()]);
    for (const t of [p, top.indices, top.values, xt, yt, xb, yb, model]) t.dispose();
  }

  /** One model trained for `steps` steps of 4 rows, its loss checked to fall. */
  async function longRun(steps: number): Promise<number> {
    const model = ctx.classifier({ features: FEATURES, classes: CLASSES, hidden: [8], seed: 1, optimizer: { type: 'adam', learningRate: 0.01 } });
    const xt = ctx.tensor(x, [ROWS, FEATURES]);
    const yt = ctx.tensor(y);
    const batchSize = 4;
    const epochs = Math.ceil(steps / (ROWS / batchSize));
    const history = await model.fit(xt, yt, { epochs, batchSize });
    expect(history.loss).toHaveLength(epochs);
    if (epochs > 1) expect(history.loss.at(-1)).toBeLessThan(history.loss[0]!);
    for (const t of [xt, yt, model]) t.dispose();
    return epochs * (ROWS / batchSize);
  }

  it(`${steps} steps of one fit and ${cycles} create/fit/dispose cycles leave the context and the process as after warm-up`, async () => {
    // Warm-up: every pipeline compiled, every buffer size the pool will keep already asked for once.
    for (let i = 0; i < 2 * OPTIMIZERS.length; i++) await cycle(i);
    await longRun(16);
    await ctx.flush();
    const context0 = ctx.memory();
    const process0 = processMemory();

    const taken = await longRun(steps);
    await ctx.flush();
    const context1 = ctx.memory();
    const process1 = processMemory();

    // The first half of the cycles lets the JIT settle on them; a leak grows in the second half too.
    for (let i = 0; i < cycles / 2; i++) await cycle(i);
    const processHalf = processMemory();
    for (let i = cycles / 2; i < cycles; i++) await cycle(i);
    await ctx.flush();
    const context2 = ctx.memory();
    const process2 = processMemory();

    const counts = (m: MemoryInfo) => ({ tensors: m.tensors, bytes: m.bytes, pooledBytes: m.pooledBytes });
    const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
    console.log(
      `soak on ${backend}: ${taken} steps, ${cycles} cycles; context ${[context0, context1, context2].map((m) => JSON.stringify(counts(m))).join(' -> ')}; ` +
        `heap ${[process0, process1, processHalf, process2].map((m) => mib(m.heap)).join(' -> ')} MiB, rss ${[process0, process1, processHalf, process2].map((m) => mib(m.rss)).join(' -> ')} MiB`,
    );
    expect(counts(context1)).toEqual(counts(context0));
    expect(counts(context2)).toEqual(counts(context0));
    // A leak of 350 bytes a step or 15 KB a cycle would show here; the JIT's own growth stays under these.
    expect(process1.heap - process0.heap).toBeLessThan(2 * 2 ** 20);
    expect(process2.heap - processHalf.heap).toBeLessThan(2 * 2 ** 20);
    expect(process2.heap - process0.heap).toBeLessThan(4 * 2 ** 20);
    // Resident memory moves with the allocators (Dawn's, SwiftShader's): bounded, not exact.
    expect(process2.rss - process0.rss).toBeLessThan(64 * 2 ** 20);
  }, 180_000);

  it.runIf(backend === 'webgpu')('4000 reads leave no trace on the heap (each once left a reaction on device.lost)', async () => {
    const t = ctx.tensor(x.subarray(0, 64));
    for (let i = 0; i < 1000; i++) await t.read();
    const before = processMemory();
    for (let i = 0; i < 4000; i++) await t.read();
    const after = processMemory();
    t.dispose();
    // The leak was some 340 bytes a read: 1.3 MB here; collection noise stays near 200 KB.
    expect(after.heap - before.heap).toBeLessThan(512 * 1024);
  });
});
