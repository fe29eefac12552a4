import { tableMismatch, TUNABLE_OPS, type TunableOp, type TuningTable } from '../tuning-table.js';
import { tune, type TunerAccess } from './tuner.js';

/** How a context tunes: `createContext`'s `tune` and `tuning`. */
export interface TuningSetup {
  /** `'auto'`: each family tuned in the background on its first use; `'off'`: the rules, and what `ctx.tune` or a table sets. */
  readonly tune: 'auto' | 'off';
  readonly table: TuningTable | undefined;
}

/** Time a background tuning of one family may take, in milliseconds. */
export const AUTO_BUDGET_MS = 1500;

/**
 * Applies a stored table (its choices, without timing anything) and, with `'auto'`, starts
 * background tuning of each family at its first dispatch. Returns why the table was ignored, or null.
 */
export function setUpTuning(access: TunerAccess, setup: TuningSetup): string | null {
  const host = access.host;
  let note: string | null = null;
  if (setup.table !== undefined) {
    note = tableMismatch(setup.table, access.backend.adapter!);
    if (note === null) for (const [klass, choice] of Object.entries(setup.table.choices)) host.tuned.set(klass, choice);
  }
  if (setup.tune === 'auto') {
    const started = new Set<TunableOp>();
    // One family at a time, after the op that first used it has been recorded: never in its way.
    let chain = Promise.resolve();
    host.onClass = (klass) => {
      const op = TUNABLE_OPS.find((o) => klass.startsWith(`${o} `) || klass === o);
      if (op === undefined || started.has(op) || host.tuned.has(klass)) return;
      started.add(op);
      // Wall-clock times: a background run must never hold ctx.profile against the app.
      const background = { ...access, gpuTime: null };
      chain = chain.then(() => new Promise((resolve) => setTimeout(resolve, 0))).then(() => tune(background, AUTO_BUDGET_MS, [op]).catch(() => {}));
    };
  }
  return note;
}
