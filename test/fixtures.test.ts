import { afterAll, describe, it } from 'vitest';
import { createContext } from '../src/index.js';
import { expectAllClose } from './helpers/allclose.js';
import { expectedOf, runCase } from './helpers/cases.js';
import { FIXTURE_FILES, loadFixtures } from './helpers/fixtures.js';

// The float64 reference holds to PyTorch's float64 results tightly; the float32 WebAssembly
// kernels at the tolerance WebGPU meets against the reference (test/parity.test.ts).
const VARIANTS = [
  ['reference', { rtol: 1e-5, atol: 1e-6 }],
  ['wasm', { rtol: 1e-4, atol: 1e-5 }],
] as const;
const worst = new Map<string, { maxAbs: number; maxRel: number; case: string }>();

describe.each(VARIANTS.flatMap(([cpu, tolerance]) => FIXTURE_FILES.map((file) => [file, cpu, tolerance] as const)))(
  'PyTorch fixtures: %s.json on the cpu backend (%s kernels)',
  (file, cpu, tolerance) => {
  const cases = loadFixtures(file);
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const ctx = await createContext({ backend: 'cpu', cpu });
    const actual = await runCase(ctx, c);
    for (const [name, result] of Object.entries(actual)) {
      const expected = expectedOf(c, name === 'lossAlone' ? 'loss' : name);
      const { maxAbs, maxRel } = expectAllClose(result, expected, tolerance, `${c.name} ${name}`);
      const key = `${cpu} ${c.op} ${name === 'lossAlone' ? 'loss' : name}`;
      const seen = worst.get(key);
      if (!seen || maxAbs > seen.maxAbs) worst.set(key, { maxAbs, maxRel: Math.max(maxRel, seen?.maxRel ?? 0), case: c.name });
    }
    ctx.destroy();
  });
  },
);

afterAll(() => {
  const rows = [...worst].map(([op, w]) => `  ${op}: max abs ${w.maxAbs.toExponential(2)}, max rel ${w.maxRel.toExponential(2)} (${w.case})`);
  console.log(`largest error against PyTorch (float64) per op output:\n${rows.join('\n')}`);
});
