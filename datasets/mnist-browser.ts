// No node: imports here, so a browser bundle can take this file.
import type { Dataset } from './dataset.js';
import { parseMnistJson } from './mnist.js';

/**
 * The MNIST digits fetched from wherever the page serves the `mnist` package's
 * `src/digits/<d>.json` files.
 *
 * @example
 * const ds = await fetchMnist('/mnist/digits'); // fetches /mnist/digits/0.json … 9.json
 */
export async function fetchMnist(baseUrl: string): Promise<Dataset> {
  const base = baseUrl.replace(/\/+$/, '');
  const files = await Promise.all(
    Array.from({ length: 10 }, async (_, d): Promise<unknown> => {
      const url = `${base}/${d}.json`;
      const response = await fetch(url);
      if (!response.ok) throw new Error(`MNIST: fetching ${url} failed: ${response.status} ${response.statusText}`);
      return response.json();
    }),
  );
  return parseMnistJson(files);
}
