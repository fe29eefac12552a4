import { defineConfig, type Plugin } from 'vite';

/**
 * TensorFlow.js, for `webgpu-softmax bench`, comes from the user's own project: the union
 * package `@tensorflow/tfjs` (its Node entry is CommonJS with tfjs-core, the CPU backend and
 * every gradient registered), not the ES modules bench/contenders/tfjs.ts names for bundlers
 * (tfjs-core's ES modules cannot load in Node: the package is not "type": "module").
 */
function tfjsFromTheUsersProject(): Plugin {
  const EMPTY = '\0tfjs-registered-by-the-union-package';
  return {
    name: 'tfjs-from-the-users-project',
    enforce: 'pre',
    resolveId(id) {
      // The union package re-exports tfjs-core and tfjs-layers; the user installs only it (a peer).
      if (id === '@tensorflow/tfjs-core' || id === '@tensorflow/tfjs-layers') return { id: '@tensorflow/tfjs', external: true };
      if (id === '@tensorflow/tfjs-core/dist/register_all_gradients' || id === '@tensorflow/tfjs-backend-cpu') return EMPTY;
      if (id.startsWith('@tensorflow/')) return { id, external: true };
      return null;
    },
    load: (id) => (id === EMPTY ? 'export {};' : null),
  };
}

/**
 * The package's bin, dist/cli.js: the commands in cli/ bundled for Node, with the library
 * itself left external (`webgpu-softmax` resolves to the package's own dist/index.js, a
 * self-reference) and so is every package it uses: csv-parse, npyjs, fflate and
 * @bufbuild/protobuf (dependencies); `webgpu` and TF.js (optional peers, loaded on demand).
 * Runs after the library's build, into the same dist/.
 */
export default defineConfig({
  logLevel: 'warn',
  plugins: [tfjsFromTheUsersProject()],
  build: {
    ssr: true,
    target: 'node20',
    outDir: 'dist',
    emptyOutDir: false,
    rollupOptions: {
      input: { cli: 'cli/bin.ts' },
      external: [/^webgpu-softmax$/, /^node:/, 'csv-parse', 'npyjs', 'fflate', /^@bufbuild\/protobuf/, 'webgpu'],
      output: { format: 'es', entryFileNames: '[name].js', chunkFileNames: 'cli/[name].js', banner: (chunk) => (chunk.isEntry ? '#!/usr/bin/env node' : '') },
    },
  },
});
