import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BusyError, DisposedError, type Context } from '../src/index.js';
import { BACKENDS, openContext } from './helpers/backends.js';
import { labels, uniform } from './helpers/random.js';

const FEATURES = 6;
const CLASSES = 3;
const ROWS = 64;

describe.each(BACKENDS)('training misuse on %s', (backend) => {
  let ctx: Context;
  beforeAll(async () => {
    ctx = await openContext(backend);
  });
  afterAll(() => ctx.destroy());

  const data = () => ({ x: ctx.tensor(uniform(ROWS * FEATURES, 1, 2), [ROWS, FEATURES]), y: ctx.tensor(labels(ROWS, CLASSES, 2)) });
  const model = () =>
    ctx.softmaxRegression({ features: FEATURES, classes: CLASSES, init: 'glorot', seed: 3, optimizer: { type: 'adam', learningRate: 0.05 } });

  it('refuses a second fit while one runs, and the first goes on to the same weights as alone', async () => {
    const { x, y } = data();
    const alone = model();
    await alone.fit(x, y, { epochs: 3, batchSize: 8 });
    const expected = await alone.getWeights();
    alone.dispose();

    const m = model();
    const first = m.fit(x, y, { epochs: 3, batchSize: 8 });
    await expect(m.fit(x, y, { epochs: 1 })).rejects.toThrow(BusyError);
    await expect(m.fit(x, y, { epochs: 1 })).rejects.toThrow(/fit: the model is already training \(a fit has not finished\)/);
    await expect(m.fitDataset([{ x: uniform(FEATURES, 1, 1), y: new Int32Array([0]) }])).rejects.toThrow(/fitDataset: the model is already training/);
    const history = await first;
    expect(history.loss).toHaveLength(3);
    const got = await m.getWeights();
    expect(got.weights).toEqual(expected.weights);
    expect(got.bias).toEqual(expected.bias);
    // Once the first has ended, training is open again, as is a fit after a refused or failed one.
    await expect(m.fit(x, y, { epochs: 1, batchSize: 8 })).resolves.toBeDefined();
    m.dispose();
    x.dispose();
    y.dispose();
  });

  it('refuses a fit while a fitDataset runs', async () => {
    const m = model();
    const { x, y } = data();
    const batches = Array.from({ length: 4 }, (_, i) => ({ x: uniform(8 * FEATURES, 10 + i, 1), y: labels(8, CLASSES, 20 + i) }));
    const running = m.fitDataset(batches, { epochs: 2 });
    await expect(m.fit(x, y)).rejects.toThrow(/fit: the model is already training \(a fitDataset has not finished\)/);
    await expect(running).resolves.toBeDefined();
    m.dispose();
    x.dispose();
    y.dispose();
  });

  for (const when of ['onBatchEnd', 'onEpochEnd', 'in a microtask, while fit awaits'] as const) {
    it(`disposing the model during fit (${when}) rejects saying so, and frees everything`, async () => {
      const { x, y } = data();
      const before = ctx.memory();
      const m = model();
      let batches = 0;
      let disposedAtBatch = 0;
      const dispose = () => {
        disposedAtBatch = batches;
        m.dispose();
      };
      const fit = m.fit(x, y, {
        epochs: 5,
        batchSize: 4,
        validationData: [x, y],
        ...(when === 'onBatchEnd' ? { onBatchEnd: () => ++batches === 3 && dispose() } : {}),
        ...(when === 'onEpochEnd' ? { onEpochEnd: () => dispose() } : {}),
        // Only the microtask disposes: a timer beside it could win the race on WebGPU, where
        // fit awaits the device, and the case would test a timer instead.
        ...(when === 'in a microtask, while fit awaits' ? { onBatchEnd: () => ++batches === 2 && queueMicrotask(dispose) } : {}),
      });
      await expect(fit).rejects.toThrow(DisposedError);
      await expect(fit).rejects.toThrow('fit: the model was disposed during training');
      // The dispose ran where the case says: after batch 2's callback, before a third batch
      // could end in fit's next await (flush, or the yield to the event loop).
      if (when === 'in a microtask, while fit awaits') expect(disposedAtBatch).toBe(2);
      if (when === 'in a microtask, while fit awaits') expect(batches).toBeLessThanOrEqual(3);
      expect(ctx.memory().tensors).toBe(before.tensors);
      expect(ctx.memory().bytes).toBe(before.bytes);
      x.dispose();
      y.dispose();
    });
  }

  it('disposing the model during fitDataset rejects saying so, closes the dataset, and frees everything', async () => {
    const before = ctx.memory();
    const m = model();
    let closed = false;
    function* batches() {
      try {
        for (let i = 0; i < 100; i++) yield { x: uniform(8 * FEATURES, i, 1), y: labels(8, CLASSES, 50 + i) };
      } finally {
        closed = true;
      }
    }
    const fit = m.fitDataset(batches, { epochs: 2, onBatchEnd: ({ batch }) => batch === 5 && m.dispose() });
    await expect(fit).rejects.toThrow('fitDataset: the model was disposed during training');
    expect(closed).toBe(true);
    expect(ctx.memory().tensors).toBe(before.tensors);
    expect(ctx.memory().bytes).toBe(before.bytes);
  });
});
