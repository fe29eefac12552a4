import { afterAll, beforeAll, describe, it } from 'vitest';
import type { Context } from '../src/index.js';
import { expectAllClose } from './helpers/allclose.js';
import { openContext } from './helpers/backends.js';
import { runCase } from './helpers/cases.js';
import { FIXTURE_FILES, loadFixtures } from './helpers/fixtures.js';
import { oddShapeCases } from './helpers/odd-shapes.js';
import { VARIANT_SETS } from './helpers/variants.js';

const PARITY = { rtol: 1e-4, atol: 1e-5 };


const CASES = [...FIXTURE_FILES.flatMap((file) => loadFixtures(file)), ...oddShapeCases()];
const worst = new Map<string, { maxAbs: number; maxRel: number; used: number }>();

const SUITES: readonly (readonly [string, () => Promise<Context>])[] = [
  ...VARIANT_SETS.map(([name, kernels]) => [`WebGPU, ${name}`, () => openContext('webgpu', kernels)] as const),
  ['the WebAssembly CPU backend', () => openContext('cpu')],
];

describe.each(SUITES)('%s against the float64 CPU reference', (suite, open) => {
  let gpu: Context;
  let cpu: Context;
  beforeAll(async () => {
    [gpu, cpu] = await Promise.all([open(), openContext('cpu-reference')]);
  });
  afterAll(() => {
    gpu.destroy();
    cpu.destroy();
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_caseName, c) => {
    const [actual, expected] = await Promise.all([runCase(gpu, c), runCase(cpu, c)]);
    for (const [name, result] of Object.entries(actual)) {
      const r = expectAllClose(result, expected[name]!, PARITY, `${c.name} ${name}`);
      const key = `${suite.startsWith('WebGPU') ? 'WebGPU' : 'Wasm'} ${c.op} ${name === 'lossAlone' ? 'loss' : name}`;
      const w = worst.get(key) ?? { maxAbs: 0, maxRel: 0, used: 0 };
      worst.set(key, { maxAbs: Math.max(w.maxAbs, r.maxAbs), maxRel: Math.max(w.maxRel, r.maxRel), used: Math.max(w.used, r.used) });
    }
  });
});

afterAll(() => {
  const rows = [...worst].map(
    ([op, w]) =>
      `  ${op}: max abs ${w.maxAbs.toExponential(2)}, max rel ${w.maxRel.toExponential(2)}, ${(100 * w.used).toFixed(1)}% of the tolerance`,
  );
  console.log(`largest error against the float64 CPU reference (rtol 1e-4, atol 1e-5), per op output:\n${rows.join('\n')}`);
});
