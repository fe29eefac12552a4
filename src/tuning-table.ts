import type { AdapterReport } from './webgpu/device.js';
import { LIBRARY_VERSION } from './version.js';

/** The kernel families `ctx.tune` times. */
export type TunableOp = 'matmul' | 'softmax' | 'logSoftmax' | 'softmaxBackward' | 'crossEntropy' | 'sum';

/** Every family `ctx.tune` knows, in the order it tunes them. */
export const TUNABLE_OPS: readonly TunableOp[] = ['matmul', 'crossEntropy', 'softmax', 'logSoftmax', 'softmaxBackward', 'sum'];

/** The table format's version; a table of another one is ignored. */
export const TUNING_TABLE_VERSION = 1;

/** The adapter a tuning table was measured on. */
export interface TunedAdapter {
  /** `GPUAdapterInfo.vendor`. */
  readonly vendor: string;
  /** `GPUAdapterInfo.architecture`. */
  readonly architecture: string;
  /** `GPUAdapterInfo.device`. */
  readonly device: string;
  /** `GPUAdapterInfo.description` (names the driver, where the browser reports it). */
  readonly description: string;
}

/** A kernel variant this device refused or got wrong, and why. */
export interface RejectedKernel {
  /** Family and variant, e.g. `'matmul/tiled'`. */
  readonly name: string;
  /** The pipeline: its WGSL module, entry point and override constants. */
  readonly pipeline: string;
  /** `'limits'`: beyond the device's limits, never compiled; `'compile'`: the driver refused it; `'self-check'`: its result differed from the CPU backend's. */
  readonly stage: 'limits' | 'compile' | 'self-check';
  /** The limit, the compiler's message, or the element that differed from the CPU's. */
  readonly reason: string;
}

/** What the self-check of each pipeline's first dispatch cost on this context. */
export interface SelfCheckCost {
  /** Pipelines probed. */
  readonly pipelines: number;
  /** Their probes' wall time, in milliseconds, summed. */
  readonly totalMs: number;
  /** The slowest probe, in milliseconds. */
  readonly maxMs: number;
}

/** One family and shape class that tuning timed: the winner and each correct candidate's time. */
export interface TunedChoice {
  /** The candidate that runs, e.g. `'matmul/blocked'`. */
  readonly choice: string;
  /** Milliseconds per dispatch of each candidate that was timed and correct. */
  readonly ms: Readonly<Record<string, number>>;
  /** Where the times came from. */
  readonly source: 'timestamp-query' | 'wall-clock';
}

/**
 * What `ctx.tuning()` returns and `createContext({ tuning })` takes: plain JSON, to store
 * where the app likes (localStorage, IndexedDB, a file). It holds only for the adapter and
 * library version it names.
 *
 * @example
 * const ctx = await createContext();
 * await ctx.tune({ budgetMs: 2000 });
 * localStorage.setItem('webgpu-softmax tuning', JSON.stringify(ctx.tuning()));
 * const later = await createContext({ tuning: JSON.parse(localStorage.getItem('webgpu-softmax tuning')!) });
 */
export interface TuningTable {
  /** The table format (`TUNING_TABLE_VERSION`). */
  readonly version: number;
  /** The webgpu-softmax version that made it: kernels change between versions, so a table holds for one. */
  readonly library: string;
  /** The adapter it was measured on. */
  readonly adapter: TunedAdapter;
  /** By `'family shape-class'` key (e.g. `'matmul n<=16 aT'`): the candidate to run. */
  readonly choices: Readonly<Record<string, TunedChoice>>;
  /** Every variant this device refused or got wrong on this context (informative: not applied from a stored table). */
  readonly rejected: readonly RejectedKernel[];
  /** What the first-dispatch self-checks cost on this context. */
  readonly selfCheck: SelfCheckCost;
}

/** The adapter's identity as a table records it. */
export function tunedAdapter(adapter: AdapterReport): TunedAdapter {
  return { vendor: adapter.vendor, architecture: adapter.architecture, device: adapter.device, description: adapter.description };
}

/**
 * Why `table` does not apply to `adapter` (another adapter, library version or format, or not
 * a table at all), or null when it does.
 */
export function tableMismatch(table: unknown, adapter: AdapterReport): string | null {
  if (typeof table !== 'object' || table === null) return 'the tuning table is not an object';
  const t = table as Partial<TuningTable>;
  if (t.version !== TUNING_TABLE_VERSION) return `the tuning table has format version ${JSON.stringify(t.version)}, this library reads ${TUNING_TABLE_VERSION}`;
  if (t.library !== LIBRARY_VERSION) return `the tuning table was made by webgpu-softmax ${JSON.stringify(t.library)}, this is ${LIBRARY_VERSION}`;
  const mine = tunedAdapter(adapter);
  const theirs = t.adapter as Partial<TunedAdapter> | undefined;
  const differs = (Object.keys(mine) as (keyof TunedAdapter)[]).filter((k) => theirs?.[k] !== mine[k]);
  if (differs.length > 0) {
    return `the tuning table is for another adapter (${describe(theirs)}), this is ${describe(mine)}`;
  }
  if (typeof t.choices !== 'object' || t.choices === null) return 'the tuning table has no choices';
  for (const [key, choice] of Object.entries(t.choices)) {
    if (typeof (choice as Partial<TunedChoice> | null)?.choice !== 'string') return `the tuning table's choice for '${key}' names no candidate`;
  }
  return null;
}

function describe(a: Partial<TunedAdapter> | undefined): string {
  return [a?.vendor, a?.architecture, a?.device, a?.description].filter((s) => typeof s === 'string' && s !== '').join(' ') || 'unnamed';
}
