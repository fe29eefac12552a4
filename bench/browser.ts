// The browser environment, driven from Node: a Vite server for bench/page.html and headless
// Chromium through Playwright's library API (no test runner), against the built dist/.

import { chromium } from '@playwright/test';
import { createServer } from 'vite';
import { CHROMIUM_ARGS } from '../playwright.config.js';
import { messageOf } from './contenders/types.js';
import { PAGE_API, type EnvironmentRequest, type EnvironmentResult, type PageApi } from './results.js';

/** The e2e suites serve on 4173 and 4174; a port of our own (BENCH_PORT) lets them run at once. */
const PORT = Number(process.env.BENCH_PORT ?? 4175);

/**
 * Serves the repository root from 127.0.0.1 (navigator.gpu needs a secure context, and
 * localhost counts), with `webgpu-softmax` aliased to the built dist/ and the tfjs packages
 * from node_modules. The page is named as an entry so Vite pre-bundles every dependency at
 * start-up and never reloads the page mid-run; a cache directory of its own keeps it off the
 * e2e server's.
 */
async function startServer(root: string) {
  const server = await createServer({
    configFile: false,
    root,
    logLevel: 'warn',
    cacheDir: 'node_modules/.vite-bench',
    resolve: { alias: { 'webgpu-softmax': `${root}/dist/index.js` } },
    optimizeDeps: { entries: ['bench/page.html'] },
    // Cross-origin isolated, as a user's page should be: our CPU backend and TF.js's WASM backend then run threads.
    server: {
      host: '127.0.0.1',
      port: PORT,
      strictPort: true,
      headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' },
    },
  });
  await server.listen();
  return server;
}

/**
 * Runs the request in Chromium (`CHROMIUM_PATH`, else Debian's /usr/bin/chromium) with the
 * project's WebGPU flags, which include unquantised timestamp queries.
 */
export async function runBrowser(root: string, request: EnvironmentRequest, log: (line: string) => void): Promise<EnvironmentResult> {
  const server = await startServer(root);
  try {
    const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage();
      page.on('console', (message) => log(message.text()));
      page.on('pageerror', (error) => log(`page error: ${messageOf(error)}`));
      await page.goto(`http://127.0.0.1:${PORT}/bench/page.html`);
      await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready', undefined, { timeout: 180_000 });
      const result = await page.evaluate(
        ({ api, request }) => {
          const entry = (globalThis as unknown as Record<string, PageApi | undefined>)[api];
          if (entry === undefined) throw new Error('the benchmark page did not install its API');
          return entry.run(request);
        },
        { api: PAGE_API, request },
      );
      return { ...result, runtime: `Chromium ${browser.version()} (headless, Playwright)` };
    } finally {
      await browser.close();
    }
  } finally {
    await server.close();
  }
}
