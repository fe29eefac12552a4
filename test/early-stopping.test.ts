import { describe, expect, it } from 'vitest';
import { ValueError } from '../src/errors.js';
import { EarlyStopping } from '../src/train/early-stopping.js';
import type { EarlyStoppingOptions } from '../src/train/options.js';

// Keras's EarlyStopping rule, epoch by epoch, without training anything: what improves (strictly
// better by more than minDelta, in the monitored figure's direction), when it stops, and the
// options it refuses. `fit-options.test.ts` checks the same rule inside fit.

/** Feeds one figure per epoch and returns, per epoch, 'i' (improved), '.' (not) or 'S' (stop). */
function run(options: EarlyStoppingOptions, figures: readonly number[]): { marks: string; bestEpoch: number } {
  const stopper = new EarlyStopping('fit', options);
  let marks = '';
  for (const [epoch, f] of figures.entries()) {
    // The figure not monitored is NaN, so reading the wrong one shows.
    const { improved, stop } = stopper.update(epoch, options.monitor === 'valAccuracy' ? { loss: NaN, accuracy: f } : { loss: f, accuracy: NaN });
    marks += stop ? 'S' : improved ? 'i' : '.';
    if (stop) break;
  }
  return { marks, bestEpoch: stopper.bestEpoch };
}

describe('EarlyStopping, as Keras', () => {
  it('monitors valLoss by default: lower improves, an equal figure does not', () => {
    expect(run({ patience: 3 }, [1, 0.9, 0.9, 0.95, 0.8, 0.8, 0.8, 0.8])).toEqual({ marks: 'ii..i..S', bestEpoch: 4 });
  });

  it('monitors valAccuracy upwards: higher improves, an equal figure does not', () => {
    expect(run({ monitor: 'valAccuracy', patience: 2 }, [0.5, 0.6, 0.6, 0.55, 0.7])).toEqual({ marks: 'ii.S', bestEpoch: 1 });
    // Falling accuracy, which would improve a loss, never improves it.
    expect(run({ monitor: 'valAccuracy', patience: 1 }, [0.5, 0.4])).toEqual({ marks: 'iS', bestEpoch: 0 });
  });

  it('needs more than minDelta of improvement, strictly, in either direction', () => {
    expect(run({ minDelta: 0.25, patience: 5 }, [1, 0.75, 0.8, 0.5])).toEqual({ marks: 'i..i', bestEpoch: 3 });
    expect(run({ monitor: 'valAccuracy', minDelta: 0.25, patience: 5 }, [0, 0.25, 0.2, 0.5])).toEqual({ marks: 'i..i', bestEpoch: 3 });
  });

  it('stops at the first epoch without improvement for patience 0 and 1, and counts from the last improvement', () => {
    expect(run({}, [1, 2])).toEqual({ marks: 'iS', bestEpoch: 0 });
    expect(run({ patience: 1 }, [1, 2])).toEqual({ marks: 'iS', bestEpoch: 0 });
    expect(run({ patience: 2 }, [1, 2, 0.5, 2, 2])).toEqual({ marks: 'i.i.S', bestEpoch: 2 });
  });

  it('takes the first finite figure as the best, after NaN epochs', () => {
    expect(new EarlyStopping('fit', {}).bestEpoch).toBe(-1);
    expect(run({ patience: 5 }, [NaN, NaN, 3, 4])).toEqual({ marks: '..i.', bestEpoch: 2 });
  });

  it('keeps the last weights unless restoreBestWeights is asked', () => {
    expect(new EarlyStopping('fit', {}).restoreBestWeights).toBe(false);
    expect(new EarlyStopping('fit', { restoreBestWeights: true }).restoreBestWeights).toBe(true);
  });

  it('refuses what is not an options object, and a minDelta that is negative or not finite, naming the value', () => {
    const make = (options: unknown) => () => new EarlyStopping('fit', options as EarlyStoppingOptions);
    expect(make(null)).toThrow(new ValueError('fit: earlyStopping must be an object, got null'));
    expect(make(3)).toThrow(new ValueError('fit: earlyStopping must be an object, got 3'));
    expect(make('valLoss')).toThrow(new ValueError('fit: earlyStopping must be an object, got valLoss'));
    expect(make({ minDelta: -0.1 })).toThrow(new ValueError('fit: earlyStopping.minDelta must be a finite number >= 0, got -0.1'));
    expect(make({ minDelta: Infinity })).toThrow(new ValueError('fit: earlyStopping.minDelta must be a finite number >= 0, got Infinity'));
    expect(make({ minDelta: 0 })).not.toThrow();
  });
});
