import { Context } from './context.js';
import type { Backend } from './backend.js';
import { CpuBackend } from './cpu/backend.js';
import { WasmBackend } from './cpu/wasm/backend.js';
import { instantiateKernels } from './cpu/wasm/module.js';
import { ValueError, WebGPUUnavailableError } from './errors.js';
import { WebGPUBackend } from './webgpu/backend.js';
import { isLost, openDevice } from './webgpu/device.js';
import type { KernelVariants } from './webgpu/kernel-host.js';

/** Options of `createContext`. */
export interface ContextOptions {
  /**
   * `'auto'` (default) uses WebGPU where an adapter exists and the CPU otherwise; `'webgpu'`
   * throws a `WebGPUUnavailableError` where it cannot have WebGPU; `'cpu'` never touches a GPU.
   */
  readonly backend?: 'auto' | 'webgpu' | 'cpu';
  /** A `GPU` to use instead of `navigator.gpu`: in Node, `create([])` from the `webgpu` package. */
  readonly gpu?: GPU;
  /** A device the app already has. The context then never destroys it. */
  readonly device?: GPUDevice;
  readonly powerPreference?: GPUPowerPreference;
  /**
   * The CPU backend's kernels (for `backend: 'cpu'`, and behind `'auto'` and a lost device):
   * `'wasm'` (default) runs float32 WebAssembly SIMD kernels, with fused multiply-adds where
   * the engine has relaxed SIMD, over tensors kept in WebAssembly memory, and falls back to
   * `'reference'` where the engine has no Wasm SIMD; `'reference'` runs plain TypeScript with
   * float64 sums, slower, and the oracle the tests hold every other kernel to.
   */
  readonly cpu?: 'wasm' | 'reference';
  /** Forces kernel variants instead of choosing them from each shape (for tests and benchmarks). */
  readonly kernels?: KernelVariants;
}

/**
 * Opens a context on the requested backend.
 *
 * @example
 * const ctx = await createContext();                          // WebGPU if it can, else the CPU
 * const gpuCtx = await createContext({ backend: 'webgpu' });  // WebGPU or a clear error
 * const oracle = await createContext({ backend: 'cpu', cpu: 'reference' }); // float64 TypeScript
 * import { create, globals } from 'webgpu';                   // Node
 * Object.assign(globalThis, globals);
 * const nodeCtx = await createContext({ gpu: create([]) });
 */
export async function createContext(options: ContextOptions = {}): Promise<Context> {
  const choice = options.backend ?? 'auto';
  if (options.cpu !== undefined && options.cpu !== 'wasm' && options.cpu !== 'reference') {
    throw new ValueError(`createContext: cpu must be 'wasm' or 'reference', got ${JSON.stringify(options.cpu)}`);
  }
  // Instantiating is asynchronous (browsers refuse to compile big modules synchronously), so the
  // kernels are made here, before any context needs them, even for the fallback of a WebGPU one.
  const kernels = options.cpu === 'reference' ? null : await instantiateKernels();
  const cpu = (): Backend => (kernels === null ? new CpuBackend() : new WasmBackend(kernels));
  if (choice === 'cpu') return new Context(cpu(), cpu);
  try {
    const opened = await openDevice(options);
    if (await isLost(opened.device)) {
      throw new WebGPUUnavailableError('createContext: the WebGPU device is lost');
    }
    if (options.kernels?.reduce === 'subgroup' && !opened.device.features.has('subgroups')) {
      if (opened.owned) opened.device.destroy();
      throw new WebGPUUnavailableError("createContext: kernels.reduce 'subgroup' needs the device feature 'subgroups'");
    }
    return new Context(new WebGPUBackend(opened, options.kernels ?? {}), cpu);
  } catch (error) {
    if (choice === 'auto' && error instanceof WebGPUUnavailableError) return new Context(cpu(), cpu);
    throw error;
  }
}
