import { createContext, type AdapterReport, type BackendKind, type Context, type KernelVariants } from 'webgpu-softmax';
import { runCase, type FixtureCase } from '../test/helpers/cases.js';
import { compareOutputs } from '../test/helpers/compare.js';
import { oddShapeCases } from '../test/helpers/odd-shapes.js';
import { withoutMissingFeatures } from '../test/helpers/variants.js';
import { expectedWasmBuild } from '../test/helpers/wasm-features.js';

/** What runs in the page, for the spec to assert: the backend and kernels that will be checked. */
export interface Opened {
  readonly adapter: AdapterReport | null;
  readonly backend: BackendKind;
  /** The Wasm build the context under test runs (null on WebGPU or the reference)... */
  readonly wasmBuild: 'relaxed-simd' | 'simd' | null;
  /** ...and the one this engine must load, asked of the engine itself. */
  readonly expectedWasmBuild: 'relaxed-simd' | 'simd' | null;
  /** The reference's, which must be null: it is the float64 TypeScript oracle. */
  readonly referenceWasmBuild: 'relaxed-simd' | 'simd' | null;
}

/** Runs the parity cases in the page: the same cases as the Node suite, on the built package. */
export interface Harness {
  /**
   * Opens the context under test (WebGPU with these variants, rejecting without an adapter, or
   * the WebAssembly CPU backend for `'wasm'`) and the float64 CPU reference it is held to.
   */
  open(kernels: KernelVariants | 'wasm'): Promise<Opened>;
  /**
   * Runs a case on both and compares every output the reference returns (a missing or null
   * one fails), near zero to rtol of each output's scale, at most atol (test/helpers/compare.ts).
   */
  check(name: string, rtol: number, atol: number): Promise<{ failures: string[]; maxRel: number; maxAbs: number; used: number }>;
}

const FILES = ['softmax', 'matmul', 'cross-entropy', 'linear-cross-entropy', 'sum'];

async function loadCases(): Promise<Map<string, FixtureCase>> {
  const fixtures = await Promise.all(
    FILES.map(async (f) => ((await (await fetch(`/test/fixtures/${f}.json`)).json()) as { cases: FixtureCase[] }).cases),
  );
  return new Map([...fixtures.flat(), ...oddShapeCases()].map((c) => [c.name, c]));
}

const cases = loadCases();
/** The context under test, and the reference. */
let gpu: Context | null = null;
let cpu: Context | null = null;

const harness: Harness = {
  async open(kernels) {
    gpu?.destroy();
    cpu?.destroy();
    const features = kernels === 'wasm' ? undefined : (await navigator.gpu?.requestAdapter())?.features;
    gpu = await (kernels === 'wasm'
      ? createContext({ backend: 'cpu', cpu: 'wasm' })
      : createContext({ backend: 'webgpu', kernels: withoutMissingFeatures(kernels, features) }));
    cpu = await createContext({ backend: 'cpu', cpu: 'reference' });
    return {
      adapter: gpu.adapter,
      backend: gpu.backend,
      wasmBuild: gpu.wasmBuild,
      expectedWasmBuild: expectedWasmBuild(),
      referenceWasmBuild: cpu.wasmBuild,
    };
  },
  async check(name, rtol, atol) {
    const c = (await cases).get(name);
    if (c === undefined) throw new Error(`no case named ${name}`);
    const [actual, expected] = await Promise.all([runCase(gpu!, c), runCase(cpu!, c)]);
    const comparisons = [...compareOutputs(actual, expected, { rtol, atol }).values()];
    const extra = Object.keys(actual).filter((k) => !(k in expected));
    return {
      failures: [...extra.map((k) => `${k}: returned, but the reference has no such output`), ...comparisons.flatMap((r) => r.failures)],
      maxRel: Math.max(0, ...comparisons.map((r) => r.maxRel)),
      maxAbs: Math.max(0, ...comparisons.map((r) => r.maxAbs)),
      used: Math.max(0, ...comparisons.map((r) => r.used)),
    };
  },
};

(globalThis as unknown as { harness: Harness }).harness = harness;
document.getElementById('status')!.textContent = 'ready';
