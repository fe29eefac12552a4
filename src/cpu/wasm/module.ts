import { moduleBytes, type FunctionBuilder } from './kernels/assembler.js';
import { widenKernel } from './kernels/float16.js';
import { gemmKernel, packB } from './kernels/matmul.js';
import { ROW_IMPORTS, rowKernels } from './kernels/rows.js';
import { WasmHeap } from './heap.js';
import { KERNEL_NAMES, pooledThreads, serialThreads, type Threads } from './threads/jobs.js';
import { ThreadPool } from './threads/pool.js';
import type { WasmExports } from './exports.js';

/** Which build of the kernels runs: with `f32x4.relaxed_madd` where the engine has it, else plain SIMD. */
export type WasmBuild = 'relaxed-simd' | 'simd';

/** One context's kernels: an instance of the module over a heap of its own, and the threads that run them. */
export interface WasmKernels {
  readonly build: WasmBuild;
  readonly heap: WasmHeap;
  readonly fns: WasmExports;
  readonly threads: Threads;
}

function functions(fma: boolean): FunctionBuilder[] {
  return [gemmKernel(fma, false), gemmKernel(fma, true), packB(), ...rowKernels(fma), widenKernel()];
}

type Compiled = { build: WasmBuild; module: WebAssembly.Module } | null;
const compiled = new Map<number, Promise<Compiled>>();

/**
 * The kernel module, compiled once per page or process (and per memory: `sharedPages` 0 for
 * a memory of its own, else a shared one of at most that many pages): the relaxed-SIMD build
 * where `WebAssembly.validate` accepts it, else the plain-SIMD build, else null (no SIMD, or
 * no right to compile: the caller falls back to the TypeScript reference backend).
 */
export function compileKernels(sharedPages = 0): Promise<Compiled> {
  let done = compiled.get(sharedPages);
  if (done === undefined) {
    done = (async () => {
      if (typeof WebAssembly !== 'object') return null;
      for (const build of ['relaxed-simd', 'simd'] as const) {
        const bytes = moduleBytes(functions(build === 'relaxed-simd'), ROW_IMPORTS, sharedPages === 0 ? undefined : sharedPages);
        if (!WebAssembly.validate(bytes)) continue;
        try {
          return { build, module: await WebAssembly.compile(bytes) };
        } catch {
          // A module that validates fails to compile only where the page forbids it (a Content
          // Security Policy without 'wasm-unsafe-eval'): the reference still works there.
          return null;
        }
      }
      return null;
    })();
    compiled.set(sharedPages, done);
  }
  return done;
}

/** A fresh instance with a memory of its own, on the calling thread, or null where the engine has no Wasm SIMD. */
export async function instantiateKernels(): Promise<WasmKernels | null> {
  const compiledKernels = await compileKernels();
  if (compiledKernels === null) return null;
  const heap = new WasmHeap(new WebAssembly.Memory({ initial: 1 }));
  const instance = await WebAssembly.instantiate(compiledKernels.module, { env: { memory: heap.memory, log: Math.log } });
  const fns = instance.exports as unknown as WasmExports;
  return { build: compiledKernels.build, heap, fns, threads: serialThreads(fns, heap) };
}

/**
 * Maximum sizes tried for the shared memory, in 64 KiB pages: 4 GiB (all wasm32 can address),
 * then 1 GiB and 256 MiB where the engine will not reserve that much address space (a shared
 * memory is reserved at its maximum up front, since it can never move).
 */
const SHARED_MAXIMA = [65536, 16384, 4096];

/**
 * An instance over a shared memory, and a pool of `threads - 1` workers running the same
 * module over it. Throws, saying why, where that cannot be (the caller then runs one thread).
 */
export async function instantiateThreadedKernels(threads: number): Promise<WasmKernels | null> {
  let memory: WebAssembly.Memory | null = null;
  let pages = 0;
  let failure: unknown = null;
  for (const maximum of SHARED_MAXIMA) {
    try {
      memory = new WebAssembly.Memory({ initial: 1, maximum, shared: true });
      pages = maximum;
      break;
    } catch (error) {
      failure = error;
    }
  }
  if (memory === null) throw new Error(`no shared WebAssembly.Memory could be made (${String(failure)})`);
  const compiledKernels = await compileKernels(pages);
  if (compiledKernels === null) return null;
  const heap = new WasmHeap(memory, pages * 65536);
  const instance = await WebAssembly.instantiate(compiledKernels.module, { env: { memory, log: Math.log } });
  const fns = instance.exports as unknown as WasmExports;
  const table = KERNEL_NAMES.map((name) => fns[name] as (...args: number[]) => unknown);
  const pool = await ThreadPool.start(threads, compiledKernels.module, memory, KERNEL_NAMES, table);
  return { build: compiledKernels.build, heap, fns, threads: pooledThreads(fns, heap, pool) };
}
