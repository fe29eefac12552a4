import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValueError, type Context } from '../src/index.js';
import { FUSED_STEP_LOGITS_BYTES } from '../src/train/step.js';
import { expectAllClose } from './helpers/allclose.js';
import { BACKENDS, openContext } from './helpers/backends.js';
import { labels, uniform } from './helpers/random.js';

describe.each(BACKENDS)('models at any number of classes, on %s', (backend) => {
  let ctx: Context;
  beforeAll(async () => {
    ctx = await openContext(backend);
  });
  afterAll(() => ctx.destroy());

  it('predict({ topK }) gives the k most probable classes of predict(), largest first', async () => {
    const [features, classes, rows, k] = [5, 37, 70, 4];
    const model = ctx.softmaxRegression({ features, classes, init: 'glorot', seed: 3 });
    const x = ctx.tensor(uniform(rows * features, 4, 3), [rows, features]);
    const p = await model.predict(x).read();
    const { indices, values } = model.predict(x, { topK: k });
    expect(indices.shape).toEqual([rows, k]);
    expect(indices.dtype).toBe('int32');
    const [ids, probs] = [await indices.read(), await values.read()];
    const expectedIds: number[] = [];
    const expectedProbs: number[] = [];
    for (let r = 0; r < rows; r++) {
      const row = Array.from(p.subarray(r * classes, (r + 1) * classes), (v, c) => [v, c] as const);
      row.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
      for (const [v, c] of row.slice(0, k)) {
        expectedIds.push(c);
        expectedProbs.push(v);
      }
    }
    expect(Array.from(ids)).toEqual(expectedIds);
    expectAllClose({ shape: [rows, k], data: probs }, { shape: [rows, k], data: expectedProbs }, { rtol: 1e-5, atol: 1e-7 });
    expect(() => model.predict(x, { topK: 0 })).toThrow(ValueError);
    expect(() => model.predict(x, { topK: classes + 1 })).toThrow(/topK must be an integer in \[1, 37\]/);
    model.dispose();
  });

  it('a step whose logits pass the budget runs fused, and equals the unfused step', async () => {
    const [features, classes, batch] = [3, 70_001, 128];
    expect(batch * classes * 4).toBeGreaterThan(FUSED_STEP_LOGITS_BYTES);
    const learningRate = 0.5;
    const model = ctx.softmaxRegression({ features, classes, init: 'glorot', seed: 5, optimizer: { type: 'sgd', learningRate } });
    const before = await model.getWeights();
    const x = ctx.tensor(uniform(batch * features, 6, 2), [batch, features]);
    const y = ctx.tensor(labels(batch, classes, 7));
    const loss = await model.trainStep(x, y).read();
    const after = await model.getWeights();

    // The same step on the CPU backend, unfused.
    using cpu = await openContext('cpu');
    const xc = cpu.tensor(await x.read(), [batch, features]);
    const z = cpu.matmul(xc, cpu.tensor(before.weights, [features, classes]), { bias: cpu.tensor(before.bias) });
    const { loss: l, grad } = cpu.crossEntropyWithGrad(z, cpu.tensor(await y.read()));
    const dw = await cpu.matmul(xc, grad, { transposeA: true }).read();
    const db = await cpu.sum(grad, { axis: 0 }).read();
    expect(loss[0]).toBeCloseTo((await l.read())[0]!, 5);
    const step = (w: Float32Array, g: Float32Array) => w.map((v, i) => v - learningRate * g[i]!);
    const tolerance = { rtol: 1e-5, atol: 1e-7 };
    expectAllClose({ shape: [features * classes], data: after.weights }, { shape: [features * classes], data: step(before.weights, dw) }, tolerance);
    expectAllClose({ shape: [classes], data: after.bias }, { shape: [classes], data: step(before.bias, db) }, tolerance);
    model.dispose();
  });
});

describe('fit with 100 000 classes on WebGPU', () => {
  it('trains, evaluates and predicts the top classes without [N, C] logits', async () => {
    using ctx = await openContext('webgpu');
    const [features, classes, rows] = [16, 100_000, 128];
    const model = ctx.softmaxRegression({ features, classes, seed: 1, optimizer: { type: 'adam', learningRate: 0.5 } });
    const x = ctx.tensor(uniform(rows * features, 8, 1), [rows, features]);
    const ys = labels(rows, classes, 9);
    const y = ctx.tensor(ys);
    await ctx.flush();
    ctx.resetPeakMemory();
    // recovery: false, since the host copy of the state each epoch starts from reads it back
    // through staging buffers of its own (test/device-loss.test.ts measures that path).
    const history = await model.fit(x, y, { epochs: 6, batchSize: 128, recovery: false });
    console.log(`fit, 100 000 classes: loss per epoch ${history.loss.map((l) => l.toFixed(3)).join(' ')}, peak ${ctx.memory().peakBytes} bytes`);
    const { peakBytes } = ctx.memory();
    const batchLogits = 128 * classes * 4;
    // Weights, two Adam moments, the gradients and the chunks' scratch: less than the unfused
    // step's logits and their gradient (2 x 51 MB).
    expect(peakBytes).toBeLessThan(2 * batchLogits);
    expect(history.loss[0]).toBeCloseTo(Math.log(classes), 3);
    expect(history.loss.at(-1)).toBeLessThan(history.loss[0]! / 2);
    const { loss, accuracy } = await model.evaluate(x, y);
    expect(loss).toBeLessThan(history.loss[0]! / 2);
    const { indices } = model.predict(x, { topK: 5 });
    const top = await indices.read();
    let hits = 0;
    for (let r = 0; r < rows; r++) if (top.subarray(r * 5, r * 5 + 5).includes(ys[r]!)) hits++;
    expect(hits / rows).toBeGreaterThanOrEqual(accuracy);
    expect(accuracy).toBeGreaterThan(0.5);
  }, 300_000);
});
