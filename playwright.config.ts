import { defineConfig } from '@playwright/test';
import { machineHasGpu } from './cli/node-gpu.js';

/**
 * Headless Chromium with WebGPU. Playwright cannot download its own browsers here, so it
 * drives the system Chromium (Debian's package ships SwiftShader, a CPU Vulkan driver);
 * CHROMIUM_PATH points it at another one, such as a Chrome on a machine with a GPU.
 */
export const CHROMIUM_ARGS = [
  '--enable-unsafe-webgpu',
  // Where there is no GPU, SwiftShader serves WebGPU; where there is one, Chromium on Linux
  // reaches it through Vulkan only when asked (not run: no machine of ours has a GPU yet).
  '--enable-unsafe-swiftshader',
  ...(machineHasGpu() ? ['--enable-features=Vulkan', '--use-angle=vulkan'] : []),
  // Unquantised timestamp-query, for the benchmarks' kernel times.
  '--enable-webgpu-developer-features',
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The two servers' ports; set E2E_PORT and DEMO_PORT to run two checkouts' suites at once. */
const E2E = `http://127.0.0.1:${process.env.E2E_PORT ?? 4173}`;
const DEMO_ORIGIN = `http://127.0.0.1:${process.env.DEMO_PORT ?? 4174}`;

export default defineConfig({
  testDir: 'e2e',
  testMatch: '*.spec.ts',
  timeout: 120_000,
  workers: 1,
  reporter: [['list']],
  use: {
    browserName: 'chromium',
    baseURL: E2E,
    launchOptions: { executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS },
  },
  webServer: [
    {
      command: 'npx vite --config e2e/vite.config.ts',
      url: `${E2E}/e2e/index.html`,
      reuseExistingServer: false,
      timeout: 60_000,
    },
    {
      // The MNIST demo (`npm run demo`), for e2e/demo.spec.ts.
      command: 'npx vite --config demo/vite.config.ts',
      url: `${DEMO_ORIGIN}/demo/`,
      reuseExistingServer: false,
      timeout: 60_000,
    },
  ],
});
