import { globals } from 'webgpu';
import { expect, it } from 'vitest';
import { createContext } from '../src/index.js';
import { nodeDevice, nodeGpu } from './helpers/backends.js';
import { labels, uniform } from './helpers/random.js';

// tfjs-backend-webgpu reads the GPU* constants (GPUBufferUsage...) from the global scope, and
// refuses to start without a navigator.gpu, which Node lacks.
Object.assign(globalThis, globals);
Object.defineProperty(globalThis, 'navigator', { value: { gpu: await nodeGpu() }, configurable: true, writable: true });
const tf = await import('@tensorflow/tfjs-core');
const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');

it('trains on features TF.js made on the shared device, and TF.js reads our probabilities back from our buffer', async () => {
  const device = await nodeDevice();
  // TF.js's kernels are registered under 'webgpu': replace that backend with one on our device.
  tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', () => new WebGPUBackend(device));
  await tf.setBackend('webgpu');
  const ctx = await createContext({ device });

  const rows = 96;
  const raw = uniform(rows * 6, 1);
  const y = labels(rows, 4, 2);
  // TF.js computes features on the GPU; dataToGPU hands over a buffer its work has been submitted for.
  const feats = tf.tidy(() => tf.relu(tf.mul(tf.tensor2d(raw, [rows, 6]), 2)));
  const { buffer, tensorRef } = feats.dataToGPU();
  const x = ctx.tensorFromGPUBuffer(buffer!, [rows, 6], 'float32');

  const model = ctx.softmaxRegression({ features: 6, classes: 4, seed: 3, init: 'glorot', optimizer: { type: 'adam', learningRate: 0.05 } });
  await model.fit(x, ctx.tensor(y), { epochs: 4, batchSize: 32 });
  const probs = model.predict(x);
  const ours = await probs.read();

  // The same training from the host's copy of TF.js's features gives the same weights.
  const host = ctx.softmaxRegression({ features: 6, classes: 4, seed: 3, init: 'glorot', optimizer: { type: 'adam', learningRate: 0.05 } });
  await host.fit(ctx.tensor(await feats.data() as Float32Array, [rows, 6]), ctx.tensor(y), { epochs: 4, batchSize: 32 });
  expect(await model.getWeights()).toEqual(await host.getWeights());

  const onTfjs = tf.tensor({ buffer: await ctx.gpuBuffer(probs) }, [rows, 4], 'float32');
  expect(await onTfjs.data()).toEqual(ours);
  const sums = await tf.sum(onTfjs, 1).data();
  for (const s of sums) expect(s).toBeCloseTo(1, 5);

  for (const t of [feats, tensorRef, onTfjs]) t.dispose();
  model.dispose();
  host.dispose();
  ctx.destroy();
  tf.removeBackend('webgpu');
});
