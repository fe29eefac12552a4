import { afterAll, describe, expect, it } from 'vitest';
import { createContext } from '../src/index.js';
import { expectedOutputs, runCase } from './helpers/cases.js';
import { compareOutputs } from './helpers/compare.js';
import { FIXTURE_FILES, loadFixtures } from './helpers/fixtures.js';

// The float64 reference holds to PyTorch's float64 results tightly; the float32 WebAssembly
// kernels at the tolerance WebGPU meets against the reference (test/parity.test.ts). Near
// zero an element may be off by rtol of its output's scale, never by more than the absolute
// atol these fixtures always had (test/helpers/compare.ts).
const VARIANTS = [
  ['reference', { rtol: 1e-5, atol: 1e-6 }],
  ['wasm', { rtol: 1e-4, atol: 1e-5 }],
] as const;
const worst = new Map<string, { maxAbs: number; maxRel: number; used: number; case: string }>();

describe.each(VARIANTS.flatMap(([cpu, tolerance]) => FIXTURE_FILES.map((file) => [file, cpu, tolerance] as const)))(
  'PyTorch fixtures: %s.json on the cpu backend (%s kernels)',
  (file, cpu, tolerance) => {
  const cases = loadFixtures(file);
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const ctx = await createContext({ backend: 'cpu', cpu });
    // Every output the fixture expects, each compared; one the op fails to return fails.
    const comparisons = compareOutputs(await runCase(ctx, c), expectedOutputs(c), tolerance);
    ctx.destroy();
    expect([...comparisons.values()].flatMap((r) => r.failures), c.name).toEqual([]);
    for (const [name, { maxAbs, maxRel, used }] of comparisons) {
      const key = `${cpu} ${c.op} ${name === 'lossAlone' ? 'loss' : name}`;
      const seen = worst.get(key);
      if (!seen || used > seen.used) worst.set(key, { maxAbs, maxRel, used, case: c.name });
    }
  });
  },
);

afterAll(() => {
  const rows = [...worst].map(
    ([op, w]) => `  ${op}: ${(100 * w.used).toFixed(1)}% of the tolerance, abs ${w.maxAbs.toExponential(2)}, rel ${w.maxRel.toExponential(2)} (${w.case})`,
  );
  console.log(`largest share of the tolerance used against PyTorch (float64), per op output:\n${rows.join('\n')}`);
});
