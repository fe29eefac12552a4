import { describe, expect, it } from 'vitest';
import type { Context, OptimizerOptions, Tensor } from '../src/index.js';
import { expectAllClose } from './helpers/allclose.js';
import { BACKENDS, openContext } from './helpers/backends.js';
import { labels, uniform } from './helpers/random.js';

// AdamW and RMSprop inside a model: they train, their state is freed, and a seeded run ends
// alike on WebGPU and on the CPU. Their steps themselves are held to torch.optim by the
// fixtures in test/train.test.ts and to each other, bit for bit, in test/wasm.test.ts.

const OPTIMIZERS: [string, OptimizerOptions][] = [
  ['AdamW', { type: 'adamw', learningRate: 0.05 }],
  ['AdamW, strong decay', { type: 'adamw', learningRate: 0.05, weightDecay: 0.5, beta1: 0.8 }],
  ['RMSprop', { type: 'rmsprop', learningRate: 0.01 }],
  ['RMSprop, centered, momentum, L2', { type: 'rmsprop', learningRate: 0.005, momentum: 0.9, centered: true, weightDecay: 1e-3 }],
];

/** 5 noisy features, of which those with index % 3 = class are raised by 2. */
function blobs(ctx: Context, rows: number, seed: number): { x: Tensor<'float32'>; y: Tensor<'int32'> } {
  const y = labels(rows, 3, seed);
  const x = uniform(rows * 5, seed + 1, 0.8).map((v, i) => v + (y[Math.floor(i / 5)] === (i % 5) % 3 ? 2 : 0));
  return { x: ctx.tensor(x, [rows, 5]), y: ctx.tensor(y) };
}

describe.each(BACKENDS)('AdamW and RMSprop in a model (%s)', (backend) => {
  it.each(OPTIMIZERS)('%s learns a separable problem and frees its state', async (_name, optimizer) => {
    const ctx = await openContext(backend);
    const { x, y } = blobs(ctx, 300, 9);
    const before = ctx.memory().tensors;
    const model = ctx.softmaxRegression({ features: 5, classes: 3, seed: 4, optimizer });
    const history = await model.fit(x, y, { epochs: 5, batchSize: 32 });
    expect(history.loss[4]).toBeLessThan(history.loss[0]! * 0.7);
    expect((await model.evaluate(x, y)).accuracy).toBeGreaterThan(0.95);
    model.dispose();
    expect(ctx.memory().tensors).toBe(before);
    ctx.destroy();
  });
});

it('AdamW shrinks the weights that the loss does not hold, as decoupled decay should', async () => {
  // With x all zeros the weights' gradient is exactly 0, so Adam's part of the step is 0 and
  // each step multiplies every weight by 1 - lr * weightDecay, rounded to float32 (Adam's L2
  // term would instead feed the decay through the moments and move each weight by about lr).
  const ctx = await openContext('cpu');
  const weights = uniform(15, 3);
  const model = ctx.softmaxRegression({
    features: 5,
    classes: 3,
    init: { weights, bias: new Float32Array(3) },
    optimizer: { type: 'adamw', learningRate: 0.1, weightDecay: 0.5 },
  });
  const x = ctx.tensor(new Float32Array(15), [3, 5]);
  const y = ctx.tensor(Int32Array.of(0, 1, 2));
  for (let step = 0; step < 3; step++) model.trainStep(x, y).dispose();
  const scale = Math.fround(1 - 0.1 * 0.5);
  const expected = weights.map((w) => Math.fround(Math.fround(Math.fround(w * scale) * scale) * scale));
  expect((await model.getWeights()).weights).toEqual(expected);
  ctx.destroy();
});

describe('AdamW and RMSprop on WebGPU and on the CPU', () => {
  it.each(OPTIMIZERS)('%s: the same seeded run ends with the same weights, to 1e-3', async (_name, optimizer) => {
    const runs = await Promise.all(
      (['webgpu', 'cpu'] as const).map(async (backend) => {
        const ctx = await openContext(backend);
        const { x, y } = blobs(ctx, 200, 21);
        const model = ctx.softmaxRegression({ features: 5, classes: 3, init: 'glorot', seed: 7, optimizer });
        await model.fit(x, y, { epochs: 3, batchSize: 16 });
        const w = await model.getWeights();
        ctx.destroy();
        return w;
      }),
    );
    const [gpu, cpu] = runs as [(typeof runs)[0], (typeof runs)[0]];
    expectAllClose({ shape: [15], data: gpu.weights }, { shape: [15], data: cpu.weights }, { rtol: 1e-3, atol: 1e-5 });
    expectAllClose({ shape: [3], data: gpu.bias }, { shape: [3], data: cpu.bias }, { rtol: 1e-3, atol: 1e-5 });
  });
});
