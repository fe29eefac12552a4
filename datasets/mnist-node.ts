import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Dataset } from './dataset.js';
import { parseMnistJson } from './mnist.js';

/**
 * The 10 000 MNIST digits shipped by the `mnist` package, read straight from its JSON files:
 * the package's own API builds arrays of arrays and draws with Math.random.
 *
 * @example
 * const ds = await loadMnist(); // ds.rows === 10000, ds.features === 784
 */
export async function loadMnist(): Promise<Dataset> {
  const digitsDir = join(dirname(createRequire(import.meta.url).resolve('mnist/package.json')), 'src', 'digits');
  const files = await Promise.all(
    Array.from({ length: 10 }, async (_, d): Promise<unknown> => JSON.parse(await readFile(join(digitsDir, `${d}.json`), 'utf8'))),
  );
  return parseMnistJson(files);
}
