import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ValueError } from '../src/errors.js';
import { learningRateSchedule, type LearningRateSchedule } from '../src/train/schedules.js';
import { BACKENDS, openContext } from './helpers/backends.js';
import { values, type FixtureCase } from './helpers/cases.js';
import { labels, uniform } from './helpers/random.js';

// The rate of every step against torch.optim.lr_scheduler (test/fixtures/generate.py), and
// the errors that name a bad field before any training.

const SCHEDULE_FIXTURES = (JSON.parse(readFileSync(new URL('./fixtures/schedules.json', import.meta.url), 'utf8')) as { cases: FixtureCase[] }).cases;

describe('learning-rate schedules against torch.optim.lr_scheduler', () => {
  it.each(SCHEDULE_FIXTURES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const { baseRate, ...schedule } = c.options as unknown as LearningRateSchedule & { baseRate: number };
    const rateAt = learningRateSchedule(schedule, { baseRate, where: 'fit' });
    const expected = values(c.expected.rates!);
    expect(expected.length).toBeGreaterThan(5);
    expected.forEach((want, step) => {
      // PyTorch forms its rates recursively (each from the last), this module in closed form.
      expect(Math.abs(rateAt(step) - want), `step ${step}: ${rateAt(step)} vs ${want}`).toBeLessThanOrEqual(1e-12 * baseRate + 1e-12 * Math.abs(want));
    });
  });
});

describe('learning-rate schedules', () => {
  it('takes a cosine run length from the caller, and holds the minimum past it', () => {
    const rateAt = learningRateSchedule({ type: 'cosine', minLearningRate: 0.01 }, { baseRate: 0.1, totalSteps: 4, where: 'fit' });
    expect(rateAt(0)).toBe(0.1);
    expect(rateAt(1)).toBeCloseTo(0.01 + (0.09 * (1 + Math.SQRT1_2)) / 2, 15);
    expect(rateAt(3)).toBeCloseTo(0.01 + (0.09 * (1 - Math.SQRT1_2)) / 2, 15);
    expect(rateAt(2)).toBeCloseTo(0.055, 15);
    expect(rateAt(4)).toBe(0.01);
    expect(rateAt(40)).toBe(0.01);
    // The schedule's own totalSteps wins over the caller's.
    expect(learningRateSchedule({ type: 'cosine', totalSteps: 2 }, { baseRate: 1, totalSteps: 100, where: 'fit' })(1)).toBeCloseTo(0.5, 15);
  });

  it('warms up linearly from warmupStartFactor, 0 and 1 allowed, to the base rate', () => {
    const rateAt = learningRateSchedule({ type: 'step', stepSize: 10, warmupSteps: 4, warmupStartFactor: 0 }, { baseRate: 0.8, where: 'fit' });
    expect([0, 1, 2, 3, 4, 13, 14].map(rateAt)).toEqual([0, 0.2, 0.4, 0.6000000000000001, 0.8, 0.8, 0.08000000000000002]);
    const flat = learningRateSchedule({ type: 'step', stepSize: 10, warmupSteps: 4, warmupStartFactor: 1 }, { baseRate: 0.8, where: 'fit' });
    expect([0, 3, 4].map(flat)).toEqual([0.8, 0.8, 0.8]);
  });

  it('refuses bad fields, naming them', () => {
    const make = (s: unknown, totalSteps?: number) => () => learningRateSchedule(s as LearningRateSchedule, { baseRate: 0.1, totalSteps, where: 'fit' });
    expect(make({ type: 'linear' })).toThrow(new ValueError(`fit: learningRate.type must be 'step' or 'cosine', got "linear"`));
    expect(make(null)).toThrow(`fit: learningRate.type must be 'step' or 'cosine', got null`);
    expect(make('cosine')).toThrow(new ValueError(`fit: learningRate.type must be 'step' or 'cosine', got "cosine"`));
    expect(make({ type: 'step', stepSize: '2' })).toThrow(new ValueError('fit: learningRate.stepSize must be an integer ≥ 1, got "2"'));
    expect(make({ type: 'step', stepSize: 2, gamma: '0.5' })).toThrow(new ValueError('fit: learningRate.gamma must be a finite number ≥ 0, got "0.5"'));
    expect(make({ type: 'cosine' }, 0)).toThrow(new ValueError("fit: the run's steps must be an integer ≥ 1, got 0"));
    expect(make({ type: 'step' })).toThrow('fit: learningRate.stepSize must be an integer ≥ 1, got undefined');
    expect(make({ type: 'step', stepSize: 2.5 })).toThrow('fit: learningRate.stepSize must be an integer ≥ 1, got 2.5');
    expect(make({ type: 'step', stepSize: 2, gamma: -1 })).toThrow('fit: learningRate.gamma must be a finite number ≥ 0, got -1');
    expect(make({ type: 'step', stepSize: 2, gamma: NaN })).toThrow('fit: learningRate.gamma must be a finite number ≥ 0, got NaN');
    expect(make({ type: 'step', stepSize: 2, warmupSteps: -1 })).toThrow('fit: learningRate.warmupSteps must be an integer ≥ 0, got -1');
    expect(make({ type: 'step', stepSize: 2, warmupSteps: 2, warmupStartFactor: 1.5 })).toThrow('fit: learningRate.warmupStartFactor must be in [0, 1], got 1.5');
    expect(make({ type: 'cosine' })).toThrow('fit: learningRate.totalSteps is needed: the length of this run is not known in advance');
    expect(make({ type: 'cosine', totalSteps: 0 })).toThrow('fit: learningRate.totalSteps must be an integer ≥ 1, got 0');
    expect(make({ type: 'cosine', totalSteps: 5, warmupSteps: 5 })).toThrow('fit: learningRate.totalSteps (5) must exceed learningRate.warmupSteps (5)');
    expect(make({ type: 'cosine', warmupSteps: 5 }, 3)).toThrow('fit: learningRate.totalSteps (3) must exceed learningRate.warmupSteps (5)');
    expect(make({ type: 'cosine', totalSteps: 5, minLearningRate: Infinity })).toThrow('fit: learningRate.minLearningRate must be a finite number ≥ 0, got Infinity');
    expect(() => learningRateSchedule({ type: 'step', stepSize: 1 }, { baseRate: 0, where: 'fit' })).toThrow(
      "fit: the optimizer's learningRate must be a positive number, got 0",
    );
    const rateAt = learningRateSchedule({ type: 'step', stepSize: 1 }, { baseRate: 0.1, where: 'fit' });
    expect(() => rateAt(-1)).toThrow("fit: a schedule's step must be an integer ≥ 0, got -1");
    expect(() => rateAt(0.5)).toThrow("fit: a schedule's step must be an integer ≥ 0, got 0.5");
  });
});

describe('fit and fitDataset with a learning-rate schedule', () => {
  const [rows, features, classes, batchSize] = [12, 4, 3, 4];
  const xs = uniform(rows * features, 11);
  const ys = labels(rows, classes, 12);
  const init = { weights: uniform(features * classes, 13, 0.1), bias: uniform(classes, 14, 0.1) };

  it.each(BACKENDS)('steps at the scheduled rate, then at the optimizer rate again (%s)', async (backend) => {
    const ctx = await openContext(backend);
    const [x, y] = [ctx.tensor(xs, [rows, features]), ctx.tensor(ys)];
    // Plain SGD keeps no state, so a run at rates r0, r1, ... is the same as one model per step at each rate.
    const base = 0.5;
    const schedule = { type: 'cosine', warmupSteps: 2, warmupStartFactor: 0.5 } as const;
    const epochs = 2;
    const model = ctx.softmaxRegression({ features, classes, init, optimizer: { type: 'sgd', learningRate: base } });
    await model.fit(x, y, { epochs, batchSize, shuffle: false, learningRate: schedule });
    const rateAt = learningRateSchedule(schedule, { baseRate: base, totalSteps: epochs * 3, where: 'test' });
    let weights = init;
    for (let step = 0; step < epochs * 3; step++) {
      const one = ctx.softmaxRegression({ features, classes, init: weights, optimizer: { type: 'sgd', learningRate: rateAt(step) } });
      const start = (step % 3) * batchSize;
      one.trainStep(ctx.tensor(xs.slice(start * features, (start + batchSize) * features), [batchSize, features]), ctx.tensor(ys.slice(start, start + batchSize)));
      weights = await one.getWeights();
    }
    const fitted = await model.getWeights();
    expect(fitted.weights).toEqual(weights.weights);
    expect(fitted.bias).toEqual(weights.bias);
    // The optimizer's own rate applies again after fit.
    const batch = [ctx.tensor(xs.slice(0, batchSize * features), [batchSize, features]), ctx.tensor(ys.slice(0, batchSize))] as const;
    model.trainStep(...batch);
    const fresh = ctx.softmaxRegression({ features, classes, init: fitted, optimizer: { type: 'sgd', learningRate: base } });
    fresh.trainStep(...batch);
    expect((await model.getWeights()).weights).toEqual((await fresh.getWeights()).weights);
    ctx.destroy();
  });

  it('fitDataset counts steps across epochs: a gamma of 0 freezes Adam after its first step', async () => {
    const ctx = await openContext('cpu');
    const batches = [0, 1, 2].map((b) => ({ x: xs.slice(b * batchSize * features, (b + 1) * batchSize * features), y: ys.slice(b * batchSize, (b + 1) * batchSize) }));
    const model = ctx.softmaxRegression({ features, classes, init, optimizer: { type: 'adam', learningRate: 0.1 } });
    await model.fitDataset(batches, { epochs: 2, learningRate: { type: 'step', stepSize: 1, gamma: 0 } });
    const once = ctx.softmaxRegression({ features, classes, init, optimizer: { type: 'adam', learningRate: 0.1 } });
    once.trainStep(ctx.tensor(batches[0]!.x, [batchSize, features]), ctx.tensor(batches[0]!.y));
    expect((await model.getWeights()).weights).toEqual((await once.getWeights()).weights);
    ctx.destroy();
  });

  it('refuses a bad schedule before training', async () => {
    const ctx = await openContext('cpu');
    const model = ctx.softmaxRegression({ features, classes, init });
    const x = ctx.tensor(xs, [rows, features]);
    const y = ctx.tensor(ys);
    await expect(model.fit(x, y, { learningRate: { type: 'step', stepSize: 0 } })).rejects.toThrow('fit: learningRate.stepSize must be an integer ≥ 1, got 0');
    await expect(model.fitDataset([{ x, y }], { learningRate: { type: 'cosine' } })).rejects.toThrow(
      'fitDataset: learningRate.totalSteps is needed: the length of this run is not known in advance',
    );
    expect((await model.getWeights()).weights).toEqual(init.weights);
    ctx.destroy();
  });
});
