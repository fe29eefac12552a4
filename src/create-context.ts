import { Context } from './context.js';
import type { Backend } from './backend.js';
import { CpuBackend } from './cpu/backend.js';
import { WasmBackend } from './cpu/wasm/backend.js';
import { instantiateKernels, instantiateThreadedKernels } from './cpu/wasm/module.js';
import { chooseThreads, MAX_THREADS } from './cpu/wasm/threads/support.js';
import { checkArity, checkKnownKeys, keysOf } from './check-options.js';
import { ValueError, WebGPUUnavailableError } from './errors.js';
import { WebGPUBackend } from './webgpu/backend.js';
import { isLost, openDevice, type AdapterReport } from './webgpu/device.js';
import { KERNEL_VARIANT_KEYS, type KernelVariants } from './webgpu/kernel-host.js';
import { checkTuneMode } from './tune-options.js';
import type { TuningTable } from './tuning-table.js';

/** Options of `createContext`. */
export interface ContextOptions {
  /**
   * `'auto'` (default) uses WebGPU on a hardware adapter, or on the app's own `device`, and the
   * CPU otherwise: where there is no adapter, and where the only adapter is a software one
   * (SwiftShader, llvmpipe, WARP), which emulates a GPU on the CPU more slowly than the CPU
   * backend computes. `'webgpu'` uses any adapter, software ones included, and throws a
   * `WebGPUUnavailableError` where there is none; `'cpu'` never touches a GPU.
   * `ctx.backendReason` says which was chosen and why.
   */
  readonly backend?: 'auto' | 'webgpu' | 'cpu';
  /** A `GPU` to use instead of `navigator.gpu`: in Node, `create([])` from the `webgpu` package. */
  readonly gpu?: GPU;
  /** A device the app already has. The context then never destroys it. */
  readonly device?: GPUDevice;
  /** Passed to `requestAdapter`: `'high-performance'` asks for the discrete GPU where there are two. */
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
  /**
   * Threads the Wasm CPU backend runs big ops on, the calling one included: a count (1 to 64),
   * or `'auto'` (default): `os.availableParallelism()` in Node, `navigator.hardwareConcurrency`
   * in browsers, at most 8. Results are the same to the bit on any count. Where threads cannot
   * run (no `SharedArrayBuffer`, a page that is not cross-origin isolated, no `Atomics`, no
   * workers), the backend runs on one thread and `ctx.backendReason` says why; `ctx.threads`
   * says how many run. A WebGPU context's fallback after a lost device runs one thread.
   */
  readonly threads?: number | 'auto';
  /**
   * `'auto'` (the default on a hardware adapter) tunes each kernel family in the background on
   * its first use, within a small budget, running the rule's choice until the tuned one is ready:
   * it never blocks an op. `'off'` keeps the rules (the default on a software adapter, and where
   * `kernels` forces variants); `ctx.tune()` and a `tuning` table still apply.
   */
  readonly tune?: 'auto' | 'off';
  /**
   * A table from `ctx.tuning()`, used as it is, without timing anything again. A table of
   * another adapter or library version is ignored, and `ctx.backendReason` says why.
   */
  readonly tuning?: TuningTable;
}

const CONTEXT_KEYS = keysOf<ContextOptions>({ backend: true, gpu: true, device: true, powerPreference: true, cpu: true, kernels: true, threads: true, tune: true, tuning: true });

/**
 * Opens a context on the requested backend.
 *
 * @example
 * const ctx = await createContext();                          // WebGPU on a real GPU, else the CPU
 * const gpuCtx = await createContext({ backend: 'webgpu' });  // WebGPU or a clear error
 * const oracle = await createContext({ backend: 'cpu', cpu: 'reference' }); // float64 TypeScript
 * import { create } from 'webgpu';                            // Node
 * const nodeCtx = await createContext({ gpu: create([]) });
 */
export async function createContext(options: ContextOptions = {}): Promise<Context> {
  checkArity('createContext', arguments.length, 1);
  checkKnownKeys('createContext', options, CONTEXT_KEYS);
  checkKnownKeys('createContext', options.kernels, KERNEL_VARIANT_KEYS, 'kernels.');
  const choice = options.backend ?? 'auto';
  const tuneMode = checkTuneMode(options.tune);
  if (options.cpu !== undefined && options.cpu !== 'wasm' && options.cpu !== 'reference') {
    throw new ValueError(`createContext: cpu must be 'wasm' or 'reference', got ${JSON.stringify(options.cpu)}`);
  }
  const threads = options.threads ?? 'auto';
  if (threads !== 'auto' && !(Number.isInteger(threads) && threads >= 1 && threads <= MAX_THREADS)) {
    throw new ValueError(`createContext: threads must be 'auto' or an integer from 1 to ${MAX_THREADS}, got ${JSON.stringify(threads)}`);
  }
  if (options.cpu === 'reference' && threads !== 'auto' && threads > 1) {
    throw new ValueError(`createContext: threads ${threads} needs cpu 'wasm': the reference backend runs on one thread`);
  }
  // Instantiating is asynchronous (browsers refuse to compile big modules synchronously), so the
  // kernels are made here, before any context needs them, even for the fallback of a WebGPU one.
  const kernels = options.cpu === 'reference' ? null : await instantiateKernels();
  const cpu = (): Backend => (kernels === null ? new CpuBackend() : new WasmBackend(kernels));
  /** A context on the CPU: on threads where asked and possible, else on one, saying why. */
  const onCpu = async (reason: string, adapter: AdapterReport | null): Promise<Context> => {
    if (kernels === null) return new Context(cpu(), cpu, { reason, adapter });
    const { count, why: impossible } = await chooseThreads(threads);
    let why = impossible;
    if (count > 1) {
      try {
        const threaded = await instantiateThreadedKernels(count);
        if (threaded !== null) return new Context(new WasmBackend(threaded), cpu, { reason: `${reason}; ${count} threads`, adapter });
        why = 'the shared-memory build of the kernels did not compile';
      } catch (error) {
        why = `the worker threads could not start: ${error instanceof Error ? error.message : String(error)}`;
      }
    }
    return new Context(cpu(), cpu, { reason: why === null ? reason : `${reason}; one thread, since ${why}`, adapter });
  };
  if (choice === 'cpu') return onCpu("backend 'cpu' was asked for", null);
  let seen: AdapterReport | null = null;
  try {
    const opened = await openDevice(options);
    seen = opened.adapter;
    if (await isLost(opened.device)) {
      throw new WebGPUUnavailableError('createContext: the WebGPU device is lost');
    }
    if (options.kernels?.reduce === 'subgroup' && !opened.device.features.has('subgroups')) {
      if (opened.owned) opened.device.destroy();
      throw new WebGPUUnavailableError("createContext: kernels.reduce 'subgroup' needs the device feature 'subgroups'");
    }
    if (choice === 'auto' && opened.owned && opened.adapter.isSoftware) {
      opened.device.destroy();
      const reason =
        `the only WebGPU adapter is a software one (${describeAdapter(opened.adapter)}), which emulates a GPU on the ` +
        "CPU more slowly than the CPU backend; pass backend: 'webgpu' to use it anyway";
      return onCpu(reason, opened.adapter);
    }
    const reason =
      options.device !== undefined
        ? 'the app passed its own GPUDevice'
        : choice === 'webgpu'
          ? "backend 'webgpu' was asked for"
          : `a hardware WebGPU adapter was found (${describeAdapter(opened.adapter)})`;
    const tune = tuneMode ?? (opened.adapter.isSoftware || options.kernels !== undefined ? 'off' : 'auto');
    const backend = new WebGPUBackend(opened, options.kernels ?? {}, { tune, table: options.tuning });
    const note = backend.tuningNote === null ? '' : `; ${backend.tuningNote}, so it was ignored`;
    return new Context(backend, cpu, { reason: reason + note, adapter: opened.adapter });
  } catch (error) {
    if (choice === 'auto' && error instanceof WebGPUUnavailableError) {
      return onCpu(`WebGPU is unavailable: ${error.message.replace(/^createContext: /, '')}`, seen);
    }
    throw error;
  }
}

function describeAdapter(a: AdapterReport): string {
  return [a.vendor, a.architecture, a.description].filter((s) => s !== '').join(' ') || 'unnamed';
}
