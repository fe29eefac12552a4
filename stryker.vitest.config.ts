import { defineConfig } from 'vitest/config';

// The test files that exercise the code stryker.config.mjs mutates, on the CPU backends only
// (TEST_BACKENDS): the mutation run needs no GPU.
export default defineConfig({
  test: {
    include: [
      'test/errors.test.ts',
      'test/empty.test.ts',
      'test/unknown-options.test.ts',
      'test/fixtures.test.ts',
      'test/linear-cross-entropy.test.ts',
      'test/schedules.test.ts',
      'test/fit-options.test.ts',
      'test/early-stopping.test.ts',
      'test/export-safetensors.test.ts',
      'test/export-pytorch.test.ts',
      'test/classifier-export.test.ts',
    ],
    env: { TEST_BACKENDS: 'cpu,cpu-reference' },
    testTimeout: 60_000,
  },
});
