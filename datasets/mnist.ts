import { createDataset, splitDataset, type Dataset, type Split } from './dataset.js';

const PIXELS = 28 * 28;
const DIGITS = 10;

/** The seed of the project's fixed MNIST split, so every run and benchmark sees the same 2 000 test images. */
export const MNIST_SPLIT_SEED = 20261121;

/**
 * Builds the dataset from each digit's images laid back to back (784 values in [0, 1] per
 * image), the layout of the `mnist` package's `src/digits/<d>.json` files. Rows keep that
 * order: every 0, then every 1, and so on.
 *
 * @example
 * const ds = parseMnist(digits); // digits[3] holds every image of a 3
 */
export function parseMnist(digits: readonly (readonly number[])[]): Dataset {
  if (digits.length !== DIGITS) throw new RangeError(`MNIST: expected ${DIGITS} digits, got ${digits.length}`);
  const total = digits.reduce((sum, pixels) => sum + pixels.length, 0);
  const x = new Float32Array(total);
  const y = new Int32Array(total / PIXELS);
  let row = 0;
  digits.forEach((pixels, digit) => {
    if (pixels.length % PIXELS !== 0) {
      throw new RangeError(`MNIST: digit ${digit} holds ${pixels.length} values, not a whole number of ${PIXELS}-pixel images`);
    }
    x.set(pixels, row * PIXELS);
    y.fill(digit, row, row + pixels.length / PIXELS);
    row += pixels.length / PIXELS;
  });
  return createDataset({
    name: 'MNIST',
    features: PIXELS,
    classNames: Array.from({ length: DIGITS }, (_, d) => String(d)),
    x,
    y,
  });
}

/**
 * {@link parseMnist} from the ten decoded `<d>.json` files, checking their shape first since
 * they arrive as untyped JSON from disk or the network.
 *
 * @example
 * const ds = parseMnistJson(await Promise.all(urls.map(async (u) => (await fetch(u)).json())));
 */
export function parseMnistJson(files: readonly unknown[]): Dataset {
  return parseMnist(files.map((file, digit) => digitPixels(file, digit)));
}

function digitPixels(file: unknown, digit: number): number[] {
  const data: unknown = typeof file === 'object' && file !== null && 'data' in file ? file.data : undefined;
  if (!Array.isArray(data) || !data.every((v): v is number => typeof v === 'number')) {
    throw new TypeError(`MNIST: ${digit}.json is not { "data": number[] }`);
  }
  return data;
}

/**
 * The project's fixed 8 000 / 2 000 train / test split of the 10 000 images.
 *
 * @example
 * const { train, test } = mnistSplit(await loadMnist());
 */
export function mnistSplit(ds: Dataset): Split {
  return splitDataset(ds, { test: 2000, seed: MNIST_SPLIT_SEED });
}
