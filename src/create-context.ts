import { Context } from './context.js';
import { CpuBackend } from './cpu/backend.js';
import { WebGPUUnavailableError } from './errors.js';

/** Options of `createContext`. */
export interface ContextOptions {
  /** `'auto'` (default) uses WebGPU where an adapter exists and the CPU otherwise. */
  readonly backend?: 'auto' | 'webgpu' | 'cpu';
}

/**
 * Opens a context on the requested backend.
 *
 * @example
 * const ctx = await createContext({ backend: 'cpu' });
 */
export async function createContext(options: ContextOptions = {}): Promise<Context> {
  const backend = options.backend ?? 'auto';
  if (backend === 'webgpu') throw new WebGPUUnavailableError('createContext: the WebGPU backend is not built yet');
  return new Context(new CpuBackend());
}
