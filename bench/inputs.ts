// The data each case runs on, made once per case and handed to every contender, so all of
// them compute on identical numbers. Synthetic data is seeded; the epoch uses real MNIST.

import type { Dataset } from '../datasets/dataset.js';
import { mnistSplit } from '../datasets/mnist.js';
import type { EpochCase, LinearCrossEntropyCase, MatmulCase, MlpStepCase, RowsCase, BenchCase, TrainStepCase } from './cases.js';

/** `a` row-major `[m, k]`, or `[k, m]` when the case transposes it; `b` `[k, n]`. */
export interface MatmulInputs {
  readonly a: Float32Array;
  readonly b: Float32Array;
}

/** Logits `[rows, cols]` and one class id per row. */
export interface RowsInputs {
  readonly logits: Float32Array;
  readonly labels: Int32Array;
}

/** Features `[rows, features]` and one class id per row. */
export interface TrainingInputs {
  readonly rows: number;
  readonly x: Float32Array;
  readonly labels: Int32Array;
}

/** Features `[rows, features]`, weights `[features, classes]`, a bias and one class id per row. */
export interface LinearInputs {
  readonly x: Float32Array;
  readonly weight: Float32Array;
  readonly bias: Float32Array;
  readonly labels: Int32Array;
}

/** A case with its data; `kind` sits at the top so a `switch` narrows both together. */
export type Job =
  | { readonly kind: 'matmul'; readonly case: MatmulCase; readonly inputs: MatmulInputs }
  | { readonly kind: 'softmax' | 'crossEntropy'; readonly case: RowsCase; readonly inputs: RowsInputs }
  | { readonly kind: 'trainStep'; readonly case: TrainStepCase; readonly inputs: TrainingInputs }
  | { readonly kind: 'mlpStep'; readonly case: MlpStepCase; readonly inputs: TrainingInputs }
  | { readonly kind: 'epoch'; readonly case: EpochCase; readonly inputs: TrainingInputs }
  | { readonly kind: 'linearCrossEntropy'; readonly case: LinearCrossEntropyCase; readonly inputs: LinearInputs };

/** mulberry32: tiny, seeded, and the same in every JavaScript engine. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function uniform(length: number, low: number, high: number, seed: number): Float32Array {
  const next = generator(seed);
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = low + (high - low) * next();
  return out;
}

function classIds(length: number, classes: number, seed: number): Int32Array {
  const next = generator(seed);
  return Int32Array.from({ length }, () => Math.floor(next() * classes));
}

/**
 * The job for case `c`. `loadMnist` is the environment's loader (a file read in Node, a fetch
 * in the browser); only the epoch calls it.
 */
export async function makeJob(c: BenchCase, loadMnist: () => Promise<Dataset>): Promise<Job> {
  switch (c.kind) {
    case 'matmul':
      return { kind: 'matmul', case: c, inputs: { a: uniform(c.m * c.k, -1, 1, 1), b: uniform(c.k * c.n, -1, 1, 2) } };
    case 'softmax':
    case 'crossEntropy':
      // Logits spread over [-8, 8): wide enough that the max-subtraction matters.
      return { kind: c.kind, case: c, inputs: { logits: uniform(c.rows * c.cols, -8, 8, 3), labels: classIds(c.rows, c.cols, 4) } };
    case 'trainStep':
      return {
        kind: 'trainStep',
        case: c,
        inputs: { rows: c.batch, x: uniform(c.batch * c.features, 0, 1, 5), labels: classIds(c.batch, c.classes, 6) },
      };
    case 'mlpStep':
      return {
        kind: 'mlpStep',
        case: c,
        inputs: { rows: c.batch, x: uniform(c.batch * c.features, 0, 1, 11), labels: classIds(c.batch, c.classes, 12) },
      };
    case 'linearCrossEntropy': {
      const { rows, features, classes } = c;
      // Weights scaled so the logits spread over a few units, as in a trained layer.
      const scale = 2 / Math.sqrt(features);
      const inputs = {
        x: uniform(rows * features, -1, 1, 7),
        weight: uniform(features * classes, -scale, scale, 8),
        bias: uniform(classes, -1, 1, 9),
        labels: classIds(rows, classes, 10),
      };
      return { kind: 'linearCrossEntropy', case: c, inputs };
    }
    case 'epoch': {
      const { train } = mnistSplit(await loadMnist());
      if (train.rows !== c.rows || train.features !== c.features || train.classes !== c.classes) {
        throw new Error(`${c.id}: expected the ${c.rows}×${c.features} MNIST split, got ${train.rows}×${train.features}`);
      }
      return { kind: 'epoch', case: c, inputs: { rows: train.rows, x: train.x, labels: train.y } };
    }
  }
}

/**
 * Float one-hot rows `[ids.length, classes]`, built on the host: TensorFlow.js needs one-hot
 * targets, and tfjs-wasm 4.22's `tf.oneHot(..., 'float32')` writes int32 bits into a float
 * tensor (1 reads as 1.4e-45), so `tf.oneHot` would make its loss wrong.
 */
export function oneHot(ids: Int32Array, classes: number): Float32Array {
  const out = new Float32Array(ids.length * classes);
  ids.forEach((id, row) => (out[row * classes + id] = 1));
  return out;
}
