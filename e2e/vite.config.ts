import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

/**
 * The threads page, and it only, cross-origin isolated (but as `threads.html?plain`): the one
 * page whose CPU contexts run threads (SharedArrayBuffer), while the other pages keep the
 * plain setting most sites have.
 */
function isolateThreadsPage(): Plugin {
  return {
    name: 'isolate-threads-page',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        if (req.url?.startsWith('/e2e/threads.html') && !req.url.includes('plain')) {
          res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
          res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
        }
        next();
      });
    },
  };
}

/**
 * Serves the browser suites from 127.0.0.1 (navigator.gpu needs a secure context, and
 * localhost counts). The pages import `webgpu-softmax`, which resolves to the built dist/,
 * so the browser tests exercise what users install.
 */
export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  logLevel: 'warn',
  plugins: [isolateThreadsPage()],
  resolve: { alias: { 'webgpu-softmax': fileURLToPath(new URL('../dist/index.js', import.meta.url)) } },
  // E2E_PORT lets two checkouts run their browser suites at once.
  server: { host: '127.0.0.1', port: Number(process.env.E2E_PORT ?? 4173), strictPort: true },
  // In the checkout, not node_modules/.vite: a checkout that shares node_modules with another
  // (a git worktree) would otherwise re-bundle the dependencies under a page mid-load.
  cacheDir: fileURLToPath(new URL('../.vite/e2e', import.meta.url)),
  // Pre-bundled up front: discovered on the first page load, they would make Vite re-optimise
  // and reload mid-test.
  optimizeDeps: { include: ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-webgpu'] },
});
