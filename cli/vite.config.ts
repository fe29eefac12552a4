import { defineConfig } from 'vite';

/**
 * Bundles the Node tools (the CLI of `npm start`) from TypeScript, with the library's
 * WGSL inlined, into build/. Packages stay external and load from node_modules.
 */
export default defineConfig({
  logLevel: 'warn',
  build: {
    ssr: true,
    target: 'node20',
    outDir: 'build',
    emptyOutDir: false,
    rollupOptions: {
      input: { train: 'cli/train.ts' },
      output: { format: 'es', entryFileNames: '[name].js' },
    },
  },
});
