import { nodeGpu } from '../../cli/node-gpu.js';
import { createContext, type Context, type KernelVariants } from '../../src/index.js';

export { nodeGpu };

export type BackendName = 'cpu' | 'webgpu';

/** Every backend the shared suites run on. WebGPU runs for real, on SwiftShader where there is no GPU. */
export const BACKENDS: readonly BackendName[] = ['cpu', 'webgpu'];

/**
 * A context on `name`. For WebGPU this insists on a real adapter: a machine without one fails
 * here, loudly, instead of quietly testing the CPU twice.
 */
export async function openContext(name: BackendName, kernels: KernelVariants = {}): Promise<Context> {
  if (name === 'cpu') return createContext({ backend: 'cpu' });
  return createContext({ backend: 'webgpu', gpu: await nodeGpu(), kernels });
}
