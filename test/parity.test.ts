import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Context } from '../src/index.js';
import { openContext } from './helpers/backends.js';
import { runCase } from './helpers/cases.js';
import { compareOutputs } from './helpers/compare.js';
import { FIXTURE_FILES, loadFixtures } from './helpers/fixtures.js';
import { oddShapeCases } from './helpers/odd-shapes.js';
import { VARIANT_SETS } from './helpers/variants.js';
import { expectedWasmBuild } from './helpers/wasm-features.js';

/**
 * Against the float64 reference: `|a - e| <= rtol |e| + min(atol, rtol scale)`, with `scale`
 * the output's RMS, so the tolerance means the same for a 2x100 000 softmax (values about
 * 1e-5) or a mean gradient over 70 000 rows (about 1e-6) as at 4x5 (test/helpers/compare.ts).
 */
export const PARITY = { rtol: 1e-4, atol: 1e-5 };

const CASES = [...FIXTURE_FILES.flatMap((file) => loadFixtures(file)), ...oddShapeCases()];
const worst = new Map<string, { maxAbs: number; maxRel: number; used: number; case: string }>();

/** Each suite: how to open the context under test, and what proves that it runs the kernels named. */
const SUITES: readonly (readonly [string, () => Promise<Context>, (ctx: Context) => void])[] = [
  ...VARIANT_SETS.map(([name, kernels]) => [`WebGPU, ${name}`, () => openContext('webgpu', kernels), (ctx: Context) => expect(ctx.backend).toBe('webgpu')] as const),
  [
    'the WebAssembly CPU backend',
    () => openContext('cpu'),
    // Where the kernels fail to compile the CPU backend quietly runs the float64 reference,
    // which would then be compared with itself.
    (ctx: Context) => {
      expect(ctx.backend).toBe('cpu');
      expect(ctx.wasmBuild).toBe(expectedWasmBuild());
    },
  ],
];

describe.each(SUITES)('%s against the float64 CPU reference', (suite, open, runsWhatItSays) => {
  let gpu: Context;
  let cpu: Context;
  beforeAll(async () => {
    [gpu, cpu] = await Promise.all([open(), openContext('cpu-reference')]);
  });
  afterAll(() => {
    gpu?.destroy();
    cpu?.destroy();
  });

  it('runs the kernels it is named after', () => {
    runsWhatItSays(gpu);
    expect(cpu.wasmBuild).toBeNull();
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_caseName, c) => {
    const [actual, expected] = await Promise.all([runCase(gpu, c), runCase(cpu, c)]);
    // Over the reference's outputs: one the backend under test leaves out (or returns as null) fails.
    const comparisons = compareOutputs(actual, expected, PARITY);
    expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
    expect([...comparisons.values()].flatMap((r) => r.failures), c.name).toEqual([]);
    for (const [name, r] of comparisons) {
      const key = `${suite.startsWith('WebGPU') ? 'WebGPU' : 'Wasm'} ${c.op} ${name === 'lossAlone' ? 'loss' : name}`;
      const w = worst.get(key);
      if (!w || r.used > w.used) worst.set(key, { maxAbs: r.maxAbs, maxRel: r.maxRel, used: r.used, case: c.name });
    }
  });
});

afterAll(() => {
  const rows = [...worst].map(
    ([op, w]) => `  ${op}: ${(100 * w.used).toFixed(1)}% of the tolerance, abs ${w.maxAbs.toExponential(2)}, rel ${w.maxRel.toExponential(2)} (${w.case})`,
  );
  console.log(`largest share of the tolerance used against the float64 CPU reference (rtol ${PARITY.rtol}, atol min(${PARITY.atol}, rtol × scale)), per op output:\n${rows.join('\n')}`);
});
