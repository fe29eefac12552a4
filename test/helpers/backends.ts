import { createContext, type Context } from '../../src/index.js';

export type BackendName = 'cpu' | 'webgpu';

/** Every backend the shared suites run on. */
export const BACKENDS: readonly BackendName[] = ['cpu'];

export async function openContext(name: BackendName): Promise<Context> {
  return createContext({ backend: name });
}
