import type { StepGuard } from '../backend.js';
import { describe } from '../describe.js';
import { NonFiniteError, ValueError } from '../errors.js';
import { internals, type TrainingContext } from '../internal.js';
import type { Tensor } from '../tensor.js';
import type { NonFiniteMode } from './options.js';

type F32 = Tensor<'float32'>;

/** `nonFinite` checked before any work: `'error'` where not given. */
export function nonFiniteMode(where: string, value: unknown): NonFiniteMode {
  if (value === undefined || value === 'error' || value === 'skip') return value ?? 'error';
  throw new ValueError(`${where}: nonFinite must be 'error' or 'skip', got ${typeof value === 'string' ? `'${value}'` : describe(value)}`);
}

/** Where a bad batch's inputs first hold NaN or Infinity: the row, and in `x` or in the targets. */
export interface BadRow {
  readonly row: number;
  readonly input: 'x' | 'y';
}

/**
 * The first of `rows` rows of `x` (`features` wide) or of probability targets `y` (`classes`
 * wide; null for class ids) holding NaN or ±Infinity; null where all are finite.
 */
export function firstBadRow(x: Float32Array, features: number, y: Float32Array | null, classes: number): BadRow | null {
  const rows = x.length / features;
  for (let r = 0; r < rows; r++) {
    for (let i = r * features; i < (r + 1) * features; i++) if (!Number.isFinite(x[i]!)) return { row: r, input: 'x' };
    if (y !== null) for (let i = r * classes; i < (r + 1) * classes; i++) if (!Number.isFinite(y[i]!)) return { row: r, input: 'y' };
  }
  return null;
}

/**
 * The non-finite guard of one training run. Each step's loss and gradients are checked on the
 * backend (a WebGPU kernel, no readback) and the optimizer kernels skip the update of a bad
 * step; under `'error'` the mark sticks, so every later update is skipped too and the weights
 * stay those from before the first bad step until the host sees the mark at the epoch's end.
 * Under `'skip'`, a step's metrics go to a scratch accumulator that joins the epoch's only if
 * the step was good. The four int32 words are laid out as `StepGuard` says.
 */
export class NonFiniteGuard {
  readonly mode: NonFiniteMode;
  readonly #ctx: TrainingContext;
  readonly #words: Tensor<'int32'>;
  readonly #stepMetrics: F32 | null;
  #step = 0;
  #epochStart = 0;
  #badBefore = 0;

  constructor(ctx: TrainingContext, mode: NonFiniteMode) {
    this.mode = mode;
    this.#ctx = ctx;
    this.#words = ctx.tensor(new Int32Array([0, -1, 0, 0]));
    this.#stepMetrics = mode === 'skip' ? ctx.tensor(new Float32Array(4)) : null;
  }

  /** The next step's place under the guard. */
  begin(): StepGuard {
    const words = this.#ctx[internals].storage(this.#words, 'nonFinite', 'guard');
    return { words, step: this.#step++, sticky: this.mode === 'error' };
  }

  /** Where a step adds its metrics: the epoch's accumulator, or under `'skip'` the step's own. */
  metricsFor(epochMetrics: F32): F32 {
    return this.#stepMetrics ?? epochMetrics;
  }

  /** Marks `step` bad where any of `values` (its loss and gradients) is not finite. */
  check(step: StepGuard, values: readonly F32[]): void {
    const access = this.#ctx[internals];
    access.backend().checkFinite(values.map((t) => access.storage(t, 'nonFinite', 'values')), step);
  }

  /** Under `'skip'`, adds a good step's metrics to the epoch's. */
  commit(step: StepGuard, epochMetrics: F32): void {
    if (this.#stepMetrics === null) return;
    const access = this.#ctx[internals];
    access.backend().commitMetrics(access.storage(this.#stepMetrics, 'nonFinite', 'stepMetrics'), access.storage(epochMetrics, 'nonFinite', 'metrics'), step);
  }

  /** Numbers the epoch's batches from `firstBatch`: a resumed epoch starts past its first ones. */
  startEpoch(firstBatch: number): void {
    this.#epochStart = this.#step - firstBatch;
  }

  /**
   * Reads the words at an epoch's end (beside the epoch's figures): the batches skipped in the
   * epoch under `'skip'`; under `'error'`, rejects with a `NonFiniteError` where a step was bad,
   * `locate` finding the row at fault. `unstep` is told how many of the epoch's steps were
   * skipped, so an optimizer that counts its steps (Adam's bias corrections) forgets them.
   */
  async settle(
    where: string,
    epoch: number,
    locate: ((batch: number) => Promise<BadRow | null>) | null,
    unstep: (steps: number) => void,
  ): Promise<number> {
    const [, first, bad] = (await this.#words.read()) as unknown as [number, number, number];
    const skipped = bad - this.#badBefore;
    this.#badBefore = bad;
    if (this.mode === 'skip' || skipped === 0) return skipped;
    unstep(this.#step - first);
    const batch = first - this.#epochStart;
    const at = locate === null ? null : await locate(batch);
    const input = at === null ? '' : at.input === 'x' ? ` (row ${at.row} of x holds NaN or Infinity)` : ` (row ${at.row} of the targets holds NaN or Infinity)`;
    throw new NonFiniteError(
      `${where}: the loss or the gradients of batch ${batch} of epoch ${epoch} are not finite${input}; ` +
        `nothing of that batch or after it was applied, so the model holds the weights from before it. ` +
        `Pass nonFinite: 'skip' to train on without such batches.`,
      { epoch, batch, row: at?.row ?? null },
    );
  }

  dispose(): void {
    this.#words.dispose();
    this.#stepMetrics?.dispose();
  }
}
