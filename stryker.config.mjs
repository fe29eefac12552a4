// StrykerJS over the TypeScript that checks and plans cross-entropy, matmul and sum (src/ops/) and
// schedules and stops training (src/train/schedules.ts, early-stopping.ts): `npm run mutants:ts`.
// A subset: all of src/ops with those two and src/export/safetensors.ts make 1 113 mutants, and
// all of src/ops, src/train and src/export several times that: hours on a shared 2-core machine. The
// WGSL, the Wasm kernels' emitters, the host layer, training and the exports have hand-written
// mutants in scripts/mutants.mjs (`npm run mutants`). Runs on the CPU backends only
// (TEST_BACKENDS in stryker.vitest.config.ts), each mutant against the tests that cover it.
// Stryker 9: version 10 needs Node 22.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'stryker.vitest.config.ts' },
  plugins: ['@stryker-mutator/vitest-runner', './scripts/stryker-ignore-keysof.mjs'],
  ignorers: ['keysOf'],
  mutate: ['src/ops/cross-entropy.ts', 'src/ops/matmul.ts', 'src/ops/sum.ts', 'src/train/schedules.ts', 'src/train/early-stopping.ts'],
  coverageAnalysis: 'perTest',
  concurrency: 1,
  timeoutMS: 30_000,
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  // Stryker rewrites the sandbox's tsconfig.json with the TypeScript compiler API, which
  // TypeScript 7 no longer ships; the sandbox needs no rewriting (no project references).
  tsconfigFile: 'no-tsconfig-to-rewrite.json',
  cleanTempDir: 'always',
  thresholds: { high: 90, low: 80, break: null },
};
