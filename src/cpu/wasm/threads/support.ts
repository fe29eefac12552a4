/**
 * The most threads `threads: 'auto'` starts. Past 8, the row ops (bound by memory bandwidth)
 * stop gaining, each thread's share of a training step's matmuls gets too thin to pay for its
 * wake-up, and a page would take every core of a big machine from everything else.
 */
export const AUTO_THREADS_CAP = 8;
/** The most threads a context may ask for. */
export const MAX_THREADS = 64;

/** Threads the CPU backend should run, and where that is 1 against the ask, why. */
export interface ThreadChoice {
  readonly count: number;
  readonly why: string | null;
}

/** Cores this thread's host reports: `os.availableParallelism()` in Node, `navigator.hardwareConcurrency` in browsers. */
async function cores(): Promise<number> {
  const node = (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node !== undefined;
  if (node) {
    const specifier = 'node:os';
    const os = (await import(/* @vite-ignore */ specifier)) as { availableParallelism(): number };
    return os.availableParallelism();
  }
  return (globalThis.navigator as Navigator | undefined)?.hardwareConcurrency ?? 1;
}

/**
 * How many threads `requested` comes to here: `'auto'` is the cores (at most
 * AUTO_THREADS_CAP); any count is 1 where threads cannot run, with the reason.
 */
export async function chooseThreads(requested: number | 'auto'): Promise<ThreadChoice> {
  const count = requested === 'auto' ? Math.min(AUTO_THREADS_CAP, await cores()) : requested;
  if (count <= 1) return { count: 1, why: null };
  const g = globalThis as { crossOriginIsolated?: boolean; Worker?: unknown; process?: unknown; document?: unknown };
  if (typeof SharedArrayBuffer !== 'function') {
    const page = g.crossOriginIsolated === false
      ? 'the page is not cross-origin isolated (serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)'
      : 'this engine has no SharedArrayBuffer';
    return { count: 1, why: page };
  }
  if (g.crossOriginIsolated === false) {
    return { count: 1, why: 'the page is not cross-origin isolated (serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)' };
  }
  if (typeof Atomics !== 'object') return { count: 1, why: 'this engine has no Atomics' };
  if (g.process === undefined && typeof g.Worker !== 'function') return { count: 1, why: 'Web Workers cannot be started here' };
  return { count, why: null };
}
