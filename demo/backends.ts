import { createContext, type AdapterReport, type Context } from '../src/index.js';
import type { BackendChoice } from './types.js';

export const BACKEND_NAMES: Readonly<Record<BackendChoice, string>> = { webgpu: 'WebGPU', cpu: 'CPU' };

/**
 * One context per backend for the page's lifetime: a WebGPU device is slow to open and keeps
 * its compiled pipelines, so a second run on it starts faster than the first.
 */
export class Backends {
  readonly #contexts = new Map<BackendChoice, Promise<Context>>();

  /** The backend's context; rejects with a `WebGPUUnavailableError` where WebGPU is missing. */
  async get(choice: BackendChoice): Promise<Context> {
    const cached = this.#contexts.get(choice);
    if (cached !== undefined) {
      const ctx = await cached;
      // A lost device leaves a context that has moved to the CPU; a WebGPU run needs a new device.
      if (ctx.lost === null) return ctx;
      ctx.destroy();
      this.#contexts.delete(choice);
    }
    const opened = createContext({ backend: choice });
    this.#contexts.set(choice, opened);
    // A failed attempt is not cached, so the next one tries again.
    opened.catch(() => this.#contexts.delete(choice));
    return opened;
  }
}

/** The adapter in one line, as its report gives it (browsers may leave fields empty for privacy). */
export function describeAdapter(adapter: AdapterReport): string {
  const parts = [
    ['vendor', adapter.vendor],
    ['architecture', adapter.architecture],
    ['description', adapter.description],
  ].filter(([, value]) => value !== '');
  return parts.length === 0 ? 'the browser does not say which' : parts.map(([name, value]) => `${name} ${value}`).join(', ');
}
