import { moduleBytes, type FunctionBuilder } from './kernels/assembler.js';
import { widenKernel } from './kernels/float16.js';
import { gemmKernel, packB } from './kernels/matmul.js';
import { ROW_IMPORTS, rowKernels } from './kernels/rows.js';
import { WasmHeap } from './heap.js';
import { KERNEL_NAMES, pooledThreads, serialThreads, type Threads } from './threads/jobs.js';
import { ThreadPool } from './threads/pool.js';

/** Which build of the kernels runs: with `f32x4.relaxed_madd` where the engine has it, else plain SIMD. */
export type WasmBuild = 'relaxed-simd' | 'simd';

type I32 = number;

/** The exports of the kernel module; every address and stride is in bytes. */
export interface WasmExports {
  gemm_n(a: I32, lda: I32, aTile: I32, b: I32, k: I32, init: I32, initStride: I32, c: I32, ldc: I32, tiles: I32): void;
  gemm_t(a: I32, astep: I32, aTile: I32, b: I32, k: I32, init: I32, initStride: I32, c: I32, ldc: I32, tiles: I32): void;
  pack_b(src: I32, pStride: I32, jStride: I32, k: I32, n: I32, dst: I32): void;
  softmax(z: I32, out: I32, rows: I32, cols: I32): void;
  log_softmax(z: I32, out: I32, rows: I32, cols: I32): void;
  softmax_backward(p: I32, dp: I32, out: I32, rows: I32, cols: I32): void;
  cross_entropy(z: I32, labels: I32, weights: I32, grad: I32, loss: I32, rows: I32, cols: I32, ignoreIndex: I32, scale: number): void;
  sum_rows(t: I32, out: I32, rows: I32, cols: I32, stride: I32): void;
  sgd(p: I32, g: I32, v: I32, n: I32, lr: number, momentum: number, decay: number, nesterov: I32): void;
  adam(p: I32, g: I32, m: I32, v: I32, n: I32, stepSize: number, beta1: number, beta2: number, epsilon: number, decay: number, correction2Sqrt: number): void;
  adamw(p: I32, g: I32, m: I32, v: I32, n: I32, stepSize: number, beta1: number, beta2: number, epsilon: number, paramScale: number, correction2Sqrt: number): void;
  rmsprop(p: I32, g: I32, s: I32, a: I32, b: I32, n: I32, lr: number, alpha: number, epsilon: number, decay: number, momentum: number): void;
  widen_f16(src: I32, dst: I32, n: I32): void;
}

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
