import { WorkerThreadError } from '../../../errors.js';
import { CONTROL, executor, workerSource, type WorkerInit } from './worker.js';

/** Spins before a thread sleeps in `Atomics.wait`: a few microseconds, less than a futex wake-up. */
const SPINS = 2000;
/** `next` between jobs: a late worker's claim lands past any job's chunks. */
const PARKED = 1 << 30;
/** How long `start` waits for the workers to instantiate their kernels. */
const START_MS = 20_000;

interface Handle {
  terminate(): void;
}

/** What the pool hears from a worker. */
interface WorkerEvents {
  ready(): void;
  /** The worker ended: stopped, killed, or failed (`error`, where the platform said what). */
  exit(error: string | null): void;
}

/** How this platform starts a worker thread: Node's `worker_threads`, or a browser's Web Workers. */
interface Platform {
  spawn(init: WorkerInit, events: WorkerEvents): Handle;
  close(): void;
}

/** The part of Node's `worker_threads` the pool uses (the library's types do not include Node's). */
interface NodeWorker {
  unref(): void;
  on(event: 'message', listener: (message: unknown) => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
  on(event: 'exit', listener: (code: number) => void): void;
  terminate(): Promise<number>;
}
type NodeWorkerConstructor = new (source: string, options: { eval: true; workerData: WorkerInit }) => NodeWorker;

async function platform(): Promise<Platform> {
  const node = (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node !== undefined;
  if (node) {
    // A variable specifier keeps bundlers from resolving a Node builtin for the browser.
    const specifier = 'node:worker_threads';
    const { Worker } = (await import(/* @vite-ignore */ specifier)) as { Worker: NodeWorkerConstructor };
    const source = workerSource(true);
    return {
      spawn(init, events) {
        const worker = new Worker(source, { eval: true, workerData: init });
        let error: string | null = null;
        worker.on('message', (m) => m === 'ready' && events.ready());
        worker.on('error', (e) => (error = e.message));
        worker.on('exit', (code) => events.exit(error ?? (code === 0 ? null : `exit code ${code}`)));
        // Idle workers sleep in Atomics.wait: they must not keep a process alive that forgot
        // destroy(). After the listeners, since adding a 'message' listener refs the port again.
        worker.unref();
        return { terminate: () => void worker.terminate() };
      },
      close() {},
    };
  }
  const url = URL.createObjectURL(new Blob([workerSource(false)], { type: 'text/javascript' }));
  return {
    spawn(init, events) {
      const worker = new Worker(url, { type: 'module', name: `webgpu-softmax cpu ${init.index + 1}` });
      let ended = false;
      worker.onmessage = (e) => e.data === 'ready' && events.ready();
      worker.onerror = (e) => {
        if (!ended) (ended = true), events.exit(e.message || 'the worker failed to start');
      };
      worker.postMessage(init);
      return {
        terminate() {
          ended = true;
          worker.terminate();
        },
      };
    },
    close: () => URL.revokeObjectURL(url),
  };
}

/**
 * The worker threads of one CPU context, over its shared `WebAssembly.Memory`. A job's chunks
 * are claimed one at a time (`Atomics.add`) by the workers and by the calling thread itself,
 * so a job finishes even while a worker is missing (starting, or being replaced), and a slow
 * worker only takes fewer chunks. Each chunk's calls are fixed when the job is built, so which
 * thread runs a chunk never changes a bit of the result.
 */
export class ThreadPool {
  /** Threads that run a job: the workers and the calling thread. */
  readonly size: number;
  /** After this long with a worker's chunk unfinished and nothing else to do, the worker is taken for dead. */
  stallMs = 30_000;
  /** Workers started to replace ones that died or failed (for tests). */
  respawns = 0;
  /** Jobs dispatched to the workers (for tests: that an op was split at all). */
  dispatched = 0;
  readonly #ctl: Int32Array;
  readonly #platform: Platform;
  readonly #init: Omit<WorkerInit, 'index'>;
  readonly #run: (job: number, chunk: number) => void;
  readonly #canBlock: boolean;
  readonly #workers: (Handle | null)[];
  #destroyed = false;
  /** Why a worker ended before it was ready, while `start` waits. */
  #startFailure: string | null = null;

  private constructor(size: number, plat: Platform, init: Omit<WorkerInit, 'index'>, fns: readonly ((...args: number[]) => unknown)[]) {
    this.size = size;
    this.#platform = plat;
    this.#init = init;
    this.#ctl = new Int32Array(init.control);
    this.#ctl[CONTROL.next] = PARKED;
    this.#run = executor(fns, init.memory);
    this.#canBlock = canBlock();
    this.#workers = Array.from({ length: size - 1 }, () => null);
  }

  /**
   * Starts `size - 1` workers and waits until they have instantiated the kernels; throws (with
   * the reason) where no worker can start.
   */
  static async start(
    size: number,
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    names: readonly string[],
    fns: readonly ((...args: number[]) => unknown)[],
  ): Promise<ThreadPool> {
    const plat = await platform();
    const control = new SharedArrayBuffer(4 * CONTROL.words);
    const pool = new ThreadPool(size, plat, { module, memory, control, layout: CONTROL, names, spins: SPINS }, fns);
    try {
      for (let i = 0; i < size - 1; i++) pool.#spawn(i);
    } catch (error) {
      // A page's Content Security Policy may refuse blob: workers: stop the ones started.
      pool.destroy();
      throw error;
    }
    const deadline = Date.now() + START_MS;
    while (Atomics.load(pool.#ctl, CONTROL.ready) < size - 1 && Date.now() < deadline && pool.#startFailure === null) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const ready = Atomics.load(pool.#ctl, CONTROL.ready);
    if (ready < size - 1) {
      pool.destroy();
      throw new Error(pool.#startFailure ?? `only ${ready} of ${size - 1} worker threads started within ${START_MS / 1000} s`);
    }
    return pool;
  }

  /**
   * Runs `chunks` chunks of the job at byte `job` of the memory on every thread, the caller
   * included, and returns when all are done. Throws a `WorkerThreadError` if a chunk threw or
   * a worker stopped holding one; the pool replaces that worker.
   */
  dispatch(job: number, chunks: number, what: string): void {
    if (this.#destroyed) throw new WorkerThreadError(`cpu backend: ${what}: the worker threads were stopped`);
    const c = this.#ctl;
    this.dispatched++;
    Atomics.store(c, CONTROL.error, 0);
    Atomics.store(c, CONTROL.done, 0);
    Atomics.store(c, CONTROL.job, job);
    Atomics.store(c, CONTROL.chunks, chunks);
    Atomics.store(c, CONTROL.next, 0);
    Atomics.add(c, CONTROL.generation, 1);
    Atomics.notify(c, CONTROL.generation);
    let own: unknown = null;
    for (;;) {
      const chunk = Atomics.add(c, CONTROL.next, 1);
      if (chunk >= chunks) break;
      try {
        this.#run(job, chunk);
      } catch (error) {
        own ??= error;
      }
      Atomics.add(c, CONTROL.done, 1);
    }
    try {
      this.#await(chunks, what);
    } finally {
      Atomics.store(c, CONTROL.next, PARKED);
    }
    if (own !== null) throw own;
    const failed = Atomics.load(c, CONTROL.error);
    if (failed !== 0) {
      let message = '';
      for (let i = CONTROL.message; c[i] !== 0 && i < CONTROL.message + CONTROL.messageLength; i++) message += String.fromCharCode(c[i]!);
      this.#replace(failed - 1);
      throw new WorkerThreadError(
        `cpu backend: ${what}: worker thread ${failed} of ${this.size - 1} failed (${message}); the op's result is lost, ` +
          'the worker is being replaced, and the context stays usable',
      );
    }
  }

  /** Test hook: worker `index` throws in (`'throw'`) or dies holding (`'die'`) the next chunk it claims. */
  injectFault(index: number, kind: 'throw' | 'die'): void {
    Atomics.store(this.#ctl, CONTROL.faultKind, kind === 'die' ? 2 : 1);
    Atomics.store(this.#ctl, CONTROL.fault, index + 1);
  }

  /** Test hook: the workers' handles, to terminate one from outside. */
  get workers(): readonly ({ terminate(): void } | null)[] {
    return this.#workers;
  }

  /** Workers that have instantiated their kernels and wait for jobs. */
  get ready(): number {
    return Atomics.load(this.#ctl, CONTROL.ready);
  }

  /** Stops every worker; the pool runs nothing after. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    Atomics.store(this.#ctl, CONTROL.stop, 1);
    Atomics.add(this.#ctl, CONTROL.generation, 1);
    Atomics.notify(this.#ctl, CONTROL.generation);
    for (const w of this.#workers) w?.terminate();
    this.#workers.fill(null);
    this.#platform.close();
  }

  #await(chunks: number, what: string): void {
    const c = this.#ctl;
    let last = -1;
    let since = 0;
    for (let spin = 0; ; spin++) {
      const done = Atomics.load(c, CONTROL.done);
      if (done >= chunks) return;
      if (spin < SPINS) continue;
      const now = performance.now();
      if (done !== last) [last, since] = [done, now];
      else if (now - since > this.stallMs) {
        const stuck: number[] = [];
        for (let i = 0; i < this.size - 1; i++) if (Atomics.load(c, CONTROL.busy + i) !== 0) stuck.push(i);
        for (const i of stuck) this.#replace(i);
        throw new WorkerThreadError(
          `cpu backend: ${what}: worker thread ${stuck.map((i) => i + 1).join(', ')} of ${this.size - 1} stopped in the middle of the op ` +
            `(no progress in ${Math.round(now - since)} ms); the op's result is lost, the worker is being replaced, and the context stays usable`,
        );
      }
      // A browser's main thread may not block: there the caller keeps spinning.
      if (this.#canBlock) Atomics.wait(c, CONTROL.done, done, 10);
    }
  }

  #spawn(index: number): void {
    let ready = false;
    const handle = this.#platform.spawn(
      { ...this.#init, index },
      {
        ready: () => (ready = true),
        exit: (error) => {
          if (this.#destroyed || this.#workers[index] !== handle) return;
          if (!ready) {
            // A worker that cannot start is not restarted forever: jobs run on the threads left.
            this.#startFailure ??= `worker thread ${index + 1} ended before it was ready (${error ?? 'no error given'})`;
            this.#workers[index] = null;
            return;
          }
          // Died between jobs (or killed from outside): replace it; jobs meanwhile run without it.
          if (ready) Atomics.sub(this.#ctl, CONTROL.ready, 1);
          this.#workers[index] = null;
          this.#respawn(index);
        },
      },
    );
    this.#workers[index] = handle;
  }

  #replace(index: number): void {
    const w = this.#workers[index];
    this.#workers[index] = null;
    if (w !== undefined && w !== null) {
      Atomics.sub(this.#ctl, CONTROL.ready, 1);
      w.terminate();
    }
    this.#respawn(index);
  }

  #respawn(index: number): void {
    Atomics.store(this.#ctl, CONTROL.busy + index, 0);
    this.respawns++;
    this.#spawn(index);
  }
}

/** Whether this thread may block in `Atomics.wait` (a browser's main thread may not). */
function canBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}
