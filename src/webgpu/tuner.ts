import type { Backend, MatmulPlan, Storage } from '../backend.js';
import type { TunableOp } from '../tuning-table.js';
import { seeded } from './candidates.js';
import type { KernelHost } from './kernel-host.js';
import type { KernelChecks } from './self-check.js';
import { rowClass } from './tuning.js';

/** Dispatches of a candidate per timed run: enough that a submit's overhead does not rank them. */
const REPEATS = 4;
/** Timed runs per candidate; the median counts. */
const RUNS = 3;
/** A candidate whose first dispatch is this many times slower than the best so far gets no more runs. */
const SLOWER = 3;

/** What the tuner needs of the WebGPU backend. */
export interface TunerAccess {
  readonly backend: Backend;
  readonly host: KernelHost;
  readonly checks: KernelChecks;
  readonly device: GPUDevice;
  /** GPU milliseconds of what `record` queues, or null where the device has no timestamp queries. */
  readonly gpuTime: ((record: () => void) => Promise<number>) | null;
}

/** One shape of a family that tuning times: its class, and how to queue one run of it. */
interface Case {
  readonly klass: string;
  /** Queues the op on seeded inputs; returns what to release once it has run. */
  readonly record: () => Storage[];
}

const matmulCase = (backend: Backend, inputs: Inputs, m: number, k: number, n: number, transposeA: boolean, transposeB: boolean): Case => {
  const plan: MatmulPlan = { batch: 1, m, k, n, transposeA, transposeB, aBatchStride: 0, bBatchStride: 0 };
  const a = inputs.floats(m * k);
  const b = inputs.floats(k * n);
  return {
    klass: `matmul ${n <= 16 ? 'n<=16' : 'n>16'}${transposeA ? ' aT' : ''}${transposeB ? ' bT' : ''}`,
    record: () => [backend.matmul(a, b, null, plan)],
  };
};

/** Seeded inputs, made once per tuning run and released at its end. */
class Inputs {
  readonly #backend: Backend;
  readonly made: Storage[] = [];
  #seed = 1;
  constructor(backend: Backend) {
    this.#backend = backend;
  }
  floats(n: number, scale = 1): Storage {
    const storage = this.#backend.upload(seeded(n, this.#seed++).map((v) => v * scale));
    this.made.push(storage);
    return storage;
  }
  labels(rows: number, classes: number): Storage {
    const storage = this.#backend.upload(Int32Array.from({ length: rows }, (_, i) => (i * 7919) % classes));
    this.made.push(storage);
    return storage;
  }
}

/**
 * The shapes each family is tuned at: the ones a classifier head meets (the logits x·W with few
 * columns, the weight gradient xᵀ·dz, the input gradient dz·Wᵀ, a square product; rows of 10
 * and of 1000 classes).
 */
function cases(backend: Backend, inputs: Inputs, op: TunableOp): Case[] {
  const rows = 512;
  const rowCases = (make: (cols: number) => () => Storage[]) =>
    [10, 1000].map((cols) => ({ klass: rowClass(op, cols), record: make(cols) }));
  switch (op) {
    case 'matmul':
      return [
        matmulCase(backend, inputs, rows, 256, 10, false, false),
        matmulCase(backend, inputs, 256, rows, 10, true, false),
        matmulCase(backend, inputs, rows, 10, 256, false, true),
        matmulCase(backend, inputs, 256, 256, 256, false, false),
      ];
    case 'softmax':
    case 'logSoftmax':
      return rowCases((cols) => {
        const z = inputs.floats(rows * cols, 4);
        return () => [op === 'softmax' ? backend.softmax(z, { rows, cols }) : backend.logSoftmax(z, { rows, cols })];
      });
    case 'softmaxBackward':
      return rowCases((cols) => {
        const p = inputs.floats(rows * cols);
        const dp = inputs.floats(rows * cols);
        return () => [backend.softmaxBackward(p, dp, { rows, cols })];
      });
    case 'crossEntropy':
      return rowCases((cols) => {
        const z = inputs.floats(rows * cols, 4);
        const y = inputs.labels(rows, cols);
        const plan = { rows, classes: cols, target: 'index', reduction: 'mean', ignoreIndex: -100, labelSmoothing: 0, withGrad: true } as const;
        return () => {
          const { loss, grad } = backend.crossEntropy(z, y, null, plan);
          return grad === null ? [loss] : [loss, grad];
        };
      });
    case 'sum': {
      const t = inputs.floats(rows * 10);
      return [{ klass: 'sum', record: () => [backend.sumRows(t, { rows, cols: 10 })] }];
    }
  }
}

/**
 * Times every candidate of each family in `ops` at the shapes of `cases`, on seeded data, and
 * makes the fastest correct one each class's choice. A candidate must pass the self-check
 * (its result against the CPU backend's on a probe) before it is timed; one that fails, or
 * does not compile, is left out and named in `ctx.tuning()`. Stops starting new classes once
 * `budgetMs` is spent; a class cut short keeps the rule.
 */
export async function tune(access: TunerAccess, budgetMs: number, ops: readonly TunableOp[]): Promise<void> {
  const started = performance.now();
  const { backend, host } = access;
  const inputs = new Inputs(backend);
  try {
    for (const op of ops) {
      for (const c of cases(backend, inputs, op)) {
        if (performance.now() - started > budgetMs) return;
        await tuneCase(access, c);
      }
    }
  } finally {
    for (const s of inputs.made) backend.release(s);
    host.tuned.forced = null;
  }
}

async function tuneCase(access: TunerAccess, c: Case): Promise<void> {
  const { backend, host } = access;
  const run = (name: string) => () => {
    host.tuned.forced = { klass: c.klass, name };
    try {
      return c.record();
    } finally {
      host.tuned.forced = null;
    }
  };
  // A run with no candidate forced tells which candidates the class has.
  await settle(backend, run(''));
  // The serial variants are there for drivers that refuse barriers: slower where the others
  // run (a column summed in one invocation also rounds more), so never a tuned choice.
  const names = (host.tuned.seen.get(c.klass) ?? []).filter((n) => !n.endsWith('/serial'));
  const ms: Record<string, number> = {};
  for (const name of names) {
    try {
      await settle(backend, run(name));
    } catch {
      continue; // Refused or wrong on this device: KernelChecks has recorded why.
    }
    // One dispatch first: a candidate several times slower than the best so far is not worth more runs.
    const once = await time(access, run(name), 1);
    const best = Math.min(...Object.values(ms));
    if (once > SLOWER * best) {
      ms[name] = once;
      continue;
    }
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) times.push(await time(access, run(name), REPEATS));
    ms[name] = times.sort((a, b) => a - b)[Math.floor(RUNS / 2)]! / REPEATS;
  }
  const timed = Object.entries(ms);
  if (timed.length === 0) return;
  const [choice] = timed.reduce((best, entry) => (entry[1] < best[1] ? entry : best));
  host.tuned.set(c.klass, { choice, ms, source: access.gpuTime === null ? 'wall-clock' : 'timestamp-query' });
}

/** Runs `record` once and waits for it, so compiling and checking are not timed. */
async function settle(backend: Backend, record: () => Storage[]): Promise<void> {
  const outs = record();
  try {
    await backend.flush();
  } finally {
    for (const s of outs) backend.release(s);
  }
}

/** Milliseconds of `repeats` runs of `record`: GPU time where the device has timestamps, else a submit's wall time until the work is done. */
async function time(access: TunerAccess, record: () => Storage[], repeats: number): Promise<number> {
  const outs: Storage[] = [];
  const queue = () => {
    for (let i = 0; i < repeats; i++) outs.push(...record());
  };
  try {
    if (access.gpuTime !== null) return await access.gpuTime(queue);
    await access.backend.flush();
    await access.device.queue.onSubmittedWorkDone();
    const start = performance.now();
    queue();
    await access.backend.flush();
    await access.device.queue.onSubmittedWorkDone();
    return performance.now() - start;
  } finally {
    for (const s of outs) access.backend.release(s);
  }
}
