import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

/**
 * Runs README.md's first example as written (against the source instead of the package) and
 * checks what it prints, so the tour cannot drift from the code.
 */
it('README: the tour runs and prints what its comments say', async () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const tour = /```js\n([\s\S]*?)```/.exec(readme)![1]!;
  const source = fileURLToPath(new URL('../src/index.ts', import.meta.url));
  const dir = mkdtempSync(join(fileURLToPath(new URL('.', import.meta.url)), '.readme-'));
  const file = join(dir, 'tour.ts');
  const printed: unknown[][] = [];
  (globalThis as { tourLog?: (...a: unknown[]) => void }).tourLog = (...a) => void printed.push(a);
  writeFileSync(
    file,
    `const console = { log: (...a: unknown[]) => (globalThis as any).tourLog(...a) };\n` +
      tour.replace("from 'webgpu-softmax'", `from ${JSON.stringify(source)}`),
  );
  try {
    await import(/* @vite-ignore */ file);
  } finally {
    rmSync(dir, { recursive: true });
  }
  expect(printed[0]).toEqual(['cpu']);
  const [loss] = printed[1] as [Float32Array];
  expect(loss[0]).toBeCloseTo(Math.log(3), 6);
  const [dw] = printed[2] as [Float32Array];
  expect(Array.from(dw).map((v) => Number(v.toFixed(3)))).toEqual([2.667, 2.667, -5.333, 2.333, 2.333, -4.667]);
  // The CPU backend's WebAssembly memory starts at one 64 KiB page, which the tour never outgrows.
  expect(printed[3]).toEqual([{ tensors: 0, bytes: 0, pooledBytes: 65536 }]);
});
