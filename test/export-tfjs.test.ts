import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { DTypeError, ShapeError } from '../src/errors.js';
import { readTfjs, writeTfjs, type MlpActivation } from '../src/export/index.js';
import { forward64, maxAbsDiff, randomMlp } from './helpers/mlp.js';
import { uniform } from './helpers/random.js';

await tf.setBackend('cpu');

const shapes: [string, number, number[], number, MlpActivation][] = [
  ['softmax regression 10-4', 10, [], 4, 'relu'],
  ['64-100-10 relu', 64, [100], 10, 'relu'],
  ['12-16-9-3 gelu', 12, [16, 9], 3, 'gelu'],
  ['7-5-6 tanh', 7, [5], 6, 'tanh'],
];

describe("TF.js export, loaded by @tensorflow/tfjs's loadLayersModel", () => {
  it.each(shapes)('%s: predict gives the probabilities of a float64 forward pass', async (_, features, hidden, classes, activation) => {
    const desc = randomMlp(features, hidden, classes, activation, features * classes);
    // Our structural type is TF.js's own: this assignment is checked by `npm run typecheck`.
    const artifacts: tf.io.ModelArtifacts = writeTfjs(desc);
    const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    const rows = 21;
    const x = uniform(rows * features, 8, 3);
    const input = tf.tensor2d(x, [rows, features]);
    const predicted = model.predict(input) as tf.Tensor;
    expect(predicted.shape).toEqual([rows, classes]);
    const reference = forward64(desc, x, rows);
    expect(maxAbsDiff(await predicted.data(), reference.probabilities)).toBeLessThan(1e-5);

    // The layer before the softmax gives the logits.
    const logitsModel = tf.model({ inputs: model.inputs, outputs: model.getLayer('logits').output as tf.SymbolicTensor });
    const logits = logitsModel.predict(input) as tf.Tensor;
    expect(maxAbsDiff(await logits.data(), reference.logits)).toBeLessThan(1e-4);
    tf.dispose([input, predicted, logits]);
    model.dispose();
  });

  it('loads twice side by side (an app reloading a retrained head), each predicting its own weights', async () => {
    const a = randomMlp(5, [4], 3, 'relu', 5);
    const b = randomMlp(5, [4], 3, 'relu', 6);
    const first = await tf.loadLayersModel(tf.io.fromMemory(writeTfjs(a)));
    const second = await tf.loadLayersModel(tf.io.fromMemory(writeTfjs(b)));
    const x = uniform(3 * 5, 9, 2);
    const input = tf.tensor2d(x, [3, 5]);
    for (const [model, desc] of [[first, a], [second, b]] as const) {
      const p = model.predict(input) as tf.Tensor;
      expect(maxAbsDiff(await p.data(), forward64(desc, x, 3).probabilities)).toBeLessThan(1e-5);
      p.dispose();
      model.dispose();
    }
    input.dispose();
  });

  it('reads back what TF.js itself saves of the loaded model', async () => {
    const desc = randomMlp(5, [4], 3, 'gelu', 2);
    const model = await tf.loadLayersModel(tf.io.fromMemory(writeTfjs(desc)));
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        saved = artifacts;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    model.dispose();
    const back = readTfjs(saved!);
    expect(back).toEqual({ ...desc, hidden: [4] });
  });
});

describe('TF.js round trip and bad input', () => {
  it.each(shapes)('%s: written then read gives the same weights, bit for bit', (_, features, hidden, classes, activation) => {
    const desc = randomMlp(features, hidden, classes, activation, 4);
    expect(readTfjs(writeTfjs(desc))).toEqual(desc);
  });

  it("reads the Python converter's wrapping of the topology in model_config", () => {
    const desc = randomMlp(4, [3], 2, 'tanh', 2);
    const a = writeTfjs(desc);
    expect(readTfjs({ ...a, modelTopology: { keras_version: '2.15.0', backend: 'tensorflow', model_config: a.modelTopology } })).toEqual(desc);
    expect(() => readTfjs({ ...a, modelTopology: { class_name: 'Functional', config: {} } })).toThrow(/must be a Keras Sequential model/);
  });

  it('names weights that are missing, of the wrong dtype, or longer than the data', () => {
    const a = writeTfjs(randomMlp(4, [3], 2, 'relu', 1));
    expect(() => readTfjs({ ...a, weightSpecs: a.weightSpecs.slice(0, 3) })).toThrow(/weightData holds 92 bytes, but weightSpecs describe 84/);
    expect(() => readTfjs({ ...a, weightData: a.weightData.slice(0, 52) })).toThrow(/weight 'dense_0\/bias' \[3\] runs past the end of weightData \(52 bytes\)/);
    const specs = a.weightSpecs.map((s) => (s.name === 'logits/kernel' ? { ...s, dtype: 'int32' } : s));
    expect(() => readTfjs({ ...a, weightSpecs: specs })).toThrow(DTypeError);
    const renamed = a.weightSpecs.map((s) => (s.name === 'logits/bias' ? { ...s, name: 'logits/b' } : s));
    expect(() => readTfjs({ ...a, weightSpecs: renamed })).toThrow(/weight 'logits\/bias' is missing/);
    const reshaped = a.weightSpecs.map((s) => (s.name === 'logits/kernel' ? { ...s, shape: [2, 3] } : s));
    expect(() => readTfjs({ ...a, weightSpecs: reshaped })).toThrow(ShapeError);
  });
});
