import { defineConfig } from 'vite';

/**
 * Bundles the Node side of the benchmark (the orchestrator and the Node environment) from
 * TypeScript into build/bench/, like cli/vite.config.ts does for the CLI.
 *
 * - `webgpu-softmax` stays external: Node resolves it to the package's own dist/ (a
 *   self-reference through package.json "exports"), the same build the browser loads.
 * - TensorFlow.js is bundled from its ES modules, as a browser bundler would: its Node
 *   entry points are CommonJS bundles without the gradients, and the gradients exist only as
 *   ES modules, which Node cannot load from a package that is not "type": "module".
 * - seedrandom (tfjs-core's random ops: the layers' initialisers) is bundled too: Node's
 *   `import * as` of that CommonJS module sees no `alea` export, Vite's interop does.
 * - Emscripten's glue in tfjs-backend-wasm reads `__dirname` when it sees Node; in an ES
 *   module that is `import.meta.dirname` (the .wasm path itself comes from setWasmPaths).
 */
export default defineConfig({
  logLevel: 'warn',
  define: { __dirname: 'import.meta.dirname' },
  ssr: { noExternal: [/^@tensorflow\//, 'seedrandom'], external: ['webgpu-softmax'] },
  build: {
    ssr: true,
    target: 'node20',
    outDir: 'build/bench',
    emptyOutDir: true,
    rollupOptions: {
      input: { run: 'bench/run.ts', node: 'bench/node.ts', threads: 'bench/threads.ts', float16: 'bench/float16.ts', guard: 'bench/guard.ts', tuning: 'bench/tuning.ts' },
      output: { format: 'es', entryFileNames: '[name].js', chunkFileNames: 'chunks/[name]-[hash].js' },
    },
  },
});
