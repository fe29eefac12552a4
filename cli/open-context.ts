// The bin's context: WebGPU through Dawn's `webgpu` package where it is installed (an optional
// peer dependency: 130 MB of native binaries that browser users of the library never need),
// else the CPU backend; and one line that says which backend runs and why.

import { createContext, type Context } from 'webgpu-softmax';
import { UsageError } from './args.js';
import type { Backend } from './bin-args.js';
import { nodeGpu } from './node-gpu.js';

export const NO_DAWN = "WebGPU in Node needs Dawn's bindings, the optional `webgpu` package (npm install webgpu)";

/** Node's GPU, or null where the `webgpu` package is not installed. */
async function dawn(): Promise<GPU | null> {
  try {
    return await nodeGpu();
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return null;
    throw error;
  }
}

/** Opens the context `--backend` asks for, and says on `log` which backend it is and why. */
export async function openContext(backend: Backend, log: (line: string) => void): Promise<Context> {
  if (backend === 'cpu') {
    const ctx = await createContext({ backend: 'cpu' });
    log(`backend: cpu (--backend cpu)`);
    return ctx;
  }
  const gpu = await dawn();
  if (gpu === null) {
    if (backend === 'webgpu') throw new UsageError(`--backend webgpu: ${NO_DAWN}`);
    log(`backend: cpu (${NO_DAWN}; without it, the CPU backend)`);
    return createContext({ backend: 'cpu' });
  }
  const ctx = await createContext({ backend, gpu }).catch((error: unknown) => {
    throw new UsageError(`--backend webgpu: ${(error as Error).message}`);
  });
  const a = ctx.adapter;
  const adapter = a === null || ctx.backend !== 'webgpu' ? '' : `; adapter: ${[a.vendor, a.architecture, a.description].filter((s) => s !== '').join(' ') || 'unnamed'}${a.isSoftware ? ' (a SOFTWARE adapter: a CPU emulating a GPU)' : ''}`;
  log(`backend: ${ctx.backend} (${ctx.backendReason})${adapter}`);
  return ctx;
}
