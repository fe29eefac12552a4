import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import type { BenchReport } from '../bench/results.js';
import { selectCases } from '../bench/cases.js';

/**
 * The static site as a visitor gets it: `npm run build:site` writes dist-site/, a plain static
 * server with the cross-origin-isolation headers serves it (scripts/serve-site.mjs, not a dev
 * server), and headless Chromium opens the pages: the benchmark page runs the quick cases end
 * to end and its JSON download is read back by `npm run bench -- --add`.
 */

const root = fileURLToPath(new URL('..', import.meta.url));
const PORT = Number(process.env.SITE_PORT ?? 4176);
const SITE = `http://127.0.0.1:${PORT}`;
let server: ChildProcess | null = null;
const QUICK_CASE_IDS = selectCases(true, null).map((c) => c.id);

test.beforeAll(async () => {
  test.setTimeout(300_000);
  const build = spawnSync('npm', ['run', 'build:site', '--silent'], { cwd: root, encoding: 'utf8' });
  expect(build.status, `npm run build:site failed:\n${build.stdout}${build.stderr}`).toBe(0);
  server = spawn(process.execPath, ['scripts/serve-site.mjs', 'dist-site', '--port', String(PORT)], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    server!.once('exit', (code) => reject(new Error(`the static server exited with ${code}`)));
    server!.stdout!.once('data', () => resolve());
  });
});

test.afterAll(() => {
  server?.kill();
});

test('the static server sends the isolation headers, and the landing page links the benchmark, the demo and the API reference', async ({ page }) => {
  const response = await page.goto(`${SITE}/`);
  expect(response!.headers()['cross-origin-opener-policy']).toBe('same-origin');
  expect(response!.headers()['cross-origin-embedder-policy']).toBe('require-corp');
  for (const [name, path] of [['The benchmark', 'bench/'], ['The MNIST demo', 'demo/'], ['The API reference', 'api/']] as const) {
    await expect(page.getByRole('link', { name })).toHaveAttribute('href', path);
  }
  await page.goto(`${SITE}/api/`);
  await expect(page.locator('body')).toContainText('createContext');
  await page.goto(`${SITE}/api/functions/createContext.html`);
  await expect(page.locator('h1')).toContainText('createContext');
});

test('the built demo loads its digits from the site and is cross-origin isolated', async ({ page }) => {
  test.setTimeout(120_000);
  await page.goto(`${SITE}/demo/`);
  await expect(page.locator('#status')).toHaveAttribute('data-state', 'ready', { timeout: 90_000 });
  await expect(page.locator('#status')).toContainText('8000 training and 2000 test digits');
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
});

test("the benchmark page names the adapter, runs the quick cases on this browser's GPU and CPU with live progress, and offers JSON that npm run bench reads", async ({ page }) => {
  // The quick cases on four contenders; TF.js's webgpu backend takes seconds per iteration on SwiftShader.
  test.setTimeout(900_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${SITE}/bench/`);
  await expect(page.locator('body')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  await expect(page.locator('#adapter')).toContainText(/WebGPU adapter: .*swiftshader/i);
  // SwiftShader is a software adapter, and the page says so plainly.
  await expect(page.locator('#adapter .software')).toContainText('SOFTWARE adapter: a CPU emulating a GPU');
  await expect(page.locator('#isolation')).toContainText('is cross-origin isolated');
  await expect(page.locator('input[name="contender"]:checked')).toHaveCount(4);

  await page.getByRole('button', { name: 'Run the benchmark' }).click();
  const progress = page.locator('#progress');
  // Live progress: the bar moves before the run is over.
  await expect.poll(() => progress.evaluate((bar: HTMLProgressElement) => bar.value), { timeout: 300_000 }).toBeGreaterThan(0);
  expect(await page.locator('body').getAttribute('data-state')).toBe('running');
  const started = Date.now();
  await expect(page.locator('body')).toHaveAttribute('data-state', /done|failed/, { timeout: 840_000 });
  console.log(`site: the quick cases ran in ${((Date.now() - started) / 1000).toFixed(0)} s after the first measurement`);
  expect(await page.locator('body').getAttribute('data-state'), (await page.locator('#status').textContent()) ?? '').toBe('done');
  expect(errors).toEqual([]);

  await expect(page.locator('#chart svg')).toHaveCount(1);
  await expect(page.locator('#tables table')).toHaveCount(3);
  await expect(page.locator('#tables table').first()).toContainText('GPU vs tfjs-webgpu');

  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#download').click()]);
  const file = await download.path();
  const report = JSON.parse(readFileSync(file, 'utf8')) as BenchReport;
  expect(report.format).toBe('webgpu-softmax/bench');
  expect(report.mode).toBe('quick');
  expect(report.cases.map((c) => c.id)).toEqual(QUICK_CASE_IDS);
  const [env] = report.environments;
  expect(env!.environment).toBe('browser');
  expect(env!.adapter?.isSoftware).toBe(true);
  expect(env!.contenders.map((c) => c.id)).toEqual(['ours-webgpu', 'ours-cpu', 'tfjs-webgpu', 'tfjs-wasm']);
  expect(env!.results).toHaveLength(QUICK_CASE_IDS.length * 4);
  for (const r of env!.results) {
    expect(r.error, `${r.caseId} on ${r.contender}`).toBeNull();
    expect(r.measurement!.wall.median, `${r.caseId} on ${r.contender}`).toBeGreaterThan(0);
  }

  // What npm run bench makes of it: --only none runs nothing and renders the added run.
  const bench = spawnSync('npm', ['run', 'bench', '--silent', '--', '--only', 'none', '--add', file], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  expect(bench.status, bench.stderr).toBe(0);
  expect(bench.stdout).toMatch(/^## Chrome [\d.]+, cross-origin isolated$/m);
  const written = [...bench.stdout.matchAll(/^bench: wrote (.+)$/gm)].map((m) => `${root}/${m[1]}`);
  expect(written).toHaveLength(3);
  const merged = JSON.parse(readFileSync(written.find((p) => p.endsWith('.json'))!, 'utf8')) as BenchReport;
  expect(merged.environments).toEqual(report.environments);
  for (const path of written) rmSync(path);
});
