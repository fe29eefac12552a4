import { beforeAll, describe, expect, it } from 'vitest';
import { standardize, type Dataset, type Split } from '../datasets/dataset.js';
import { irisSplit, loadIris } from '../datasets/iris.js';
import { mnistSplit } from '../datasets/mnist.js';
import { loadMnist } from '../datasets/mnist-node.js';
import type { Context, OptimizerOptions } from '../src/index.js';
import { BACKENDS, openContext } from './helpers/backends.js';

function tensors(ctx: Context, d: Dataset) {
  return [ctx.tensor(d.x, [d.rows, d.features]), ctx.tensor(d.y)] as const;
}

/**
 * Trains epoch by epoch (the same run as one `fit` of many epochs: the model's seeded stream
 * carries on) until the test accuracy reaches `goal` or `epochs` run out.
 */
async function trainUntil(ctx: Context, { train, test }: Split, optimizer: OptimizerOptions, batchSize: number, epochs: number, goal: number) {
  const [x, y] = tensors(ctx, train);
  const [xTest, yTest] = tensors(ctx, test);
  const model = ctx.softmaxRegression({ features: train.features, classes: train.classes, seed: 1, optimizer });
  const accuracies: number[] = [];
  for (let epoch = 0; epoch < epochs && (accuracies.at(-1) ?? 0) < goal; epoch++) {
    await model.fit(x, y, { epochs: 1, batchSize });
    accuracies.push((await model.evaluate(xTest, yTest)).accuracy);
  }
  return { accuracies, weights: await model.getWeights() };
}

describe('MNIST digits, the fixed 8 000 / 2 000 split', () => {
  let split: Split;
  beforeAll(async () => {
    split = mnistSplit(await loadMnist());
  });

  const cases: [string, OptimizerOptions][] = [
    ['SGD, learning rate 0.5', { type: 'sgd', learningRate: 0.5 }],
    ['Adam, learning rate 0.01', { type: 'adam', learningRate: 0.01 }],
  ];
  for (const backend of BACKENDS) {
    it.each(cases)(`${backend}: %s reaches 0.895 test accuracy within 10 epochs of batch 128`, { timeout: 600_000 }, async (_name, optimizer) => {
      const ctx = await openContext(backend);
      const { accuracies } = await trainUntil(ctx, split, optimizer, 128, 10, 0.895);
      console.log(`MNIST ${backend} ${optimizer.type}: test accuracy by epoch ${accuracies.map((a) => a.toFixed(4)).join(' ')}`);
      expect(Math.max(...accuracies)).toBeGreaterThanOrEqual(0.895);
      ctx.destroy();
    });
  }

  it('one epoch on WebGPU and on the CPU ends with the same weights, to 1e-3 of their largest', { timeout: 600_000 }, async () => {
    const [gpu, cpu] = await Promise.all(
      (['webgpu', 'cpu'] as const).map(async (backend) => {
        const ctx = await openContext(backend);
        const { weights } = await trainUntil(ctx, split, { type: 'sgd', learningRate: 0.5 }, 128, 1, 1);
        ctx.destroy();
        return weights;
      }),
    );
    const scale = Math.max(...cpu!.weights.map(Math.abs));
    const worst = Math.max(...gpu!.weights.map((w, i) => Math.abs(w - cpu!.weights[i]!)));
    expect(worst / scale).toBeLessThanOrEqual(1e-3);
  });
});

describe('Iris, a stratified held-out third', () => {
  it.each(BACKENDS)('%s: reaches 0.93 test accuracy', async (backend) => {
    const ctx = await openContext(backend);
    const { train, test } = irisSplit(loadIris());
    const { accuracies } = await trainUntil(ctx, standardize(train, test), { type: 'sgd', learningRate: 0.5 }, 16, 100, 0.93);
    expect(Math.max(...accuracies)).toBeGreaterThanOrEqual(0.93);
    ctx.destroy();
  });
});
