import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValueError, type Context, type LayerWeights } from '../src/index.js';
import { BACKENDS, openContext } from './helpers/backends.js';
import { labels, uniform } from './helpers/random.js';

const [FEATURES, CLASSES] = [5, 3];

describe.each(BACKENDS)('fit options on %s', (backend) => {
  let ctx: Context;
  beforeAll(async () => {
    ctx = await openContext(backend);
  });
  afterAll(() => ctx.destroy());

  const model = (seed = 2) =>
    ctx.classifier({ features: FEATURES, classes: CLASSES, hidden: [6], seed, optimizer: { type: 'adam', learningRate: 0.05 } });
  const data = (rows: number, seed: number) => {
    const x = uniform(rows * FEATURES, seed, 2);
    // A learnable rule: the class is which of the first three features is largest.
    const y = Int32Array.from({ length: rows }, (_, r) => {
      const v = [0, 1, 2].map((c) => x[r * FEATURES + c]!);
      return v.indexOf(Math.max(...v));
    });
    return { x, y };
  };

  it('validationSplit holds out the last rows, as Keras: training equals fit on the first rows, validation equals evaluate on the rest', async () => {
    const { x, y } = data(40, 1);
    const xt = ctx.tensor(x, [40, FEATURES]);
    const yt = ctx.tensor(y);
    const split = model();
    const history = await split.fit(xt, yt, { epochs: 3, batchSize: 8, validationSplit: 0.25 });
    // floor(40 * 0.75) = 30 rows train, the last 10 validate.
    const head = [ctx.tensor(x.slice(0, 30 * FEATURES), [30, FEATURES]), ctx.tensor(y.slice(0, 30))] as const;
    const tail = [ctx.tensor(x.slice(30 * FEATURES), [10, FEATURES]), ctx.tensor(y.slice(30))] as const;
    const plain = model();
    const expected = await plain.fit(head[0], head[1], { epochs: 3, batchSize: 8, validationData: tail });
    expect(history).toEqual(expected);
    expect(await split.getWeights()).toEqual(await plain.getWeights());
    const scores = await split.evaluate(tail[0], tail[1]);
    expect(history.valLoss[2]).toBe(scores.loss);
    expect(history.valAccuracy[2]).toBe(scores.accuracy);

    await expect(split.fit(xt, yt, { validationSplit: 1 })).rejects.toThrow(new ValueError('fit: validationSplit must be a fraction in (0, 1), got 1'));
    await expect(split.fit(xt, yt, { validationSplit: 0.99 })).rejects.toThrow(/validationSplit 0.99 of 40 rows leaves 0 to train on and 40 to validate on/);
    await expect(split.fit(xt, yt, { validationSplit: 1e-17 })).rejects.toThrow(/leaves 40 to train on and 0 to validate on/);
    await expect(split.fit(xt, yt, { validationSplit: 0.2, validationData: tail })).rejects.toThrow(/validationData or validationSplit, not both/);
    for (const t of [xt, yt, ...head, ...tail, split, plain]) t.dispose();
  });

  it('earlyStopping stops once the monitored figure has not improved for patience epochs, and restores the best epoch exactly', async () => {
    const { x, y } = data(60, 3);
    const xt = ctx.tensor(x, [60, FEATURES]);
    const yt = ctx.tensor(y);
    // Validation labels that disagree with training: valLoss soon rises as training goes on.
    const flipped = ctx.tensor(y.map((c) => (c + 1) % CLASSES));
    for (const patience of [0, 2]) {
      const m = model(5);
      const seen: LayerWeights[][] = [];
      const history = await m.fit(xt, yt, {
        epochs: 30,
        batchSize: 10,
        validationData: [xt, flipped],
        earlyStopping: { monitor: 'valLoss', patience, restoreBestWeights: true },
        onEpochEnd: async () => {
          seen.push(await m.getWeights());
        },
      });
      const valLoss = history.valLoss;
      const best = valLoss.indexOf(Math.min(...valLoss));
      // It ran exactly until `patience` epochs in a row (at least one, as Keras) failed to beat the best.
      expect(valLoss.length).toBe(best + Math.max(patience, 1) + 1);
      expect(valLoss.length).toBeLessThan(30);
      expect(await m.getWeights()).toEqual(seen[best]);
      m.dispose();
    }
    // minDelta: no later epoch beats the first by a whole unit of accuracy, so it stops after the first and `patience` more.
    const m = model(5);
    const history = await m.fit(xt, yt, { epochs: 10, batchSize: 10, validationData: [xt, yt], earlyStopping: { monitor: 'valAccuracy', patience: 3, minDelta: 1 } });
    expect(history.valAccuracy).toHaveLength(4);
    expect(history.valAccuracy[3]).toBeGreaterThan(history.valAccuracy[0]!);
    m.dispose();
    // minDelta on valLoss: no epoch lowers the loss by 10 whole units, so it stops after the
    // first and `patience` more (a minDelta taken the wrong way would count every epoch).
    const l = model(5);
    const losses = await l.fit(xt, yt, { epochs: 10, batchSize: 10, validationData: [xt, yt], earlyStopping: { monitor: 'valLoss', patience: 2, minDelta: 10 } });
    expect(losses.valLoss).toHaveLength(3);
    expect(losses.valLoss[2]).toBeLessThan(losses.valLoss[0]!);
    l.dispose();
    for (const t of [xt, yt, flipped]) t.dispose();
  });

  it('earlyStopping keeps going while the figure improves, and checks its options', async () => {
    const { x, y } = data(60, 4);
    const xt = ctx.tensor(x, [60, FEATURES]);
    const yt = ctx.tensor(y);
    const m = model(6);
    const history = await m.fit(xt, yt, { epochs: 6, batchSize: 10, validationSplit: 0.2, earlyStopping: { patience: 10 } });
    expect(history.valLoss).toHaveLength(6);
    await expect(m.fit(xt, yt, { earlyStopping: {} })).rejects.toThrow(new ValueError('fit: earlyStopping needs validationData or validationSplit to monitor valLoss'));
    await expect(m.fitDataset([{ x, y }], { earlyStopping: { monitor: 'valAccuracy' } })).rejects.toThrow(/fitDataset: earlyStopping needs validationData to monitor valAccuracy/);
    await expect(m.fit(xt, yt, { validationSplit: 0.2, earlyStopping: { monitor: 'loss' as 'valLoss' } })).rejects.toThrow(/earlyStopping.monitor must be 'valLoss' or 'valAccuracy', got "loss"/);
    await expect(m.fit(xt, yt, { validationSplit: 0.2, earlyStopping: { patience: -1 } })).rejects.toThrow(/earlyStopping.patience must be a whole number/);
    await expect(m.fit(xt, yt, { validationSplit: 0.2, earlyStopping: { minDelta: Number.NaN } })).rejects.toThrow(/earlyStopping.minDelta must be a finite number >= 0, got NaN/);
    const d = model(6);
    const fromDataset = await d.fitDataset([{ x, y }], { epochs: 20, validationData: [xt, ctx.tensor(y.map((c) => (c + 1) % CLASSES))], earlyStopping: { patience: 0 } });
    expect(fromDataset.valLoss.length).toBeLessThan(20);
    for (const t of [xt, yt, m, d]) t.dispose();
  });

  it('signal stops fit after the step under way; the model is as after that step, and usable', async () => {
    const { x, y } = data(80, 7);
    const xt = ctx.tensor(x, [80, FEATURES]);
    const yt = ctx.tensor(y);
    const before = ctx.memory();
    const m = model(8);
    const controller = new AbortController();
    const fit = m.fit(xt, yt, { epochs: 3, batchSize: 10, shuffle: false, signal: controller.signal, onBatchEnd: ({ batch }) => batch === 2 && controller.abort(new Error('stop now')) });
    await expect(fit).rejects.toThrow('stop now');
    // Three steps ran: the same as fit over the first 30 rows.
    const ref = model(8);
    const first = [ctx.tensor(x.slice(0, 30 * FEATURES), [30, FEATURES]), ctx.tensor(y.slice(0, 30))] as const;
    await ref.fit(first[0], first[1], { epochs: 1, batchSize: 10, shuffle: false });
    expect(await m.getWeights()).toEqual(await ref.getWeights());
    await expect(m.fit(xt, yt, { epochs: 1 })).resolves.toBeDefined();
    await expect(m.fit(xt, yt, { signal: controller.signal })).rejects.toThrow('stop now');
    for (const t of [ref, ...first]) t.dispose();
    expect(ctx.memory().tensors).toBe(before.tensors + 2 * m.hidden.length + 2 + (m.hidden.length + 1) * 4);
    m.dispose();
    expect(ctx.memory().tensors).toBe(before.tensors);
    xt.dispose();
    yt.dispose();
  });
});
