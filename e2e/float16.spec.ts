import { expect, test } from '@playwright/test';
import type { Float16Report } from './float16.js';

// float16 storage in Chromium (issue 14 §3): every half stored and read back exactly, half the
// bytes, and each op and fit on float16 input equal to the bit to the same on the float32
// rounded values, on WebGPU (unpack2x16float, no shader-f16 on SwiftShader) and on the Wasm CPU.
for (const backend of ['webgpu', 'cpu'] as const) {
  test(`Chromium, float16 on ${backend}: exact halves, half the bytes, ops and fit as on the rounded float32`, async ({ page }) => {
    page.on('console', (m) => {
      if (m.type() === 'error') console.error(`page: ${m.text()}`);
    });
    await page.goto('/e2e/float16.html');
    await expect(page.locator('#status')).toHaveText('ready');
    const report = await page.evaluate((b) => (globalThis as unknown as { runFloat16: (b: string) => Promise<Float16Report> }).runFloat16(b), backend);
    expect(report.backend).toBe(backend);
    expect(report.bitsBack).toBe(true);
    expect(report.widenedWrong).toEqual([]);
    expect(report.bytesRatio).toBe(0.5);
    expect(report.sameAsRounded).toEqual({ matmul: true, softmax: true, logSoftmax: true, crossEntropyWithGrad: true, linearCrossEntropyWithGrad: true });
    expect(report.fitSame).toBe(true);
  });
}
