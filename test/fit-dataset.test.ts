import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContext, ShapeError, ValueError, type Batch, type Context, type SoftmaxRegression } from '../src/index.js';
import { BACKENDS, nodeGpu, openContext } from './helpers/backends.js';
import { labels, uniform } from './helpers/random.js';

const FEATURES = 5;
const CLASSES = 4;

/** 50 rows in batches of 16, 16, 16 and 2. */
function batches(seed: number): Batch[] {
  const sizes = [16, 16, 16, 2];
  return sizes.map((rows, i) => ({ x: uniform(rows * FEATURES, seed + i, 2), y: labels(rows, CLASSES, seed + 10 + i) }));
}

function concat<T extends Float32Array | Int32Array>(parts: T[], make: (n: number) => T): T {
  const out = make(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

describe.each(BACKENDS)('fitDataset on %s', (backend) => {
  let ctx: Context;
  beforeAll(async () => {
    ctx = await openContext(backend);
  });
  afterAll(() => ctx.destroy());

  const model = () =>
    ctx.softmaxRegression({ features: FEATURES, classes: CLASSES, init: 'glorot', seed: 2, optimizer: { type: 'sgd', learningRate: 0.3, momentum: 0.5 } });

  async function weightsAfter(train: (m: SoftmaxRegression) => Promise<unknown>): Promise<Float32Array> {
    const m = model();
    await train(m);
    const { weights } = await m.getWeights();
    m.dispose();
    return weights;
  }

  it('equals fit over the same batches, from an array, a sync or async iterable, or a function', async () => {
    const data = batches(1);
    const x = ctx.tensor(concat(data.map((b) => b.x as Float32Array), (n) => new Float32Array(n)), [50, FEATURES]);
    const y = ctx.tensor(concat(data.map((b) => b.y as Int32Array), (n) => new Int32Array(n)));
    const fitModel = model();
    const fitHistory = await fitModel.fit(x, y, { epochs: 3, batchSize: 16, shuffle: false });
    const expected = (await fitModel.getWeights()).weights;
    fitModel.dispose();

    const sync = { *[Symbol.iterator]() { yield* data; } };
    const asyncIterable = {
      async *[Symbol.asyncIterator]() {
        for (const b of data) {
          await new Promise((resolve) => setTimeout(resolve, 1));
          yield b;
        }
      },
    };
    const tensors = data.map((b) => ({ x: ctx.tensor(b.x as Float32Array, [(b.x as Float32Array).length / FEATURES, FEATURES]), y: ctx.tensor(b.y as Int32Array) }));
    for (const dataset of [data, sync, asyncIterable, () => asyncIterable, function* () { yield* data; }, tensors]) {
      const m = model();
      const history = await m.fitDataset(dataset, { epochs: 3 });
      expect(Array.from((await m.getWeights()).weights)).toEqual(Array.from(expected));
      expect(history.loss).toEqual(fitHistory.loss);
      expect(history.accuracy).toEqual(fitHistory.accuracy);
      m.dispose();
    }
  });

  it('evaluates validation data given as tensors or as batches, and reports each batch', async () => {
    const data = batches(2);
    const m = model();
    const progress: string[] = [];
    const history = await m.fitDataset(data, {
      epochs: 2,
      validationData: data,
      onBatchEnd: ({ epoch, batch, rows }) => progress.push(`${epoch}:${batch}:${rows}`),
    });
    expect(progress).toEqual(['0:0:16', '0:1:16', '0:2:16', '0:3:2', '1:0:16', '1:1:16', '1:2:16', '1:3:2']);
    const x = ctx.tensor(concat(data.map((b) => b.x as Float32Array), (n) => new Float32Array(n)), [50, FEATURES]);
    const y = ctx.tensor(concat(data.map((b) => b.y as Int32Array), (n) => new Int32Array(n)));
    const scores = await m.evaluate(x, y);
    expect(history.valLoss[1]).toBeCloseTo(scores.loss, 5);
    expect(history.valAccuracy[1]).toBe(scores.accuracy);
    m.dispose();
  });

  it('rejects a bad batch naming its index, leaving the model as after the last good step', async () => {
    const data = batches(3);
    const live = ctx.memory().tensors;
    const good = await weightsAfter((m) => m.fitDataset(data.slice(0, 2)));
    const cases: [Batch | number, RegExp][] = [
      [{ x: new Float32Array(7), y: new Int32Array(1) }, /batch 2 of epoch 0: x holds 7 values, not a positive multiple of the model's 5 features/],
      [{ x: new Float32Array(10), y: Int32Array.of(0, 4) }, /batch 2 of epoch 0: y\[1\] = 4 is outside \[0, 4\)/],
      [{ x: new Float32Array(10), y: Int32Array.of(0) }, /batch 2 of epoch 0: y must hold 2 class ids/],
      [{ x: new Float32Array(10), y: new Float32Array(3) }, /batch 2 of epoch 0: probability targets must hold 2 x 4 values, got 3/],
      [7, /batch 2 of epoch 0: expected \{ x, y \}, got number/],
    ];
    for (const [bad, message] of cases) {
      const m = model();
      await expect(m.fitDataset([...data.slice(0, 2), bad as Batch, data[3]!])).rejects.toThrow(message);
      expect(Array.from((await m.getWeights()).weights)).toEqual(Array.from(good));
      m.dispose();
    }
    // The bad batches' uploads and the epochs' metrics were all released.
    expect(ctx.memory().tensors).toBe(live);
  });

  it('rejects what is not a dataset before any work, and a spent generator in the next epoch', async () => {
    const m = model();
    await expect(m.fitDataset(5 as unknown as Batch[])).rejects.toThrow(ValueError);
    await expect(m.fitDataset(5 as unknown as Batch[])).rejects.toThrow(/must be an array, an iterable or async iterable .* got number/);
    await expect(m.fitDataset(() => 5 as unknown as Batch[])).rejects.toThrow(/got number/);
    await expect(m.fitDataset([], { epochs: 1 })).rejects.toThrow(/yielded no batches in epoch 0/);
    const spent = (function* () { yield* batches(4); })();
    await expect(m.fitDataset(spent, { epochs: 2 })).rejects.toThrow(/no batches in epoch 1 \(a generator object runs once/);
    await expect(m.fitDataset([{ x: ctx.tensor(new Float32Array(6), [2, 3]), y: new Int32Array(2) }])).rejects.toThrow(ShapeError);
    m.dispose();
  });

  it('stops between batches when its signal aborts', async () => {
    const data = batches(5);
    const good = await weightsAfter((m) => m.fitDataset(data.slice(0, 2)));
    const m = model();
    const controller = new AbortController();
    const stop = m.fitDataset(data, { epochs: 5, signal: controller.signal, onBatchEnd: ({ batch }) => batch === 1 && controller.abort(new Error('enough')) });
    await expect(stop).rejects.toThrow('enough');
    expect(Array.from((await m.getWeights()).weights)).toEqual(Array.from(good));
    m.dispose();
  });
});

describe('fitDataset on a stream larger than the binding limit', () => {
  it('trains with peakBytes bounded by a few batches', async () => {
    // A device bound at 128 MiB (WebGPU's default), not the adapter's 1 GiB (SwiftShader): the
    // same stream past the limit in an eighth of the batches.
    const limit = 128 * 2 ** 20;
    const adapter = (await (await nodeGpu()).requestAdapter())!;
    using ctx = await createContext({ device: await adapter.requestDevice({ requiredLimits: { maxStorageBufferBindingSize: limit } }) });
    expect(ctx.device?.limits.maxStorageBufferBindingSize).toBe(limit);
    const [features, classes, rows] = [256, 10, 4096];
    const batchBytes = rows * features * 4;
    const count = Math.ceil(limit / batchBytes) + 1;
    // A few distinct batches, streamed over and over: more bytes than one binding can hold.
    const pool = Array.from({ length: 4 }, (_, i) => ({ x: uniform(rows * features, 20 + i), y: labels(rows, classes, 30 + i) }));
    const stream = {
      async *[Symbol.asyncIterator]() {
        for (let i = 0; i < count; i++) yield pool[i % pool.length]!;
      },
    };
    expect(count * batchBytes).toBeGreaterThan(limit);
    const model = ctx.softmaxRegression({ features, classes, seed: 1, optimizer: { type: 'sgd', learningRate: 0.01 } });
    await ctx.flush();
    ctx.resetPeakMemory();
    const history = await model.fitDataset(stream);
    const { peakBytes } = ctx.memory();
    console.log(`fitDataset: ${count} batches, ${count * batchBytes} bytes streamed; peakBytes ${peakBytes}`);
    expect(Number.isFinite(history.loss[0])).toBe(true);
    expect(peakBytes).toBeLessThan(8 * batchBytes);
  }, 300_000);
});
