import { nodeGpu } from '../../cli/node-gpu.js';
import { createContext, type Context, type KernelVariants } from '../../src/index.js';
import { withoutMissingFeatures } from './variants.js';

export { nodeGpu };

/** `'cpu'`: the default CPU backend (WebAssembly SIMD); `'cpu-reference'`: the float64 TypeScript oracle. */
export type BackendName = 'cpu' | 'cpu-reference' | 'webgpu';

/**
 * Every backend the shared suites run on. WebGPU runs for real, on SwiftShader where there is no
 * GPU. TEST_BACKENDS (`cpu,cpu-reference`) narrows them, for the mutation runs of the
 * TypeScript (stryker.config.mjs), which need no GPU and many runs.
 */
export const BACKENDS: readonly BackendName[] = (process.env['TEST_BACKENDS']?.split(',') as BackendName[] | undefined) ?? ['cpu', 'cpu-reference', 'webgpu'];

/**
 * A context on `name`. For WebGPU this insists on a real adapter: a machine without one fails
 * here, loudly, instead of quietly testing the CPU twice.
 */
export async function openContext(name: BackendName, kernels: KernelVariants = {}): Promise<Context> {
  if (name === 'cpu') return createContext({ backend: 'cpu', cpu: 'wasm' });
  if (name === 'cpu-reference') return createContext({ backend: 'cpu', cpu: 'reference' });
  const gpu = await nodeGpu();
  return createContext({ backend: 'webgpu', gpu, kernels: withoutMissingFeatures(kernels, (await gpu.requestAdapter())?.features) });
}


/** A device of its own on Node's adapter, with subgroups where the adapter has them. */
export async function nodeDevice(): Promise<GPUDevice> {
  const adapter = await (await nodeGpu()).requestAdapter();
  if (adapter === null) throw new Error('no WebGPU adapter: the WebGPU tests need one (SwiftShader will do)');
  return adapter.requestDevice({ requiredFeatures: [...adapter.features].filter((f) => f === 'subgroups') as GPUFeatureName[] });
}

/**
 * Counts `device`'s queue submits from now on.
 *
 * @example
 * const submits = countSubmits(device);
 * await ctx.flush();
 * expect(submits()).toBe(1);
 */
export function countSubmits(device: GPUDevice): () => number {
  let submits = 0;
  const submit = device.queue.submit.bind(device.queue);
  device.queue.submit = (buffers) => {
    submits++;
    submit(buffers);
  };
  return () => submits;
}
