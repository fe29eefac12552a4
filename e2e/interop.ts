import * as tf from '@tensorflow/tfjs-core';
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { ContextMismatchError, createContext } from 'webgpu-softmax';
import { labels, uniform } from '../test/helpers/random.js';

/** What the page found; e2e/gpu-buffers.spec.ts checks it. */
export interface InteropReport {
  readonly sameDevice: boolean;
  readonly weightsMatch: boolean;
  readonly probsMatch: boolean;
  readonly rowSums: number[];
  readonly offsetRead: number[];
  readonly laterWrite: number[];
  readonly foreign: string;
}

const rows = 64;
const features = 6;
const classes = 4;

async function run(): Promise<InteropReport> {
  // TF.js first, as an app would have it; then our context on TF.js's own device.
  await tf.setBackend('webgpu');
  const device = (tf.backend() as WebGPUBackend).device;
  const ctx = await createContext({ device });
  const sameDevice = ctx.device === device;

  const raw = uniform(rows * features, 1);
  const y = ctx.tensor(labels(rows, classes, 2));
  const feats = tf.tidy(() => tf.relu(tf.mul(tf.tensor2d(raw, [rows, features]), 2)));
  const { buffer, tensorRef } = feats.dataToGPU();
  const x = ctx.tensorFromGPUBuffer(buffer!, [rows, features], 'float32');
  const options = { features, classes, seed: 3, init: 'glorot', optimizer: { type: 'adam', learningRate: 0.05 } } as const;
  const model = ctx.softmaxRegression(options);
  await model.fit(x, y, { epochs: 3, batchSize: 16 });
  const copy = ctx.softmaxRegression(options);
  await copy.fit(ctx.tensor((await feats.data()) as Float32Array, [rows, features]), y, { epochs: 3, batchSize: 16 });
  const [a, b] = await Promise.all([model.getWeights(), copy.getWeights()]);
  const weightsMatch = a.weights.every((v, i) => v === b.weights[i]) && a.bias.every((v, i) => v === b.bias[i]);

  const probs = model.predict(x);
  const onTfjs = tf.tensor({ buffer: await ctx.gpuBuffer(probs) }, [rows, classes], 'float32');
  const [ours, theirs] = await Promise.all([probs.read(), onTfjs.data()]);
  const probsMatch = ours.every((v, i) => v === theirs[i]);
  const rowSums = Array.from(await tf.sum(onTfjs, 1).data());

  // An app buffer at an offset, without COPY_SRC, written again after the tensor was made.
  const offset = device.limits.minStorageBufferOffsetAlignment;
  const own = device.createBuffer({ label: 'app buffer', size: offset + 16, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(own, offset, new Float32Array([1, 2, 3, 4]));
  const view = ctx.tensorFromGPUBuffer(own, [4], 'float32', offset);
  const offsetRead = Array.from(await view.read());
  device.queue.writeBuffer(own, offset, new Float32Array([5, 6, 7, 8]));
  const laterWrite = Array.from(await view.read());

  const other = await (await navigator.gpu.requestAdapter())!.requestDevice();
  const stranger = other.createBuffer({ label: 'stranger', size: 16, usage: GPUBufferUsage.STORAGE });
  let foreign = 'accepted';
  try {
    await ctx.tensorFromGPUBuffer(stranger, [4]).read();
  } catch (error) {
    foreign = error instanceof ContextMismatchError ? error.message : `wrong error: ${String(error)}`;
  }

  for (const t of [feats, tensorRef, onTfjs]) t.dispose();
  ctx.destroy();
  return { sameDevice, weightsMatch, probsMatch, rowSums, offsetRead, laterWrite, foreign };
}

(globalThis as unknown as { runInterop: () => Promise<InteropReport> }).runInterop = run;
document.getElementById('status')!.textContent = 'ready';
