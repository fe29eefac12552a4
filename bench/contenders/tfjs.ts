// TensorFlow.js 4.22 as a contender, on its webgpu, wasm and cpu backends, written the way a
// tfjs user would write each case. In Node this module must be imported only after
// `navigator.gpu` exists: tfjs-backend-webgpu registers itself at import time if it sees one.

import * as tf from '@tensorflow/tfjs-core';
// tfjs-core alone has no gradients; the union package @tensorflow/tfjs imports these for its users.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import { layers, sequential } from '@tensorflow/tfjs-layers';
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
// Only its seeded generator: the same seed gives the same shuffled batches as the model's `fit`.
import { Random } from 'webgpu-softmax';
import { oneHot, type Job } from '../inputs.js';
import { Latest, type Contender, type KernelSource, type KernelTime, type Workload } from './types.js';

export type TfjsBackend = 'webgpu' | 'wasm' | 'cpu';

export interface TfjsContender extends Contender {
  /** GPU timestamps (webgpu with `timestamp-query`), per-op wall time (wasm, cpu), or nothing. */
  readonly kernelSource: KernelSource;
  /** What the backend runs on: the WebGPU adapter tfjs was given, or the wasm build it picked. */
  readonly detail: string;
}

/**
 * Initialises tfjs on `backend`. `wasmPaths` is where the .wasm binaries are served from: a
 * directory path in Node, a URL prefix in the browser.
 */
export async function tfjsContender(backend: TfjsBackend, wasmPaths: string): Promise<TfjsContender> {
  if (backend === 'wasm') setWasmPaths(wasmPaths);
  if (!(await tf.setBackend(backend))) throw new Error(`tfjs: the ${backend} backend failed to initialise`);
  const detail = await describeBackend(backend);
  const kernelSource = backend !== 'webgpu' ? 'wall-clock' : gpuBackend().device.features.has('timestamp-query') ? 'timestamp-query' : 'unavailable';
  return {
    id: `tfjs-${backend}`,
    description: `TensorFlow.js ${tf.version_core} ${backend} backend (${detail})`,
    detail,
    kernelSource,
    prepare: async (job) => {
      // One backend is active at a time in tfjs; each workload switches to its own before uploading.
      await tf.setBackend(backend);
      return prepare(job, kernelSource);
    },
    destroy: () => tf.removeBackend(backend),
  };
}

function gpuBackend(): WebGPUBackend {
  const backend = tf.findBackend('webgpu');
  if (!(backend instanceof WebGPUBackend)) throw new Error('tfjs: the webgpu backend is not initialised');
  return backend;
}

async function describeBackend(backend: TfjsBackend): Promise<string> {
  if (backend === 'webgpu') {
    const device = gpuBackend().device;
    // GPUDevice.adapterInfo is recent; older runtimes lack it.
    const info = 'adapterInfo' in device ? device.adapterInfo : undefined;
    return info === undefined ? 'adapter info unavailable' : [info.vendor, info.architecture, info.description].filter((s) => s !== '').join(' ');
  }
  if (backend === 'wasm') {
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    const threads = getThreadsCount();
    return `${simd === true ? 'SIMD' : 'no SIMD'}, ${threads} thread${threads === 1 ? '' : 's'}`;
  }
  return 'plain JavaScript';
}

/** Mean softmax cross-entropy of logits against one-hot rows, tfjs's own loss: a custom gradient, `(softmax - y) / N`. */
function meanCrossEntropy(onehot: tf.Tensor, logits: tf.Tensor): tf.Scalar {
  return tf.losses.softmaxCrossEntropy(onehot, logits) as tf.Scalar;
}

/**
 * Waits for everything queued by reading one element of `t`: the slice runs after all work
 * queued before it (the GPU queue is in order), and 4 bytes come back instead of the tensor.
 */
async function settle(t: tf.Tensor): Promise<void> {
  const probe = tf.tidy(() => tf.slice(tf.reshape(t, [-1]), 0, 1));
  try {
    await probe.data();
  } finally {
    probe.dispose();
  }
}

function prepare(job: Job, kernelSource: KernelSource): Workload {
  const owned: { dispose(): void }[] = [];
  const hold = <T extends { dispose(): void }>(t: T): T => (owned.push(t), t);
  const latest = new Latest();
  /** The tensor whose readiness proves an iteration finished. */
  let witness: tf.Tensor | null = null;
  let run: () => void;

  switch (job.kind) {
    case 'matmul': {
      const { m, k, n, transposeA } = job.case;
      const a = hold(tf.tensor2d(job.inputs.a, transposeA ? [k, m] : [m, k]));
      const b = hold(tf.tensor2d(job.inputs.b, [k, n]));
      run = () => {
        witness = tf.matMul(a, b, transposeA, false);
        latest.keep(witness);
      };
      break;
    }
    case 'softmax': {
      const z = hold(tf.tensor2d(job.inputs.logits, [job.case.rows, job.case.cols]));
      run = () => {
        witness = tf.softmax(z);
        latest.keep(witness);
      };
      break;
    }
    case 'crossEntropy': {
      const { rows, cols } = job.case;
      const z = hold(tf.tensor2d(job.inputs.logits, [rows, cols]));
      const y = hold(tf.tensor2d(oneHot(job.inputs.labels, cols), [rows, cols]));
      // The idiomatic tfjs form of "loss and dL/dz": its built-in loss under valueAndGrad.
      const lossAndGrad = tf.valueAndGrad((logits: tf.Tensor) => meanCrossEntropy(y, logits));
      run = () => {
        const { value, grad } = lossAndGrad(z);
        witness = grad;
        latest.keep(value, grad);
      };
      break;
    }
    case 'linearCrossEntropy': {
      const c = job.case;
      if (c.fused) throw new Error('skipped: TensorFlow.js has no fused linear cross-entropy (its unfused chain is the other case)');
      if (c.beyond) throw new Error(`skipped: the ${c.rows}×${c.classes} logits alone exceed what one buffer may hold`);
      const x = hold(tf.tensor2d(job.inputs.x, [c.rows, c.features]));
      const w = hold(tf.tensor2d(job.inputs.weight, [c.features, c.classes]));
      const bias = hold(tf.tensor1d(job.inputs.bias));
      const y = hold(tf.tensor2d(oneHot(job.inputs.labels, c.classes), [c.rows, c.classes]));
      // The idiomatic tfjs form: its built-in loss of matMul + bias, under grads for x, W and b.
      const lossAndGrads = tf.valueAndGrads((xs: tf.Tensor, ws: tf.Tensor, bs: tf.Tensor) => meanCrossEntropy(y, tf.add(tf.matMul(xs, ws), bs)));
      run = () => {
        const { value, grads } = lossAndGrads([x, w, bias]);
        witness = grads[1]!;
        latest.keep(value, ...grads);
      };
      break;
    }
    case 'mlpStep': {
      const c = job.case;
      const x = hold(tf.tensor2d(job.inputs.x, [c.batch, c.features]));
      const y = hold(tf.tensor2d(oneHot(job.inputs.labels, c.classes), [c.batch, c.classes]));
      const model = hold(
        sequential({ layers: [layers.dense({ units: c.hidden, activation: 'relu', inputShape: [c.features] }), layers.dense({ units: c.classes })] }),
      );
      // torch.optim.Adam's epsilon, as ours (tfjs's default is 1e-7).
      const optimizer = hold(tf.train.adam(c.learningRate, 0.9, 0.999, 1e-8));
      // What `model.trainOnBatch` runs (the layers' variables under `optimizer.minimize`), less its
      // `await loss.data()`: a readback per step would break the one-sync-per-repetition rule
      // every other contender follows, and ours reads nothing back either.
      const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
      run = () => void optimizer.minimize(() => meanCrossEntropy(y, model.apply(x) as tf.Tensor), false, variables);
      witness = variables[variables.length - 1]!;
      break;
    }
    case 'trainStep':
    case 'epoch': {
      const c = job.case;
      const rows = job.inputs.rows;
      const x = hold(tf.tensor2d(job.inputs.x, [rows, c.features]));
      const y = hold(tf.tensor2d(oneHot(job.inputs.labels, c.classes), [rows, c.classes]));
      const w = hold(zerosVariable([c.features, c.classes]));
      const bias = hold(zerosVariable([c.classes]));
      const optimizer = hold(tf.train.sgd(c.learningRate));
      const stepOn = (xb: tf.Tensor, yb: tf.Tensor): void => {
        // returnCost false: nothing is read back or kept; the update is only queued.
        optimizer.minimize(() => meanCrossEntropy(yb, tf.add(tf.matMul(xb, w), bias)), false, [w, bias]);
      };
      witness = w;
      if (job.kind === 'trainStep') {
        run = () => stepOn(x, y);
      } else {
        const { batch, seed } = job.case;
        const random = new Random(seed);
        run = () => {
          // Shuffled batches gathered on the device, as `fit` does, with no readback per batch.
          const order = tf.tensor1d(random.permutation(rows), 'int32');
          for (let start = 0; start < rows; start += batch) {
            const count = Math.min(batch, rows - start);
            tf.tidy(() => {
              const index = tf.slice(order, start, count);
              stepOn(tf.gather(x, index), tf.gather(y, index));
            });
          }
          order.dispose();
        };
      }
      break;
    }
  }

  return {
    run,
    sync: async () => {
      if (witness !== null) await settle(witness);
    },
    kernelTime: async (): Promise<KernelTime> => {
      const timing = await tf.time(run);
      const ms = typeof timing.kernelMs === 'number' && kernelSource !== 'unavailable' ? timing.kernelMs : null;
      return { ms, source: kernelSource };
    },
    dispose: () => {
      latest.dispose();
      for (const t of owned.reverse()) t.dispose();
    },
  };
}

function zerosVariable(shape: number[]): tf.Variable {
  const zeros = tf.zeros(shape);
  const variable = tf.variable(zeros);
  zeros.dispose();
  return variable;
}
