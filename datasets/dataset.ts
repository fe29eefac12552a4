import { Random } from '../src/train/random.js';

/**
 * A labelled table of examples, in the layout the library's tensors take directly.
 *
 * @example
 * const ds = await loadMnist();
 * const x = ctx.tensor(ds.x, [ds.rows, ds.features]);
 * const y = ctx.tensor(ds.y);
 */
export interface Dataset {
  readonly name: string;
  readonly features: number;
  readonly classes: number;
  readonly classNames: readonly string[];
  /** Row-major [rows, features]. */
  readonly x: Float32Array;
  /** Class ids in [0, classes), one per row. */
  readonly y: Int32Array;
  readonly rows: number;
}

/** What {@link createDataset} needs: `rows` and `classes` follow from `y` and `classNames`. */
export interface DatasetFields {
  readonly name: string;
  readonly features: number;
  readonly classNames: readonly string[];
  readonly x: Float32Array;
  readonly y: Int32Array;
}

/**
 * Checks the fields agree with each other, so a malformed source fails here rather than
 * as a shape error deep inside training.
 *
 * @example
 * const ds = createDataset({
 *   name: 'xor', features: 2, classNames: ['off', 'on'],
 *   x: new Float32Array([0, 0, 0, 1, 1, 0, 1, 1]), y: new Int32Array([0, 1, 1, 0]),
 * }); // ds.rows === 4, ds.classes === 2
 */
export function createDataset(fields: DatasetFields): Dataset {
  const { name, features, classNames, x, y } = fields;
  const rows = y.length;
  const classes = classNames.length;
  if (!Number.isInteger(features) || features < 1) {
    throw new RangeError(`${name}: features must be a positive integer, got ${features}`);
  }
  if (x.length !== rows * features) {
    throw new RangeError(`${name}: x holds ${x.length} values, expected ${rows} rows × ${features} features`);
  }
  const bad = y.findIndex((c) => c < 0 || c >= classes);
  if (bad >= 0) {
    throw new RangeError(`${name}: row ${bad} has class ${y[bad]}, expected 0 .. ${classes - 1}`);
  }
  return { name, features, classes, classNames, x, y, rows };
}

/** How {@link splitDataset} divides the rows. */
export interface SplitOptions {
  /** Rows to hold out, as a count or as a fraction of all rows (rounded to the nearest row). */
  readonly test: number | { readonly fraction: number };
  readonly seed: number;
  /** Hold out the same share of every class, so no class is missing from either side by chance. */
  readonly stratify?: boolean;
}

/** A dataset divided into disjoint training and held-out rows. */
export interface Split {
  readonly train: Dataset;
  readonly test: Dataset;
}

/**
 * Divides the rows at random, the same way for the same seed. Both sides come out in the
 * seeded shuffled order, so a dataset stored sorted by class is no longer sorted.
 *
 * @example
 * const { train, test } = splitDataset(ds, { test: { fraction: 0.2 }, seed: 1, stratify: true });
 */
export function splitDataset(ds: Dataset, options: SplitOptions): Split {
  const { seed, stratify = false } = options;
  const testRows = typeof options.test === 'number' ? options.test : Math.round(ds.rows * options.test.fraction);
  if (!Number.isInteger(testRows) || testRows < 1 || testRows >= ds.rows) {
    throw new RangeError(`${ds.name}: cannot hold out ${testRows} of ${ds.rows} rows and keep both sides non-empty`);
  }

  // Unstratified is stratified with every row in one group.
  const group = stratify ? (row: number): number => ds.y[row]! : (): number => 0;
  const quotas = stratify ? stratifiedQuotas(ds, testRows) : Int32Array.of(testRows);
  const taken = new Int32Array(quotas.length);
  const trainIndex: number[] = [];
  const testIndex: number[] = [];
  for (const row of new Random(seed).permutation(ds.rows)) {
    const g = group(row);
    if (taken[g]! < quotas[g]!) {
      taken[g]!++;
      testIndex.push(row);
    } else {
      trainIndex.push(row);
    }
  }
  return { train: selectRows(ds, trainIndex, 'train'), test: selectRows(ds, testIndex, 'test') };
}

/**
 * Held-out rows per class, in proportion to class sizes and summing to exactly `testRows`:
 * the shares are rounded down and the rows left over go to the largest remainders, ties
 * to the lower class id, so the result never depends on sort stability or the seed.
 */
function stratifiedQuotas(ds: Dataset, testRows: number): Int32Array {
  const counts = new Int32Array(ds.classes);
  for (const c of ds.y) counts[c]!++;
  const exact = Array.from(counts, (n) => (n * testRows) / ds.rows);
  const quotas = Int32Array.from(exact, (share) => Math.floor(share));
  const byRemainder = exact
    .map((share, c) => ({ c, remainder: share - quotas[c]! }))
    .sort((a, b) => b.remainder - a.remainder || a.c - b.c);
  let left = testRows - quotas.reduce((sum, q) => sum + q, 0);
  for (const { c } of byRemainder) {
    if (left === 0) break;
    quotas[c]!++;
    left--;
  }
  return quotas;
}

function selectRows(ds: Dataset, rows: readonly number[], part: string): Dataset {
  const { features } = ds;
  const x = new Float32Array(rows.length * features);
  rows.forEach((row, i) => x.set(ds.x.subarray(row * features, (row + 1) * features), i * features));
  return createDataset({
    name: `${ds.name} (${part})`,
    features,
    classNames: ds.classNames,
    x,
    y: Int32Array.from(rows, (row) => ds.y[row]!),
  });
}

/**
 * Shifts and scales every feature by the training rows' mean and standard deviation (the
 * population one, dividing by the row count), applying the same numbers to the test rows
 * so nothing about the held-out rows leaks into training. A feature constant over the
 * training rows is only shifted: dividing by 0 would turn it into NaN.
 *
 * @example
 * const split = irisSplit(loadIris());
 * const { train, test } = standardize(split.train, split.test);
 */
export function standardize(train: Dataset, test: Dataset): Split {
  const { features } = train;
  if (test.features !== features) {
    throw new RangeError(`standardize: train has ${features} features but test has ${test.features}`);
  }
  if (train.rows === 0) throw new RangeError(`standardize: ${train.name} has no rows to take statistics from`);

  // Accumulate in float64: float32 sums over thousands of rows drift visibly.
  const mean = new Float64Array(features);
  train.x.forEach((v, i) => (mean[i % features]! += v));
  for (let f = 0; f < features; f++) mean[f]! /= train.rows;
  const scale = new Float64Array(features);
  train.x.forEach((v, i) => (scale[i % features]! += (v - mean[i % features]!) ** 2));
  for (let f = 0; f < features; f++) scale[f] = Math.sqrt(scale[f]! / train.rows) || 1;

  const apply = (ds: Dataset): Dataset =>
    createDataset({
      name: ds.name,
      features,
      classNames: ds.classNames,
      x: ds.x.map((v, i) => (v - mean[i % features]!) / scale[i % features]!),
      y: ds.y,
    });
  return { train: apply(train), test: apply(test) };
}
