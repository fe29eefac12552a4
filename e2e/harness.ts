import { createContext, type Context, type KernelVariants } from 'webgpu-softmax';
import { runCase, type FixtureCase } from '../test/helpers/cases.js';
import { compare } from '../test/helpers/compare.js';
import { oddShapeCases } from '../test/helpers/odd-shapes.js';

/** Runs the parity cases in the page: the same cases as the Node suite, on the built package. */
export interface Harness {
  /**
   * Opens the context under test (WebGPU with these variants, rejecting without an adapter, or
   * the WebAssembly CPU backend for `'wasm'`) and the float64 CPU reference it is held to.
   */
  open(kernels: KernelVariants | 'wasm'): Promise<{ adapter: unknown }>;
  /** Runs a case on both and compares: failures per output, and the largest error seen. */
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
    gpu = await (kernels === 'wasm' ? createContext({ backend: 'cpu', cpu: 'wasm' }) : createContext({ backend: 'webgpu', kernels }));
    cpu = await createContext({ backend: 'cpu', cpu: 'reference' });
    return { adapter: gpu.adapter };
  },
  async check(name, rtol, atol) {
    const c = (await cases).get(name);
    if (c === undefined) throw new Error(`no case named ${name}`);
    const [actual, expected] = await Promise.all([runCase(gpu!, c), runCase(cpu!, c)]);
    const failures: string[] = [];
    let maxRel = 0;
    let maxAbs = 0;
    let used = 0;
    for (const [output, result] of Object.entries(actual)) {
      const r = compare(result, expected[output]!, { rtol, atol });
      failures.push(...r.failures.map((f) => `${output}: ${f}`));
      maxRel = Math.max(maxRel, r.maxRel);
      maxAbs = Math.max(maxAbs, r.maxAbs);
      used = Math.max(used, r.used);
    }
    return { failures, maxRel, maxAbs, used };
  },
};

(globalThis as unknown as { harness: Harness }).harness = harness;
document.getElementById('status')!.textContent = 'ready';
