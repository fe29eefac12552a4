import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createContext, ShapeError, ValueError, type Context, type OptimizerOptions, type Tensor } from '../src/index.js';
import { createOptimizer } from '../src/train/optimizers.js';
import { YIELD_EVERY_MS } from '../src/train/training-run.js';
import { expectAllClose } from './helpers/allclose.js';
import { BACKENDS, countSubmits, nodeDevice, openContext } from './helpers/backends.js';
import { values, type FixtureCase } from './helpers/cases.js';
import { labels, uniform } from './helpers/random.js';

const OPTIMIZER_FIXTURES = (
  JSON.parse(readFileSync(new URL('./fixtures/optimizers.json', import.meta.url), 'utf8')) as { cases: FixtureCase[] }
).cases;

/** Holds the thread, as a long step would, without handing the event loop a task. */
function busyWait(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

/** Runs an optimizer fixture: the parameter after each step (each at its own rate where the fixture gives `learningRates`). */
async function trajectory(ctx: Context, c: FixtureCase): Promise<Float32Array[]> {
  const param = ctx.tensor(Float32Array.from(values(c.inputs.param!)), c.inputs.param!.shape);
  const grads = values(c.inputs.grads!);
  const n = param.size;
  const { learningRates, ...options } = c.options as unknown as OptimizerOptions & { learningRates?: number[] };
  const optimizer = createOptimizer(ctx, options);
  const after: Float32Array[] = [];
  for (let step = 0; step * n < grads.length; step++) {
    if (learningRates !== undefined) optimizer.setLearningRate(learningRates[step]!);
    const grad = ctx.tensor(Float32Array.from(grads.slice(step * n, (step + 1) * n)), [n]);
    optimizer.step([{ param, grad }]);
    after.push(await param.read());
    grad.dispose();
  }
  optimizer.dispose();
  return after;
}

/** A small separable problem: 5 noisy features, of which those with index % 3 = class are raised by 2. */
function blobs(ctx: Context, rows: number, seed: number): { x: Tensor<'float32'>; y: Tensor<'int32'> } {
  const y = labels(rows, 3, seed);
  const x = uniform(rows * 5, seed + 1, 0.8).map((v, i) => v + (y[Math.floor(i / 5)] === (i % 5) % 3 ? 2 : 0));
  return { x: ctx.tensor(x, [rows, 5]), y: ctx.tensor(y) };
}

describe.each(BACKENDS)('training (%s)', (backend) => {
  it('reproduces seed 001 with one trainStep, SGD at learning rate 1', async () => {
    const ctx = await openContext(backend);
    const model = ctx.softmaxRegression({
      features: 2,
      classes: 3,
      init: { weights: new Float32Array(6).fill(0.5), bias: new Float32Array(3).fill(1) },
      optimizer: { type: 'sgd', learningRate: 1 },
    });
    const loss = model.trainStep(ctx.tensor(new Float32Array([8, 7]), [1, 2]), ctx.tensor(new Int32Array([2])));
    expect((await loss.read())[0]).toBeCloseTo(Math.log(3), 6);
    const { weights, bias } = await model.getWeights();
    expectAllClose({ shape: [6], data: weights }, { shape: [6], data: [-13 / 6, -13 / 6, 35 / 6, -11 / 6, -11 / 6, 31 / 6] }, { rtol: 1e-6, atol: 0 });
    expectAllClose({ shape: [3], data: bias }, { shape: [3], data: [2 / 3, 2 / 3, 5 / 3] }, { rtol: 1e-6, atol: 0 });
    ctx.destroy();
  });

  it.each(OPTIMIZER_FIXTURES.map((c) => [c.name, c] as const))('%s follows torch.optim step by step', async (_name, c) => {
    const ctx = await openContext(backend);
    const after = await trajectory(ctx, c);
    const expected = values(c.expected.params!);
    after.forEach((p, step) => {
      const want = expected.slice(step * p.length, (step + 1) * p.length);
      expectAllClose({ shape: [p.length], data: p }, { shape: [p.length], data: want }, { rtol: 1e-5, atol: 1e-6 }, `step ${step + 1}`);
    });
    ctx.destroy();
  });

  it('fit: batches of batchSize with a smaller last one, and epoch figures that match evaluate', async () => {
    const ctx = await openContext(backend);
    const { x, y } = blobs(ctx, 10, 5);
    // A learning rate too small to move the weights: the epoch's mean loss and accuracy must
    // then equal evaluate's over the same rows.
    const model = ctx.softmaxRegression({ features: 5, classes: 3, init: 'glorot', seed: 2, optimizer: { type: 'sgd', learningRate: 1e-30 } });
    const seen: string[] = [];
    const history = await model.fit(x, y, {
      epochs: 2,
      batchSize: 4,
      onBatchEnd: ({ epoch, batch, batches }) => seen.push(`${epoch}:${batch}/${batches}`),
    });
    expect(seen).toEqual(['0:0/3', '0:1/3', '0:2/3', '1:0/3', '1:1/3', '1:2/3']);
    const evaluation = await model.evaluate(x, y);
    expect(history.loss).toHaveLength(2);
    expect(history.loss[1]).toBeCloseTo(evaluation.loss, 5);
    expect(history.accuracy[1]).toBeCloseTo(evaluation.accuracy, 6);
    expect(history.valLoss).toEqual([]);
    ctx.destroy();
  });

  it('learns a separable problem, reports validation, and round-trips through toJSON', async () => {
    const ctx = await openContext(backend);
    const { x, y } = blobs(ctx, 300, 9);
    const model = ctx.softmaxRegression({ features: 5, classes: 3, seed: 4, optimizer: { type: 'adam', learningRate: 0.05 } });
    const epochs: number[] = [];
    const history = await model.fit(x, y, { epochs: 5, batchSize: 32, validationData: [x, y], onEpochEnd: (logs) => void epochs.push(logs.epoch) });
    expect(epochs).toEqual([0, 1, 2, 3, 4]);
    expect(history.valAccuracy.at(-1)).toBeGreaterThan(0.95);
    expect(history.loss[4]).toBeLessThan(history.loss[0]!);
    const copy = ctx.loadSoftmaxRegression(JSON.stringify(model.toJSON()));
    const [p, q] = [await model.predict(x).read(), await copy.predict(x).read()];
    expect(Array.from(q)).toEqual(Array.from(p));
    for (let r = 0; r < 300; r++) expect(p[3 * r]! + p[3 * r + 1]! + p[3 * r + 2]!).toBeCloseTo(1, 5);
    ctx.destroy();
  });

  it('refuses bad options and batches, naming the fault', async () => {
    const ctx = await openContext(backend);
    const make = (o: object) => () => ctx.softmaxRegression({ features: 4, classes: 3, ...o });
    expect(make({ features: 0 })).toThrow(new ValueError('softmaxRegression: features must be a positive integer, got 0'));
    expect(make({ optimizer: { type: 'sgd', learningRate: -1 } })).toThrow('softmaxRegression: optimizer.learningRate must be a positive number, got -1');
    expect(make({ optimizer: { type: 'sgd', learningRate: 1, nesterov: true } })).toThrow('optimizer.nesterov needs a momentum above 0');
    expect(make({ optimizer: { type: 'adam', learningRate: 1, beta2: 1 } })).toThrow('softmaxRegression: optimizer.beta2 must be in [0, 1), got 1');
    expect(make({ optimizer: { type: 'adamw', learningRate: 1, beta1: -0.1 } })).toThrow('softmaxRegression: optimizer.beta1 must be in [0, 1), got -0.1');
    expect(make({ optimizer: { type: 'adamw', learningRate: 1, weightDecay: NaN } })).toThrow('softmaxRegression: optimizer.weightDecay must be in [0, Infinity), got NaN');
    expect(make({ optimizer: { type: 'adamw', learningRate: 1, epsilon: 0 } })).toThrow('softmaxRegression: optimizer.epsilon must be above 0, got 0');
    expect(make({ optimizer: { type: 'rmsprop', learningRate: 1, alpha: 1.5 } })).toThrow('softmaxRegression: optimizer.alpha must be in [0, 1], got 1.5');
    expect(make({ optimizer: { type: 'rmsprop', learningRate: 1, momentum: -1 } })).toThrow('softmaxRegression: optimizer.momentum must be in [0, Infinity), got -1');
    expect(make({ optimizer: { type: 'rmsprop', learningRate: 1, centered: 'yes' } })).toThrow('softmaxRegression: optimizer.centered must be true or false, got "yes"');
    expect(make({ optimizer: { type: 'rmsprop', learningRate: Infinity } })).toThrow('softmaxRegression: optimizer.learningRate must be a positive number, got Infinity');
    expect(make({ optimizer: { type: 'adagrad', learningRate: 1 } })).toThrow(
      `softmaxRegression: optimizer.type must be one of 'sgd', 'adam', 'adamw', 'rmsprop', got "adagrad"`,
    );
    const optimizer = createOptimizer(ctx, { type: 'adamw', learningRate: 0.1 });
    expect(optimizer.learningRate).toBe(0.1);
    expect(() => optimizer.setLearningRate(-0.1)).toThrow('optimizer: the learning rate must be a finite number ≥ 0, got -0.1');
    expect(() => optimizer.setLearningRate(NaN)).toThrow('optimizer: the learning rate must be a finite number ≥ 0, got NaN');
    optimizer.setLearningRate(0);
    expect(optimizer.learningRate).toBe(0);
    expect(make({ init: { weights: new Float32Array(11), bias: new Float32Array(3) } })).toThrow(ShapeError);
    expect(make({ loss: { classWeights: [1, 2] } })).toThrow('softmaxRegression: loss.classWeights must hold 3 values, one per class, got 2');
    const model = ctx.softmaxRegression({ features: 4, classes: 3 });
    expect(() => model.trainStep(ctx.tensor(new Float32Array(10), [2, 5]), ctx.tensor(new Int32Array(2)))).toThrow(
      'trainStep: x must be float32 or float16 [N, 4], got Tensor(float32, [2, 5])',
    );
    expect(() => model.trainStep(ctx.tensor(new Float32Array(8), [2, 4]), ctx.tensor(new Int32Array(3)))).toThrow(
      'trainStep: y must be int32 [2] or float32 [2, 3] for x [2, 4], got Tensor(int32, [3])',
    );
    await expect(model.fit(ctx.tensor(new Float32Array(8), [2, 4]), ctx.tensor(new Int32Array(2)), { batchSize: 0 })).rejects.toThrow(
      'fit: batchSize must be a positive integer, got 0',
    );
    ctx.destroy();
  });
});

it('fit lets the event loop run during an epoch, so a page can repaint', async () => {
  const ctx = await openContext('cpu');
  const x = ctx.tensor(uniform(64 * 4, 1), [64, 4]);
  const y = ctx.tensor(labels(64, 3, 2));
  const model = ctx.softmaxRegression({ features: 4, classes: 3 });
  let timerRan = false;
  let ranBySecondBatch = false;
  setTimeout(() => (timerRan = true), 0);
  await model.fit(x, y, {
    batchSize: 8,
    onBatchEnd: ({ batch }) => {
      // A CPU step awaits only promises, so the timer can run only if fit hands the event
      // loop a task. Holding the first batch past fit's interval obliges it to do so.
      if (batch === 0) busyWait(YIELD_EVERY_MS + 10);
      if (batch === 1) ranBySecondBatch = timerRan;
    },
  });
  expect(ranBySecondBatch).toBe(true);
  ctx.destroy();
});

describe('WebGPU training', () => {
  it('optimizer steps agree with the CPU backend to a float32 rounding', async () => {
    const [gpu, cpu] = await Promise.all([openContext('webgpu'), openContext('cpu')]);
    for (const c of OPTIMIZER_FIXTURES) {
      const [g, h] = await Promise.all([trajectory(gpu, c), trajectory(cpu, c)]);
      g.forEach((p, i) => expectAllClose({ shape: [p.length], data: p }, { shape: [p.length], data: h[i]! }, { rtol: 1e-6, atol: 1e-9 }, c.name));
    }
  });

  it('a training step is one submit', async () => {
    const device = await nodeDevice();
    const ctx = await createContext({ device });
    const model = ctx.softmaxRegression({ features: 5, classes: 3, optimizer: { type: 'adam', learningRate: 0.1 } });
    const { x, y } = blobs(ctx, 16, 3);
    // Kernels compiled and self-checked (in submits of their own) before the step.
    await model.ready(16);
    await ctx.flush();
    const submits = countSubmits(device);
    const loss = model.trainStep(x, y);
    await loss.read();
    expect(submits()).toBe(1);
    ctx.destroy();
    device.destroy();
  });

  it('the same seeded run ends with the same weights on WebGPU and on the CPU, to 1e-3', async () => {
    const runs = await Promise.all(
      (['webgpu', 'cpu'] as const).map(async (backend) => {
        const ctx = await openContext(backend);
        const { x, y } = blobs(ctx, 200, 21);
        const model = ctx.softmaxRegression({ features: 5, classes: 3, init: 'glorot', seed: 7, optimizer: { type: 'sgd', learningRate: 0.5, momentum: 0.9 } });
        await model.fit(x, y, { epochs: 3, batchSize: 16 });
        return model.getWeights();
      }),
    );
    const [gpu, cpu] = runs as [Awaited<(typeof runs)[0]>, Awaited<(typeof runs)[0]>];
    expectAllClose({ shape: [15], data: gpu.weights }, { shape: [15], data: cpu.weights }, { rtol: 1e-3, atol: 1e-5 });
    expectAllClose({ shape: [3], data: gpu.bias }, { shape: [3], data: cpu.bias }, { rtol: 1e-3, atol: 1e-5 });
  });
});
