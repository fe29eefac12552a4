import { expect, test, type Page } from '@playwright/test';
import { FIXTURE_FILES, loadFixtures } from '../test/helpers/fixtures.js';
import { oddShapeCases } from '../test/helpers/odd-shapes.js';
import { VARIANT_SETS } from '../test/helpers/variants.js';
import type { Harness } from './harness.js';

// As the Node suite (test/parity.test.ts): |a - e| <= rtol |e| + min(atol, rtol × the output's RMS).
const RTOL = 1e-4;
const ATOL = 1e-5;


const NAMES = [...FIXTURE_FILES.flatMap((f) => loadFixtures(f)), ...oddShapeCases()].map((c) => c.name);
const worst = new Map<string, { maxAbs: number; maxRel: number; used: number }>();

test.describe.configure({ mode: 'serial' });

const SUITES = [...VARIANT_SETS.map(([name, kernels]) => [`WebGPU, ${name}`, kernels] as const), ['the WebAssembly CPU backend', 'wasm'] as const];

for (const [suiteName, kernels] of SUITES) {
  test.describe(`Chromium, ${suiteName}, against the float64 CPU reference`, () => {
    let page: Page;

    test.beforeAll(async ({ browser }) => {
      page = await browser.newPage();
      page.on('console', (m) => {
        if (m.type() === 'error') console.error(`page: ${m.text()}`);
      });
      await page.goto('/e2e/index.html');
      await expect(page.locator('#status')).toHaveText('ready');
      // Fails, loudly, where Chromium has no WebGPU adapter.
      const opened = await page.evaluate((k) => (globalThis as unknown as { harness: Harness }).harness.open(k), kernels);
      expect(opened.referenceWasmBuild).toBeNull();
      if (kernels !== 'wasm') {
        expect(opened.backend).toBe('webgpu');
        expect(opened.adapter).toMatchObject({ vendor: expect.any(String) });
      } else {
        // Where the kernels fail to compile, the CPU backend quietly runs the float64
        // reference, and the suite would compare the reference with itself.
        expect(opened.backend).toBe('cpu');
        expect(opened.expectedWasmBuild).not.toBeNull();
        expect(opened.wasmBuild).toBe(opened.expectedWasmBuild);
        console.log(`Chromium runs the ${opened.wasmBuild === 'relaxed-simd' ? 'relaxed-SIMD' : 'plain-SIMD'} build of the Wasm kernels`);
      }
    });

    test.afterAll(async () => {
      await page.close();
    });

    for (const name of NAMES) {
      test(name, async () => {
        const result = await page.evaluate(
          ([n, rtol, atol]) => (globalThis as unknown as { harness: Harness }).harness.check(n, rtol, atol),
          [name, RTOL, ATOL] as const,
        );
        expect(result.failures).toEqual([]);
        const op = `${kernels === 'wasm' ? 'Wasm' : 'WebGPU'} ${name.replace(/^random /, '').split(' ')[0]!}`;
        const w = worst.get(op) ?? { maxAbs: 0, maxRel: 0, used: 0 };
        worst.set(op, {
          maxAbs: Math.max(w.maxAbs, result.maxAbs),
          maxRel: Math.max(w.maxRel, result.maxRel),
          used: Math.max(w.used, result.used),
        });
      });
    }
  });
}

test.afterAll(() => {
  const rows = [...worst].map(
    ([op, w]) => `  ${op}: max abs ${w.maxAbs.toExponential(2)}, max rel ${w.maxRel.toExponential(2)}, ${(100 * w.used).toFixed(1)}% of the tolerance`,
  );
  console.log(`largest error in Chromium against the float64 CPU reference (rtol ${RTOL}, atol min(${ATOL}, rtol × the output's RMS)), per op:\n${rows.join('\n')}`);
});
