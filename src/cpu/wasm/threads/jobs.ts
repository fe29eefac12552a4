import type { WasmHeap } from '../heap.js';
import type { WasmExports } from '../exports.js';
import type { ThreadPool } from './pool.js';
import { RECORD } from './worker.js';

/** The kernel exports in the order jobs name them by index. */
export const KERNEL_NAMES = [
  'gemm_n',
  'gemm_t',
  'pack_b',
  'softmax',
  'log_softmax',
  'softmax_backward',
  'cross_entropy',
  'sum_rows',
  'sgd',
  'adam',
  'adamw',
  'rmsprop',
] as const satisfies readonly (keyof WasmExports)[];

type KernelName = (typeof KERNEL_NAMES)[number];
const INDEX = new Map<string, number>(KERNEL_NAMES.map((name, i) => [name, i]));

/**
 * An op's kernel calls cut into chunks. The op asks for `chunks` (1 when it runs on the
 * calling thread alone), makes its calls chunk by chunk with `end()` after each, then `run()`.
 * On one thread the calls run as they are made; on several, each chunk is claimed by one
 * thread, which runs its calls in order. Ops cut their work only where no two chunks write the
 * same bytes and every output element comes from the same calls on any cut.
 */
export interface Job {
  readonly chunks: number;
  call<K extends KernelName>(name: K, ...args: Parameters<WasmExports[K]>): void;
  /** Copies `bytes` bytes of the memory from `from` to `to`. */
  copy(to: number, from: number, bytes: number): void;
  end(): void;
  run(): void;
}

/** How the ops of one context run their kernels: on this thread, or on a pool. */
export interface Threads {
  /** Threads that run a big op, the calling one included. */
  readonly count: number;
  readonly pool: ThreadPool | null;
  /**
   * A job for `units` independent pieces of work (rows, panels, vectors) that take about
   * `nanoseconds` on one thread: split into several chunks only from `least` (PARALLEL_NS
   * unless the op says), where that pays for the dispatch, into at most `units`.
   */
  job(nanoseconds: number, units: number, what: string, least?: number): Job;
}

/**
 * The least estimated one-thread time of an op worth splitting, and for matmul, whose bands
 * each stream all of A through another core's caches, more. Calibrated with
 * `npm run bench:threads -- --calibrate` (2-core Zen 4 at load 16, best of 200 runs, 2 threads
 * against 1): softmax lost at 140 µs of one-thread time (0.83×) and gained from 340 µs
 * (1.65×); matmul lost at 510 µs (0.83×) and gained from 1.1 ms (1.67×). Below these, ops
 * stay on the calling thread.
 */
export const PARALLEL_NS = 200_000;
export const MATMUL_PARALLEL_NS = 800_000;
/** Chunks per thread: enough that a thread slowed by the machine's other work takes fewer. */
const CHUNKS_PER_THREAD = 4;

/**
 * Each op's one-thread cost in ns per unit of work, for `job`: measured by
 * `bench:threads --calibrate` on the machine above (Node's plain-SIMD build).
 */
export const COST = {
  /** Per flop of a matmul (2 per multiply-add): about 33 GFLOP/s. */
  flop: 0.03,
  /** Per element of a softmax-like row pass (a max, an exp and a sum, a scale). */
  rowElement: 1.5,
  /** Per element read by a column sum or an optimizer step. */
  element: 0.2,
};

/** The calls of one thread, run as they are made. */
class SerialJob implements Job {
  readonly chunks = 1;
  constructor(
    readonly fns: WasmExports,
    readonly heap: WasmHeap,
  ) {}

  call<K extends KernelName>(name: K, ...args: Parameters<WasmExports[K]>): void {
    (this.fns[name] as (...a: number[]) => void)(...(args as number[]));
  }

  copy(to: number, from: number, bytes: number): void {
    const u8 = new Uint8Array(this.heap.memory.buffer);
    u8.copyWithin(to, from, from + bytes);
  }

  end(): void {}
  run(): void {}
}

/** The calls of several chunks, written to the memory at `run()` and dispatched to the pool. */
class PooledJob implements Job {
  readonly #records: number[] = [];
  readonly #starts: number[] = [0];

  constructor(
    readonly chunks: number,
    readonly heap: WasmHeap,
    readonly pool: ThreadPool,
    readonly what: string,
  ) {}

  call<K extends KernelName>(name: K, ...args: Parameters<WasmExports[K]>): void {
    this.#records.push(INDEX.get(name)!, ...(args as number[]));
    for (let i = args.length + 1; i < RECORD; i++) this.#records.push(0);
  }

  copy(to: number, from: number, bytes: number): void {
    this.#records.push(-1, to, from, bytes, 0, 0, 0, 0, 0, 0, 0, 0);
  }

  end(): void {
    this.#starts.push(this.#records.length / RECORD);
  }

  run(): void {
    const chunks = this.#starts.length - 1;
    const head = (4 * (chunks + 2) + 7) & ~7;
    const bytes = head + 8 * this.#records.length;
    const job = this.heap.alloc(bytes);
    try {
      const buffer = this.heap.memory.buffer;
      const i32 = new Int32Array(buffer, job, chunks + 2);
      i32[0] = chunks;
      i32.set(this.#starts, 1);
      new Float64Array(buffer, job + head, this.#records.length).set(this.#records);
      this.pool.dispatch(job, chunks, this.what);
    } finally {
      this.heap.free(job, bytes);
    }
  }
}

/** Ops on the calling thread only. */
export function serialThreads(fns: WasmExports, heap: WasmHeap): Threads {
  const serial = new SerialJob(fns, heap);
  return { count: 1, pool: null, job: () => serial };
}

/** Ops split over `pool` where they are big enough. */
export function pooledThreads(fns: WasmExports, heap: WasmHeap, pool: ThreadPool): Threads {
  const serial = new SerialJob(fns, heap);
  return {
    count: pool.size,
    pool,
    job(nanoseconds, units, what, least = PARALLEL_NS) {
      const chunks = Math.min(units, pool.size * CHUNKS_PER_THREAD);
      return nanoseconds < least || chunks < 2 ? serial : new PooledJob(chunks, heap, pool, what);
    },
  };
}

/** Boundaries of `chunks` near-equal parts of `units`, each a multiple of `align` but the last. */
export function cut(units: number, chunks: number, align = 1): number[] {
  const bounds = [0];
  for (let c = 1; c < chunks; c++) bounds.push(Math.min(units, Math.round((units * c) / chunks / align) * align));
  bounds.push(units);
  return bounds;
}
