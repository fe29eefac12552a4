import type { OptimizerOptions } from '../src/index.js';
import type { Settings } from './types.js';

/** Rates that train this model well in a few epochs. */
export const DEFAULT_LEARNING_RATE: Readonly<Record<OptimizerOptions['type'], number>> = { sgd: 0.5, adam: 0.01, adamw: 0.01, rmsprop: 0.01 };

export interface Controls {
  readonly form: HTMLFormElement;
  readonly backend: HTMLSelectElement;
  readonly thread: HTMLSelectElement;
  readonly hidden: HTMLSelectElement;
  readonly optimizer: HTMLSelectElement;
  readonly learningRate: HTMLInputElement;
  readonly epochs: HTMLInputElement;
  readonly batchSize: HTMLInputElement;
  readonly train: HTMLButtonElement;
}

/** The settings, or an error whose message says which field is wrong and why. */
export function readSettings(c: Controls): Settings {
  const backend = c.backend.value;
  if (backend !== 'webgpu' && backend !== 'cpu') throw new Error(`Unknown backend "${backend}"`);
  const thread = c.thread.value;
  if (thread !== 'worker' && thread !== 'page') throw new Error(`Unknown thread "${thread}"`);
  const type = c.optimizer.value;
  if (type !== 'sgd' && type !== 'adam') throw new Error(`Unknown optimizer "${type}"`);
  const learningRate = Number(c.learningRate.value);
  if (!(learningRate > 0) || !Number.isFinite(learningRate)) {
    throw new Error(`The learning rate must be a positive number, not "${c.learningRate.value}"`);
  }
  const hidden = c.hidden.value === '' ? [] : c.hidden.value.split(',').map(Number);
  if (hidden.some((w) => !Number.isInteger(w) || w < 1)) throw new Error(`Unknown hidden layers "${c.hidden.value}"`);
  return {
    backend,
    thread,
    hidden,
    optimizer: { type, learningRate },
    epochs: positiveInteger(c.epochs, 'Epochs'),
    batchSize: positiveInteger(c.batchSize, 'The batch size'),
  };
}

function positiveInteger(input: HTMLInputElement, name: string): number {
  const value = Number(input.value);
  const max = Number(input.max);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new Error(`${name} must be a whole number from 1 to ${max}, not "${input.value}"`);
  }
  return value;
}

/** A rate that suits SGD diverges with Adam and one that suits Adam crawls with SGD, so switching resets it. */
export function followOptimizerDefaults(c: Controls): void {
  c.optimizer.addEventListener('change', () => {
    const type = c.optimizer.value;
    if (type === 'sgd' || type === 'adam') c.learningRate.value = String(DEFAULT_LEARNING_RATE[type]);
  });
}

/** Locks the form while a run trains: changing the settings mid-run would not affect it. */
export function setBusy(c: Controls, busy: boolean): void {
  for (const e of [c.backend, c.thread, c.hidden, c.optimizer, c.learningRate, c.epochs, c.batchSize, c.train]) e.disabled = busy;
}
