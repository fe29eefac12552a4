import { checkKnownKeys, keysOf } from './check-options.js';
import { ValueError } from './errors.js';
import { TUNABLE_OPS, type TunableOp } from './tuning-table.js';

/** Options of `ctx.tune`. */
export interface TuneOptions {
  /** Stop starting new shape classes once this many milliseconds are spent (default 5000). */
  readonly budgetMs?: number;
  /** The kernel families to tune (default all: matmul, crossEntropy, softmax, logSoftmax, softmaxBackward, sum). */
  readonly ops?: readonly TunableOp[];
}

export const TUNE_KEYS = keysOf<TuneOptions>({ budgetMs: true, ops: true });

const DEFAULT_BUDGET_MS = 5000;

/** `options` checked whole, with defaults. */
export function resolveTune(options: TuneOptions): { readonly budgetMs: number; readonly ops: readonly TunableOp[] } {
  checkKnownKeys('tune', options, TUNE_KEYS);
  const budgetMs = options.budgetMs ?? DEFAULT_BUDGET_MS;
  if (typeof budgetMs !== 'number' || !(budgetMs > 0)) throw new ValueError(`tune: budgetMs must be a positive number of milliseconds, got ${String(budgetMs)}`);
  const ops = options.ops ?? TUNABLE_OPS;
  if (!Array.isArray(ops) || ops.length === 0) throw new ValueError(`tune: ops must be a non-empty array of ${TUNABLE_OPS.map((o) => `'${o}'`).join(', ')}`);
  for (const op of ops) {
    if (!TUNABLE_OPS.includes(op)) throw new ValueError(`tune: ops holds ${JSON.stringify(op)}; the families are ${TUNABLE_OPS.map((o) => `'${o}'`).join(', ')}`);
  }
  return { budgetMs, ops };
}

/** `createContext`'s `tune`, checked. */
export function checkTuneMode(tune: unknown): 'auto' | 'off' | undefined {
  if (tune === undefined || tune === 'auto' || tune === 'off') return tune;
  throw new ValueError(`createContext: tune must be 'auto' or 'off', got ${JSON.stringify(tune)}`);
}
