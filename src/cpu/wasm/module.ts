import { moduleBytes, type FunctionBuilder } from './kernels/assembler.js';
import { gemmKernel, packB } from './kernels/matmul.js';
import { WasmHeap } from './heap.js';

/** Which build of the kernels runs: with `f32x4.relaxed_madd` where the engine has it, else plain SIMD. */
export type WasmBuild = 'relaxed-simd' | 'simd';

type I32 = number;

/** The exports of the kernel module; every address and stride is in bytes. */
export interface WasmExports {
  gemm_n(a: I32, lda: I32, aTile: I32, b: I32, k: I32, init: I32, initStride: I32, c: I32, ldc: I32, tiles: I32): void;
  gemm_t(a: I32, astep: I32, aTile: I32, b: I32, k: I32, init: I32, initStride: I32, c: I32, ldc: I32, tiles: I32): void;
  pack_b(src: I32, pStride: I32, jStride: I32, k: I32, n: I32, dst: I32): void;
}

/** One context's kernels: an instance of the module over a heap of its own. */
export interface WasmKernels {
  readonly build: WasmBuild;
  readonly heap: WasmHeap;
  readonly fns: WasmExports;
}

function functions(fma: boolean): FunctionBuilder[] {
  return [gemmKernel(fma, false), gemmKernel(fma, true), packB()];
}

let compiled: Promise<{ build: WasmBuild; module: WebAssembly.Module } | null> | undefined;

/**
 * The kernel module, compiled once per page or process: the relaxed-SIMD build where
 * `WebAssembly.validate` accepts it, else the plain-SIMD build, else null (no SIMD: the
 * caller falls back to the TypeScript reference backend).
 */
export function compileKernels(): Promise<{ build: WasmBuild; module: WebAssembly.Module } | null> {
  compiled ??= (async () => {
    if (typeof WebAssembly !== 'object') return null;
    for (const build of ['relaxed-simd', 'simd'] as const) {
      const bytes = moduleBytes(functions(build === 'relaxed-simd'));
      if (WebAssembly.validate(bytes)) return { build, module: await WebAssembly.compile(bytes) };
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
  const instance = await WebAssembly.instantiate(compiledKernels.module, { env: { memory: heap.memory } });
  return { build: compiledKernels.build, heap, fns: instance.exports as unknown as WasmExports };
}
