import { defineConfig } from 'vite';

/**
 * The package's bin, dist/cli.js: the commands in cli/ bundled for Node, with the library
 * itself left external (`webgpu-softmax` resolves to the package's own dist/index.js, a
 * self-reference) and so are every package it uses (csv-parse, npyjs, fflate and
 * @bufbuild/protobuf: dependencies; `webgpu` and TF.js: optional peers loaded on demand).
 * Runs after the library's build, into the same dist/.
 */
export default defineConfig({
  logLevel: 'warn',
  ssr: { external: true },
  build: {
    ssr: true,
    target: 'node20',
    outDir: 'dist',
    emptyOutDir: false,
    sourcemap: false,
    rollupOptions: {
      input: { cli: 'cli/bin.ts' },
      external: [/^webgpu-softmax$/, /^node:/, 'csv-parse', 'npyjs', 'fflate', /^@bufbuild\/protobuf/, 'webgpu', /^@tensorflow\//],
      output: { format: 'es', entryFileNames: '[name].js', chunkFileNames: 'cli/[name].js', banner: (chunk) => (chunk.isEntry ? '#!/usr/bin/env node' : '') },
    },
  },
});
