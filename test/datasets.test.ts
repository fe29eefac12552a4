import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createDataset, splitDataset, standardize, type Dataset } from '../datasets/dataset.js';
import { irisSplit, loadIris } from '../datasets/iris.js';
import { fetchMnist } from '../datasets/mnist-browser.js';
import { loadMnist } from '../datasets/mnist-node.js';
import { MNIST_SPLIT_SEED, mnistSplit, parseMnist } from '../datasets/mnist.js';

const MNIST_COUNTS = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];

function classCounts(ds: Dataset): number[] {
  const counts = new Array<number>(ds.classes).fill(0);
  for (const c of ds.y) counts[c]!++;
  return counts;
}

/** Row contents and class, so rows can be matched across datasets without their indices. */
function rowKeys(ds: Dataset): string[] {
  const bytes = new Uint8Array(ds.x.buffer, ds.x.byteOffset, ds.x.byteLength);
  const width = ds.features * 4;
  return Array.from(ds.y, (c, r) =>
    createHash('sha1').update(bytes.subarray(r * width, (r + 1) * width)).update(`:${c}`).digest('base64'),
  );
}

/** Every row of `whole` lands in exactly one part: equal as multisets, since datasets can repeat a row. */
function expectPartition(whole: Dataset, parts: readonly Dataset[]): void {
  const pending = new Map<string, number>();
  for (const key of rowKeys(whole)) pending.set(key, (pending.get(key) ?? 0) + 1);
  for (const part of parts) {
    for (const key of rowKeys(part)) {
      const left = pending.get(key) ?? 0;
      expect(left, 'a split row that is not in the original, or appears too often').toBeGreaterThan(0);
      pending.set(key, left - 1);
    }
  }
  expect([...pending.values()].every((n) => n === 0)).toBe(true);
}

/** Index of the first element that differs, or -1: Vitest's deep equality takes minutes on MNIST-sized arrays. */
function firstDifference(a: Float32Array | Int32Array, b: Float32Array | Int32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  return a.findIndex((v, i) => !Object.is(v, b[i]));
}

function columnStats(ds: Dataset): { mean: number[]; std: number[] } {
  const mean = new Array<number>(ds.features).fill(0);
  const std = new Array<number>(ds.features).fill(0);
  ds.x.forEach((v, i) => (mean[i % ds.features]! += v / ds.rows));
  ds.x.forEach((v, i) => (std[i % ds.features]! += (v - mean[i % ds.features]!) ** 2 / ds.rows));
  return { mean, std: std.map(Math.sqrt) };
}

const mnist = await loadMnist();
const iris = loadIris();

describe('MNIST', () => {
  it('holds the 10 000 digits of the mnist package, sorted by digit', () => {
    expect(mnist.rows).toBe(10_000);
    expect(mnist.features).toBe(784);
    expect(mnist.classes).toBe(10);
    expect(mnist.classNames).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(mnist.x.length).toBe(10_000 * 784);
    expect(classCounts(mnist)).toEqual(MNIST_COUNTS);
    expect(mnist.y[1000]).toBe(0);
    expect(mnist.y[1001]).toBe(1);
    expect(mnist.y[9999]).toBe(9);
  });

  it('keeps every pixel in [0, 1] and matches the pixel checksum', () => {
    let sum = 0;
    let outside = 0;
    for (const v of mnist.x) {
      if (!(v >= 0 && v <= 1)) outside++;
      sum += v;
    }
    expect(outside).toBe(0);
    // The float32 pixels summed in float64, computed once with Python from the JSON files.
    expect(Math.abs(sum - 1027949.4895340828)).toBeLessThan(1e-3);
  });

  it('has the pixels of the JSON files: the first 7 (row 7008), from its first ink pixel', () => {
    const row = MNIST_COUNTS.slice(0, 7).reduce((a, b) => a + b, 0);
    expect(row).toBe(7008);
    expect(mnist.y[row]).toBe(7);
    const image = mnist.x.subarray(row * 784, (row + 1) * 784);
    // digits/7.json: data[0..210] are 0, then 0.451,0.475,0.635,0.992,0.992,0.835,0,0,0,0 (row 7, columns 15..24).
    expect(image.findIndex((v) => v !== 0)).toBe(211);
    expect(Array.from(image.subarray(211, 221))).toEqual(
      [0.451, 0.475, 0.635, 0.992, 0.992, 0.835, 0, 0, 0, 0].map(Math.fround),
    );
  });

  it('fetchMnist builds the same dataset from URLs', async () => {
    const digitsDir = join(dirname(createRequire(import.meta.url).resolve('mnist/package.json')), 'src', 'digits');
    const fetched: string[] = [];
    vi.stubGlobal('fetch', async (url: string) => {
      fetched.push(url);
      const file = url.replace(/^https:\/\/example\.test\/digits\//, '');
      return new Response(await readFile(join(digitsDir, file), 'utf8'));
    });
    const ds = await fetchMnist('https://example.test/digits/');
    expect(fetched.sort()).toEqual(Array.from({ length: 10 }, (_, d) => `https://example.test/digits/${d}.json`));
    expect(firstDifference(ds.y, mnist.y)).toBe(-1);
    expect(firstDifference(ds.x, mnist.x)).toBe(-1);
  });

  it('rejects files that are not whole images or not the JSON layout', async () => {
    const digits = Array.from({ length: 10 }, () => new Array<number>(784).fill(0));
    expect(parseMnist(digits).rows).toBe(10);
    expect(() => parseMnist(digits.slice(1))).toThrow(/expected 10 digits/);
    expect(() => parseMnist([...digits.slice(1), [0, 1]])).toThrow(/digit 9 holds 2 values/);
    vi.stubGlobal('fetch', async () => new Response(JSON.stringify({ pixels: [] })));
    await expect(fetchMnist('/digits')).rejects.toThrow(/0\.json is not/);
    vi.stubGlobal('fetch', async () => new Response('', { status: 404, statusText: 'Not Found' }));
    await expect(fetchMnist('/digits')).rejects.toThrow('fetching /digits/0.json failed: 404 Not Found');
  });

  afterEach(() => {
    vi.unstubAllGlobals();
  });
});

describe('mnistSplit', () => {
  const split = mnistSplit(mnist);

  it('is the fixed seeded 8 000 / 2 000 split', () => {
    expect(MNIST_SPLIT_SEED).toBe(20261121);
    expect(split.train.rows).toBe(8000);
    expect(split.test.rows).toBe(2000);
    const again = mnistSplit(mnist);
    expect(firstDifference(again.train.x, split.train.x)).toBe(-1);
    expect(firstDifference(again.train.y, split.train.y)).toBe(-1);
    expect(firstDifference(again.test.x, split.test.x)).toBe(-1);
    expect(firstDifference(again.test.y, split.test.y)).toBe(-1);
  });

  it('puts every image in exactly one side, with every digit on both sides', () => {
    expectPartition(mnist, [split.train, split.test]);
    const train = classCounts(split.train);
    const test = classCounts(split.test);
    expect(train.map((n, c) => n + test[c]!)).toEqual(MNIST_COUNTS);
    expect(test).toEqual([204, 211, 214, 205, 179, 172, 208, 206, 189, 212]);
    expect(Math.min(...train, ...test)).toBeGreaterThan(0);
  });

  it('standardizes to mean 0 and std 1, leaving the never-inked border pixels at 0', () => {
    const { train, test } = standardize(split.train, split.test);
    const stats = columnStats(train);
    const blank = stats.std.filter((sd) => sd === 0).length;
    expect(blank).toBe(columnStats(split.train).std.filter((sd) => sd === 0).length);
    expect(blank).toBeGreaterThan(0);
    for (let f = 0; f < 784; f++) {
      expect(Math.abs(stats.mean[f]!)).toBeLessThan(1e-5);
      if (stats.std[f] !== 0) expect(Math.abs(stats.std[f]! - 1)).toBeLessThan(1e-5);
    }
    expect(test.x[0]).toBe(0);
  });

  it('shuffles: the training rows are no longer sorted by digit', () => {
    expect(Array.from(split.train.y.subarray(0, 10))).not.toEqual(new Array(10).fill(split.train.y[0]));
  });
});

describe('Iris', () => {
  it("is Fisher's 150 flowers, 50 per species", () => {
    expect(iris.rows).toBe(150);
    expect(iris.features).toBe(4);
    expect(iris.classNames).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(classCounts(iris)).toEqual([50, 50, 50]);
    expect(Array.from(iris.x.subarray(0, 4))).toEqual([5.1, 3.5, 1.4, 0.2].map(Math.fround));
    expect(iris.y[0]).toBe(0);
    expect(Array.from(iris.x.subarray(149 * 4))).toEqual([5.9, 3.0, 5.1, 1.8].map(Math.fround));
    expect(iris.y[149]).toBe(2);
    // Fisher's values, not the UCI file's misprints: row 35 is 4.9,3.1,1.5,0.2 and row 38 is 4.9,3.6,1.4,0.1.
    expect(Array.from(iris.x.subarray(34 * 4, 35 * 4))).toEqual([4.9, 3.1, 1.5, 0.2].map(Math.fround));
    expect(Array.from(iris.x.subarray(37 * 4, 38 * 4))).toEqual([4.9, 3.6, 1.4, 0.1].map(Math.fround));
    const sums = [0, 0, 0, 0];
    iris.x.forEach((v, i) => (sums[i % 4]! += v));
    // Column sums of R's `iris`; UCI's errata would give 458.1, 563.8, 179.8.
    expect(sums.map((s) => Math.round(s * 10) / 10)).toEqual([876.5, 458.6, 563.7, 179.9]);
  });

  it('irisSplit holds out a stratified third: 100 / 50', () => {
    const split = irisSplit(iris);
    expect(split.train.rows).toBe(100);
    expect(split.test.rows).toBe(50);
    // 50 / 3 per class: the two leftover rows go to the lowest class ids.
    expect(classCounts(split.train)).toEqual([33, 33, 34]);
    expect(classCounts(split.test)).toEqual([17, 17, 16]);
    expectPartition(iris, [split.train, split.test]);
    expect(irisSplit(iris).test.x).toEqual(split.test.x);
  });

  it('standardize scales both sides by the training statistics', () => {
    const split = irisSplit(iris);
    const { train, test } = standardize(split.train, split.test);
    const stats = columnStats(train);
    for (let f = 0; f < 4; f++) {
      expect(Math.abs(stats.mean[f]!)).toBeLessThan(1e-5);
      expect(Math.abs(stats.std[f]! - 1)).toBeLessThan(1e-5);
    }
    // The first test flower is 4.7,3.2,1.3,0.2; the 100 training sepal lengths have mean 5.866
    // and population std 0.787048 (computed by hand from the split), so (4.7 - 5.866) / 0.787048.
    expect(Array.from(split.test.x.subarray(0, 4))).toEqual([4.7, 3.2, 1.3, 0.2].map(Math.fround));
    expect(test.x[0]).toBeCloseTo(-1.481486, 5);
    expect(test.y).toEqual(split.test.y);
    expect(stats.mean.every((m, f) => Math.abs(m - columnStats(test).mean[f]!) > 1e-6)).toBe(true);
  });
});

describe('splitDataset', () => {
  // x holds the row index, so rows can be traced exactly.
  const ds = createDataset({
    name: 'ramp',
    features: 1,
    classNames: ['a', 'b', 'c'],
    x: Float32Array.from({ length: 30 }, (_, i) => i),
    y: Int32Array.from({ length: 30 }, (_, i) => (i < 20 ? 0 : i < 27 ? 1 : 2)),
  });

  it('splits by count or fraction, disjoint and covering, the same for a seed', () => {
    const byCount = splitDataset(ds, { test: 6, seed: 7 });
    const byFraction = splitDataset(ds, { test: { fraction: 0.2 }, seed: 7 });
    expect(byFraction.test.x).toEqual(byCount.test.x);
    expect(byCount.train.name).toBe('ramp (train)');
    expect([...byCount.train.x, ...byCount.test.x].sort((a, b) => a - b)).toEqual(Array.from(ds.x));
    expect(splitDataset(ds, { test: 6, seed: 8 }).test.x).not.toEqual(byCount.test.x);
  });

  it('stratifies in proportion, with the exact number of test rows', () => {
    const { train, test } = splitDataset(ds, { test: 10, seed: 1, stratify: true });
    // 20 / 7 / 3 rows, a third each: 6.67 / 2.33 / 1 → 7 / 2 / 1.
    expect(classCounts(test)).toEqual([7, 2, 1]);
    expect(classCounts(train)).toEqual([13, 5, 2]);
    test.y.forEach((c, r) => expect(ds.y[test.x[r]!]).toBe(c));
  });

  it('refuses a split that leaves a side empty, and standardize leaves constant features unscaled', () => {
    expect(() => splitDataset(ds, { test: 30, seed: 1 })).toThrow(RangeError);
    expect(() => splitDataset(ds, { test: { fraction: 0.01 }, seed: 1 })).toThrow(RangeError);
    // Feature 0 is 0, 2, …, 58 (mean 29, std 17.3109); feature 1 is always 5.
    const flat = createDataset({ ...ds, features: 2, x: Float32Array.from({ length: 60 }, (_, i) => (i % 2 ? 5 : i)) });
    const { train, test } = standardize(flat, flat);
    expect(Array.from(train.x.subarray(0, 4))).toEqual([expect.closeTo(-1.67525, 5), 0, expect.closeTo(-1.55971, 5), 0]);
    expect(test.x).toEqual(train.x);
  });
});
