import { expect, test } from '@playwright/test';
import type { InteropReport } from './interop.js';

test('Chromium: TF.js and webgpu-softmax share a GPUDevice and hand each other buffers', async ({ page }) => {
  page.on('console', (m) => {
    if (m.type() === 'error') console.error(`page: ${m.text()}`);
  });
  page.on('pageerror', (e) => console.error(`page: ${e.message}`));
  await page.goto('/e2e/interop.html');
  // The first load waits for Vite to bundle TF.js.
  await expect(page.locator('#status')).toHaveText('ready', { timeout: 60_000 });
  const report = await page.evaluate(() => (globalThis as unknown as { runInterop: () => Promise<InteropReport> }).runInterop());
  expect(report.sameDevice).toBe(true);
  expect(report.weightsMatch).toBe(true);
  expect(report.probsMatch).toBe(true);
  for (const s of report.rowSums) expect(s).toBeCloseTo(1, 5);
  expect(report.offsetRead).toEqual([1, 2, 3, 4]);
  expect(report.laterWrite).toEqual([5, 6, 7, 8]);
  expect(report.foreign).toMatch(/tensorFromGPUBuffer: buffer 'stranger' cannot be used on this context's device/);
});
