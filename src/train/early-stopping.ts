import { checkKnownKeys } from '../check-options.js';
import { ValueError } from '../errors.js';
import { EARLY_STOPPING_KEYS, type EarlyStoppingOptions, type Evaluation } from './options.js';

/**
 * Keras's `EarlyStopping` rule over validation figures: an epoch improves when its monitored
 * figure beats the best so far by more than `minDelta` (lower for `valLoss`, higher for
 * `valAccuracy`); training stops after `patience` epochs in a row without improvement (at
 * least one).
 */
export class EarlyStopping {
  readonly monitor: 'valLoss' | 'valAccuracy';
  readonly patience: number;
  readonly minDelta: number;
  readonly restoreBestWeights: boolean;
  #best = Number.NaN;
  #wait = 0;
  /** The epoch whose figure is the best so far; -1 before the first. */
  bestEpoch = -1;

  constructor(where: string, options: EarlyStoppingOptions) {
    if (typeof options !== 'object' || options === null) throw new ValueError(`${where}: earlyStopping must be an object, got ${String(options)}`);
    checkKnownKeys(where, options, EARLY_STOPPING_KEYS, 'earlyStopping.');
    this.monitor = options.monitor ?? 'valLoss';
    if (this.monitor !== 'valLoss' && this.monitor !== 'valAccuracy') {
      throw new ValueError(`${where}: earlyStopping.monitor must be 'valLoss' or 'valAccuracy', got ${JSON.stringify(this.monitor)}`);
    }
    this.patience = options.patience ?? 0;
    if (!Number.isSafeInteger(this.patience) || this.patience < 0) {
      throw new ValueError(`${where}: earlyStopping.patience must be a whole number of epochs >= 0, got ${this.patience}`);
    }
    this.minDelta = options.minDelta ?? 0;
    if (!(this.minDelta >= 0 && Number.isFinite(this.minDelta))) {
      throw new ValueError(`${where}: earlyStopping.minDelta must be a finite number >= 0, got ${this.minDelta}`);
    }
    this.restoreBestWeights = options.restoreBestWeights ?? false;
  }

  /** Takes one epoch's validation figures: whether it improved, and whether to stop now. */
  update(epoch: number, scores: Evaluation): { improved: boolean; stop: boolean } {
    const value = this.monitor === 'valLoss' ? scores.loss : scores.accuracy;
    const improved =
      Number.isNaN(this.#best) ? !Number.isNaN(value)
      : this.monitor === 'valLoss' ? value < this.#best - this.minDelta
      : value > this.#best + this.minDelta;
    if (improved) {
      this.#best = value;
      this.bestEpoch = epoch;
      this.#wait = 0;
    } else {
      this.#wait++;
    }
    // As Keras: patience 0 and 1 both stop at the first epoch without improvement.
    return { improved, stop: !improved && this.#wait >= Math.max(1, this.patience) };
  }
}
