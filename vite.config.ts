import { defineConfig } from 'vitest/config';

export default defineConfig({
  build: {
    // The library: one ES module, WGSL inlined from shaders/*.wgsl through `?raw`.
    lib: { entry: 'src/index.ts', formats: ['es'], fileName: 'index' },
    target: 'es2022',
    outDir: 'dist',
    minify: false,
    sourcemap: true,
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    // Two files at a time, not Vitest's cores − 1 (one file at a time on a 2-core machine):
    // much of a file's time waits on SwiftShader's own threads, spawned processes or npm.
    maxWorkers: 2,
  },
});
