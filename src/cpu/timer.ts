import type { KernelTiming, Profile } from '../backend.js';
import { WebGPUSoftmaxError } from '../errors.js';

/** Wall time per op while `profile` runs: what both CPU backends report as their kernels. */
export class OpTimer {
  #timings: KernelTiming[] | null = null;

  async profile<T>(fn: () => T | Promise<T>): Promise<Profile<T>> {
    if (this.#timings !== null) throw new WebGPUSoftmaxError('profile: a profile is already running on this context');
    const timings: KernelTiming[] = [];
    this.#timings = timings;
    try {
      const result = await fn();
      return { result, kernels: timings, totalMs: timings.reduce((s, k) => s + k.ms, 0), source: 'wall-clock' };
    } finally {
      this.#timings = null;
    }
  }

  timed<T>(label: string, run: () => T): T {
    if (this.#timings === null) return run();
    const start = performance.now();
    const out = run();
    this.#timings.push({ label, ms: performance.now() - start });
    return out;
  }
}
