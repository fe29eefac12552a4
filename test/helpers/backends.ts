import { existsSync } from 'node:fs';
import { createContext, type Context, type KernelVariants } from '../../src/index.js';

export type BackendName = 'cpu' | 'webgpu';

/** Every backend the shared suites run on. WebGPU runs for real, on SwiftShader where there is no GPU. */
export const BACKENDS: readonly BackendName[] = ['cpu', 'webgpu'];

/** Chromium's CPU Vulkan driver, for Dawn on a machine without a GPU. */
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

let gpu: Promise<GPU> | null = null;

/** Node's `GPU`, from the `webgpu` package (Dawn), created once per test worker. */
export function nodeGpu(): Promise<GPU> {
  gpu ??= (async () => {
    if (process.env.VK_ICD_FILENAMES === undefined && existsSync(SWIFTSHADER_ICD)) {
      process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    }
    const { create } = await import('webgpu');
    return create([]);
  })();
  return gpu;
}

/**
 * A context on `name`. For WebGPU this insists on a real adapter: a machine without one fails
 * here, loudly, instead of quietly testing the CPU twice.
 */
export async function openContext(name: BackendName, kernels: KernelVariants = {}): Promise<Context> {
  if (name === 'cpu') return createContext({ backend: 'cpu' });
  return createContext({ backend: 'webgpu', gpu: await nodeGpu(), kernels });
}
