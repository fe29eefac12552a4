import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebGPUSoftmaxError, type Activation, type Context } from '../src/index.js';
import { BACKENDS, openContext } from './helpers/backends.js';
import { maxAbsDiff } from './helpers/mlp.js';
import { labels, uniform } from './helpers/random.js';

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`./fixtures/export/${name}`, import.meta.url)));
const input = JSON.parse(readFileSync(new URL('./fixtures/export/input.json', import.meta.url), 'utf8')) as { rows: number; features: number; data: number[] };
const expected = JSON.parse(readFileSync(new URL('./fixtures/export/expected.json', import.meta.url), 'utf8')) as {
  torch: Record<string, { activation: Activation; probabilities: number[] }>;
};

describe.each(BACKENDS)('classifier export and import on %s', (backend) => {
  let ctx: Context;
  beforeAll(async () => {
    ctx = await openContext(backend);
  });
  afterAll(() => ctx.destroy());

  for (const [activation, hidden] of [['relu', [8]], ['gelu', [8, 7]], ['tanh', [6]], ['relu', []]] as const) {
    it(`a trained ${activation} ${JSON.stringify(hidden)} head: onnxruntime, TF.js and our import predict as we do, to 1e-5`, async () => {
      const [features, classes, rows] = [6, 5, 12];
      const xs = uniform(rows * features, 71, 2);
      const x = ctx.tensor(xs, [rows, features]);
      const y = ctx.tensor(labels(rows, classes, 72));
      const model = ctx.classifier({ features, classes, hidden: [...hidden], activation, seed: 3, optimizer: { type: 'adam', learningRate: 0.05 } });
      await model.fit(x, y, { epochs: 3, batchSize: 4 });
      const ours = await model.predict(x).read();

      const session = await ort.InferenceSession.create(await model.export('onnx'));
      const run = await session.run({ input: new ort.Tensor('float32', xs, [rows, features]) });
      expect(run.probabilities!.dims).toEqual([rows, classes]);
      expect(maxAbsDiff(run.probabilities!.data as Float32Array, ours)).toBeLessThan(1e-5);

      const head = await tf.loadLayersModel(tf.io.fromMemory(await model.export('tfjs')));
      const tfProbabilities = head.predict(tf.tensor2d(xs, [rows, features])) as tf.Tensor;
      expect(maxAbsDiff(await tfProbabilities.data(), ours)).toBeLessThan(1e-5);
      tfProbabilities.dispose();
      head.dispose();

      for (const format of ['safetensors', 'onnx'] as const) {
        const again = await ctx.importClassifier(await model.export(format), { format });
        expect(again.hidden).toEqual(hidden);
        expect(again.activation).toBe(activation);
        expect(await again.getWeights()).toEqual(await model.getWeights());
        again.dispose();
      }
      for (const t of [x, y, model]) t.dispose();
    });
  }

  for (const name of ['torch-relu', 'torch-gelu', 'torch-tanh', 'torch-linear', 'torch-dropout']) {
    it(`${name}: PyTorch's safetensors and ONNX files import and predict as PyTorch did, to 1e-5`, async () => {
      const torch = expected.torch[name]!;
      const x = ctx.tensor(Float32Array.from(input.data), [input.rows, input.features]);
      for (const format of ['safetensors', 'onnx'] as const) {
        const model = await ctx.importClassifier(fixture(`${name}.${format}`), { format, activation: torch.activation });
        const p = model.predict(x);
        expect(maxAbsDiff(await p.read(), torch.probabilities)).toBeLessThan(1e-5);
        for (const t of [p, model]) t.dispose();
      }
      x.dispose();
    });
  }

  it('refuses corrupt files and bad options before making anything', async () => {
    const before = ctx.memory().tensors;
    const bytes = fixture('torch-relu.safetensors');
    await expect(ctx.importClassifier(bytes.slice(0, bytes.length - 8), { format: 'safetensors' })).rejects.toThrow(WebGPUSoftmaxError);
    await expect(ctx.importClassifier(fixture('torch-relu.onnx').slice(0, 50), { format: 'onnx' })).rejects.toThrow(WebGPUSoftmaxError);
    await expect(ctx.importClassifier(bytes, { format: 'pt' as 'onnx' })).rejects.toThrow(/importClassifier: format must be 'onnx' or 'safetensors', got "pt"/);
    const model = ctx.classifier({ features: 2, classes: 2 });
    await expect(model.export('pickle' as 'onnx')).rejects.toThrow(/export: format must be 'onnx', 'safetensors' or 'tfjs', got "pickle"/);
    model.dispose();
    expect(ctx.memory().tensors).toBe(before);
  });

  it('softmaxRegression exports too, as a one-layer head', async () => {
    const model = ctx.softmaxRegression({ features: 3, classes: 4, init: 'glorot', seed: 2 });
    const again = await ctx.importClassifier(await model.export('safetensors'), { format: 'safetensors' });
    const [layer] = await again.getWeights();
    const { weights, bias } = await model.getWeights();
    expect(layer!.weight).toEqual(weights);
    expect(layer!.bias).toEqual(bias);
    for (const t of [model, again]) t.dispose();
  });
});
