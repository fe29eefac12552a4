// What a worker thread runs. Both functions are self-contained (no imports, no outer names):
// the pool sends their source text to each worker, so no worker script has to be found on disk
// or by a bundler, and the emitted kernel module travels to the worker as a compiled module.

/** Word indices of the control block (an Int32Array over a SharedArrayBuffer of its own). */
export const CONTROL = {
  /** Bumped once per job; workers wait on it. */
  generation: 0,
  /** The next chunk to claim (`Atomics.add`); parked far past any job's end between jobs. */
  next: 1,
  chunks: 2,
  /** Chunks finished; the caller waits on it. */
  done: 3,
  /** Byte offset of the job's chunk table and calls in the Wasm memory. */
  job: 4,
  /** 1 + the index of the first worker whose chunk threw, with its message at `message`. */
  error: 5,
  stop: 6,
  /** Fault injection for the tests: 1 + the index of the worker to fail, and how (`FAULT_*`). */
  fault: 7,
  faultKind: 8,
  /** Workers whose kernels are instantiated. */
  ready: 9,
  /** 1 + the chunk a worker runs now (its own word at `busy + index`), 0 between chunks. */
  busy: 16,
  message: 128,
  messageLength: 256,
  words: 384,
} as const;

/** The control block's layout, as the worker receives it. */
export type ControlLayout = typeof CONTROL;

/** A call record: the export's index (-1: a byte copy `to, from, bytes`), then up to 11 arguments. */
export const RECORD = 12;

/**
 * Runs chunk `chunk` of the job at byte `job` of `memory`: its calls, in order. A job is an
 * int32 `chunks`, `chunks + 1` indices (chunk c is calls `[at[c], at[c + 1])`), then 8-aligned
 * records of RECORD float64 each (an int32 or float32 argument is exact in a float64).
 */
export function executor(fns: readonly ((...args: number[]) => unknown)[], memory: WebAssembly.Memory): (job: number, chunk: number) => void {
  let buffer = memory.buffer;
  let i32 = new Int32Array(buffer);
  let f64 = new Float64Array(buffer);
  let u8 = new Uint8Array(buffer);
  return (job, chunk) => {
    // The caller may have grown the memory since: views of the old buffer stop at its old length.
    if (memory.buffer.byteLength !== buffer.byteLength) {
      buffer = memory.buffer;
      i32 = new Int32Array(buffer);
      f64 = new Float64Array(buffer);
      u8 = new Uint8Array(buffer);
    }
    const head = job >> 2;
    const chunks = i32[head]!;
    const base = ((job + 4 * (chunks + 2) + 7) & ~7) >> 3;
    const end = i32[head + 2 + chunk]!;
    for (let r = i32[head + 1 + chunk]!; r < end; r++) {
      const at = base + r * 12;
      const fn = f64[at]!;
      if (fn < 0) u8.copyWithin(f64[at + 1]!, f64[at + 2]!, f64[at + 2]! + f64[at + 3]!);
      else fns[fn]!(f64[at + 1]!, f64[at + 2]!, f64[at + 3]!, f64[at + 4]!, f64[at + 5]!, f64[at + 6]!, f64[at + 7]!, f64[at + 8]!, f64[at + 9]!, f64[at + 10]!, f64[at + 11]!);
    }
  };
}

/** What a worker receives when it starts. */
export interface WorkerInit {
  readonly module: WebAssembly.Module;
  readonly memory: WebAssembly.Memory;
  readonly control: SharedArrayBuffer;
  readonly layout: ControlLayout;
  readonly index: number;
  readonly names: readonly string[];
  readonly spins: number;
}

/**
 * A worker's life: instantiate the kernels over the shared memory, then for each new
 * generation claim chunks until none is left. Returns `'stopped'` when the pool stops it, or
 * `'died'` when a test's fault asks it to die holding a chunk.
 */
export function workerMain(init: WorkerInit, makeExecutor: typeof executor, post: (message: unknown) => void): 'stopped' | 'died' {
  const { layout: L, index } = init;
  const instance = new WebAssembly.Instance(init.module, { env: { memory: init.memory, log: Math.log } });
  const exports = instance.exports as Record<string, (...args: number[]) => unknown>;
  const run = makeExecutor(
    init.names.map((name) => exports[name]!),
    init.memory,
  );
  const ctl = new Int32Array(init.control);
  Atomics.add(ctl, L.ready, 1);
  post('ready');
  let seen = Atomics.load(ctl, L.generation);
  for (;;) {
    for (let spin = 0; Atomics.load(ctl, L.generation) === seen; spin++) {
      if (spin >= init.spins) Atomics.wait(ctl, L.generation, seen);
    }
    seen = Atomics.load(ctl, L.generation);
    if (Atomics.load(ctl, L.stop) !== 0) return 'stopped';
    for (;;) {
      const chunk = Atomics.add(ctl, L.next, 1);
      if (chunk >= Atomics.load(ctl, L.chunks)) break;
      Atomics.store(ctl, L.busy + index, chunk + 1);
      try {
        if (Atomics.load(ctl, L.fault) === index + 1) {
          Atomics.store(ctl, L.fault, 0);
          if (Atomics.load(ctl, L.faultKind) === 2) return 'died';
          throw new Error('a fault injected by a test');
        }
        run(Atomics.load(ctl, L.job), chunk);
      } catch (error) {
        if (Atomics.compareExchange(ctl, L.error, 0, index + 1) === 0) {
          const text = String(error instanceof Error ? error.message : error).slice(0, L.messageLength - 1);
          for (let i = 0; i < text.length; i++) ctl[L.message + i] = text.charCodeAt(i);
          ctl[L.message + text.length] = 0;
        }
      }
      Atomics.store(ctl, L.busy + index, 0);
      if (Atomics.add(ctl, L.done, 1) + 1 === Atomics.load(ctl, L.chunks)) Atomics.notify(ctl, L.done);
    }
  }
}

/** The source a worker thread evaluates: Node's `worker_threads` (CommonJS eval) or a browser's Worker. */
export function workerSource(node: boolean): string {
  // `__name`: esbuild's keepNames may wrap functions in calls to a helper that lives elsewhere.
  const prelude = `"use strict";\nconst __name = (f) => f;\nconst executor = ${executor.toString()};\nconst workerMain = ${workerMain.toString()};\n`;
  return node
    ? // getBuiltinModule, not require: an eval worker is an ES module where the process runs `--input-type=module`.
      `${prelude}const { workerData, parentPort } = process.getBuiltinModule('node:worker_threads');\n` +
        `if (workerMain(workerData, executor, (m) => parentPort.postMessage(m)) === 'died') process.exit(1);\n`
    : `${prelude}self.onmessage = (event) => {\n  self.onmessage = null;\n` +
        `  if (workerMain(event.data, executor, (m) => self.postMessage(m)) === 'died') self.close();\n};\n`;
}
