import { moduleBytes, type FunctionBuilder } from './kernels/assembler.js';
import { widenKernel } from './kernels/float16.js';
import { gemmKernel, packB } from './kernels/matmul.js';
import { ROW_IMPORTS, rowKernels } from './kernels/rows.js';
import { WasmHeap } from './heap.js';

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
  sum_rows(t: I32, out: I32, rows: I32, cols: I32): void;
  sgd(p: I32, g: I32, v: I32, n: I32, lr: number, momentum: number, decay: number, nesterov: I32): void;
  adam(p: I32, g: I32, m: I32, v: I32, n: I32, stepSize: number, beta1: number, beta2: number, epsilon: number, decay: number, correction2Sqrt: number): void;
  adamw(p: I32, g: I32, m: I32, v: I32, n: I32, stepSize: number, beta1: number, beta2: number, epsilon: number, paramScale: number, correction2Sqrt: number): void;
  rmsprop(p: I32, g: I32, s: I32, a: I32, b: I32, n: I32, lr: number, alpha: number, epsilon: number, decay: number, momentum: number): void;
  widen_f16(src: I32, dst: I32, n: I32): void;
}

/** One context's kernels: an instance of the module over a heap of its own. */
export interface WasmKernels {
  readonly build: WasmBuild;
  readonly heap: WasmHeap;
  readonly fns: WasmExports;
}

function functions(fma: boolean): FunctionBuilder[] {
  return [gemmKernel(fma, false), gemmKernel(fma, true), packB(), ...rowKernels(fma), widenKernel()];
}

let compiled: Promise<{ build: WasmBuild; module: WebAssembly.Module } | null> | undefined;

/**
 * The kernel module, compiled once per page or process: the relaxed-SIMD build where
 * `WebAssembly.validate` accepts it, else the plain-SIMD build, else null (no SIMD, or no
 * right to compile: the caller falls back to the TypeScript reference backend).
 */
export function compileKernels(): Promise<{ build: WasmBuild; module: WebAssembly.Module } | null> {
  compiled ??= (async () => {
    if (typeof WebAssembly !== 'object') return null;
    for (const build of ['relaxed-simd', 'simd'] as const) {
      const bytes = moduleBytes(functions(build === 'relaxed-simd'), ROW_IMPORTS);
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
  return compiled;
}

/** A fresh instance with a memory of its own, or null where the engine has no Wasm SIMD. */
export async function instantiateKernels(): Promise<WasmKernels | null> {
  const compiledKernels = await compileKernels();
  if (compiledKernels === null) return null;
  const heap = new WasmHeap();
  const instance = await WebAssembly.instantiate(compiledKernels.module, { env: { memory: heap.memory, log: Math.log } });
  return { build: compiledKernels.build, heap, fns: instance.exports as unknown as WasmExports };
}
