import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ValueError } from '../src/errors.js';
import { learningRateSchedule, type LearningRateSchedule } from '../src/train/schedules.js';
import { values, type FixtureCase } from './helpers/cases.js';

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

  it('warms up linearly from warmupStartFactor, 0 allowed, to the base rate', () => {
    const rateAt = learningRateSchedule({ type: 'step', stepSize: 10, warmupSteps: 4, warmupStartFactor: 0 }, { baseRate: 0.8, where: 'fit' });
    expect([0, 1, 2, 3, 4, 13, 14].map(rateAt)).toEqual([0, 0.2, 0.4, 0.6000000000000001, 0.8, 0.8, 0.08000000000000002]);
  });

  it('refuses bad fields, naming them', () => {
    const make = (s: unknown, totalSteps?: number) => () => learningRateSchedule(s as LearningRateSchedule, { baseRate: 0.1, totalSteps, where: 'fit' });
    expect(make({ type: 'linear' })).toThrow(new ValueError(`fit: learningRate.type must be 'step' or 'cosine', got "linear"`));
    expect(make(null)).toThrow(`fit: learningRate.type must be 'step' or 'cosine', got null`);
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
