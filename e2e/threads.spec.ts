import { expect, test } from '@playwright/test';
import type { ThreadsReport } from './threads.js';

test('Chromium: a cross-origin isolated page runs the CPU backend on threads, to the same bits as one thread', async ({ page }) => {
  page.on('pageerror', (e) => console.error(`page: ${e.message}`));
  await page.goto('/e2e/threads.html');
  await expect(page.locator('#status')).toHaveText('ready', { timeout: 60_000 });
  const report = await page.evaluate(() => (globalThis as unknown as { runThreads: () => Promise<ThreadsReport> }).runThreads());
  expect(report.crossOriginIsolated).toBe(true);
  expect(report.threads, report.reasons.join('\n')).toEqual([1, 2, 3]);
  expect(report.reasons[2]).toMatch(/3 threads$/);
  expect(report.runs[1]).toEqual(report.runs[0]);
  expect(report.runs[2]).toEqual(report.runs[0]);
});

test('Chromium: a page that is not isolated runs one thread and says why', async ({ page }) => {
  await page.goto('/e2e/threads.html?plain');
  await expect(page.locator('#status')).toHaveText('ready', { timeout: 60_000 });
  const [threads, reason] = await page.evaluate(() =>
    (globalThis as unknown as { contextThreads: (n: number) => Promise<[number | null, string]> }).contextThreads(2),
  );
  expect(threads).toBe(1);
  expect(reason).toMatch(/one thread, since the page is not cross-origin isolated \(serve it with Cross-Origin-Opener-Policy/);
});
