import { describe, expect, it } from 'vitest';
import { ValueError, type SoftmaxRegressionJSON } from '../src/index.js';
import { BACKENDS, openContext } from './helpers/backends.js';
import { labels, uniform } from './helpers/random.js';

// loadSoftmaxRegression refuses a saved model with a value missing, not a number, or not
// finite, naming the field and index, before it allocates anything; a sound one loads to the bit.

/** A saved 4 x 3 model with every field present (class weights and an RMSprop optimizer included). */
function saved(): SoftmaxRegressionJSON {
  return {
    format: 'webgpu-softmax/softmax-regression',
    version: 1,
    features: 4,
    classes: 3,
    seed: 5,
    optimizer: { type: 'rmsprop', learningRate: 0.01, momentum: 0.9, centered: true },
    loss: { labelSmoothing: 0.1, classWeights: [1, 2, 0.5] },
    weights: Array.from(uniform(12, 3)),
    bias: Array.from(uniform(3, 4)),
  };
}

/** A saved model with `edit` applied to a deep copy of it. */
function edited(edit: (doc: Record<string, any>) => void): SoftmaxRegressionJSON {
  const doc = structuredClone(saved()) as unknown as Record<string, any>;
  edit(doc);
  return doc as unknown as SoftmaxRegressionJSON;
}

describe('loadSoftmaxRegression on a damaged document', () => {
  const cases: [string, (doc: Record<string, any>) => void, string][] = [
    ['a null weight', (d) => (d.weights[7] = null), 'weights[7] is null; every value must be a finite number'],
    ['a NaN weight', (d) => (d.weights[0] = NaN), 'weights[0] is NaN; every value must be a finite number'],
    ['an infinite weight', (d) => (d.weights[11] = -Infinity), 'weights[11] is -Infinity; every value must be a finite number'],
    ['a string weight', (d) => (d.weights[2] = '0.5'), 'weights[2] is "0.5"; every value must be a finite number'],
    ['a hole in the weights', (d) => delete d.weights[4], 'weights[4] is missing; every value must be a finite number'],
    ['missing weights', (d) => delete d.weights, 'weights is missing'],
    ['weights not an array', (d) => (d.weights = { 0: 1 }), 'weights must be an array of 12 numbers (row-major [4, 3]), got {"0":1}'],
    ['too few weights', (d) => d.weights.pop(), 'weights holds 11 values; row-major [4, 3] needs 12'],
    ['a null bias', (d) => (d.bias[1] = null), 'bias[1] is null; every value must be a finite number'],
    ['an infinite bias', (d) => (d.bias[2] = Infinity), 'bias[2] is Infinity; every value must be a finite number'],
    ['too many biases', (d) => d.bias.push(0), 'bias holds 4 values; one per class needs 3'],
    ['a null class weight', (d) => (d.loss.classWeights[2] = null), 'loss.classWeights[2] is null; every value must be a finite number'],
    ['a NaN class weight', (d) => (d.loss.classWeights[0] = NaN), 'loss.classWeights[0] is NaN; every value must be a finite number'],
    ['class weights of the wrong length', (d) => (d.loss.classWeights = [1]), 'loss.classWeights holds 1 values; one per class needs 3'],
    ['a null label smoothing', (d) => (d.loss.labelSmoothing = null), 'loss.labelSmoothing is null; it must be a finite number'],
    ['no loss', (d) => delete d.loss, 'loss is missing'],
    ['null features', (d) => (d.features = null), 'features is null; it must be a finite number'],
    ['string classes', (d) => (d.classes = '3'), 'classes is "3"; it must be a finite number'],
    ['fractional classes', (d) => (d.classes = 2.5), 'classes is 2.5; it must be an integer ≥ 1'],
    ['a NaN seed', (d) => (d.seed = NaN), 'seed is NaN; it must be a finite number'],
    ['no seed', (d) => delete d.seed, 'seed is missing'],
    ['a null learning rate', (d) => (d.optimizer.learningRate = null), 'optimizer.learningRate is null; it must be a finite number'],
    ['no learning rate', (d) => delete d.optimizer.learningRate, 'optimizer.learningRate is missing'],
    ['a null momentum', (d) => (d.optimizer.momentum = null), 'optimizer.momentum is null; it must be a finite number'],
    ['an infinite epsilon', (d) => (d.optimizer.epsilon = Infinity), 'optimizer.epsilon is Infinity; it must be a finite number'],
    ['a string flag', (d) => (d.optimizer.centered = 'true'), 'optimizer.centered is "true"; it must be true or false'],
    ['an unknown optimizer', (d) => (d.optimizer.type = 'adagrad'), `optimizer.type is "adagrad"; it must be one of 'sgd', 'adam', 'adamw', 'rmsprop'`],
    ['no optimizer type', (d) => delete d.optimizer.type, `optimizer.type is undefined; it must be one of 'sgd', 'adam', 'adamw', 'rmsprop'`],
    ['a null optimizer', (d) => (d.optimizer = null), 'optimizer must be an object, got null'],
  ];

  it.each(cases)('%s', async (_name, edit, message) => {
    const ctx = await openContext('cpu');
    const doc = edited(edit);
    expect(() => ctx.loadSoftmaxRegression(doc)).toThrow(new ValueError(`loadSoftmaxRegression: ${message}`));
    // Nothing was allocated on the way to the error.
    expect(ctx.memory().tensors).toBe(0);
    ctx.destroy();
  });

  it('refuses, in JSON text, the null that JSON.stringify writes for NaN', async () => {
    const ctx = await openContext('cpu');
    const text = JSON.stringify(edited((d) => (d.weights[9] = NaN)));
    expect(() => ctx.loadSoftmaxRegression(text)).toThrow('loadSoftmaxRegression: weights[9] is null; every value must be a finite number');
    ctx.destroy();
  });

  it('still checks the ranges a fresh model is held to', async () => {
    const ctx = await openContext('cpu');
    expect(() => ctx.loadSoftmaxRegression(edited((d) => (d.optimizer.alpha = 2)))).toThrow('optimizer.alpha must be in [0, 1], got 2');
    expect(() => ctx.loadSoftmaxRegression(edited((d) => (d.loss.labelSmoothing = 1.5)))).toThrow('loss.labelSmoothing must be in [0, 1], got 1.5');
    ctx.destroy();
  });
});

describe.each(BACKENDS)('loadSoftmaxRegression (%s)', (backend) => {
  it('loads a saved model to the bit, through JSON text and as an object', async () => {
    const ctx = await openContext(backend);
    const x = ctx.tensor(uniform(40 * 4, 1), [40, 4]);
    const y = ctx.tensor(labels(40, 3, 2));
    const model = ctx.softmaxRegression({
      features: 4,
      classes: 3,
      init: 'glorot',
      seed: 9,
      optimizer: { type: 'adamw', learningRate: 0.05 },
      loss: { classWeights: [1, 2, 3] },
    });
    await model.fit(x, y, { epochs: 2, batchSize: 8 });
    const json = model.toJSON();
    const { weights, bias } = await model.getWeights();
    for (const copy of [ctx.loadSoftmaxRegression(JSON.stringify(json)), ctx.loadSoftmaxRegression(json)]) {
      const loaded = await copy.getWeights();
      expect(new Uint32Array(loaded.weights.buffer)).toEqual(new Uint32Array(weights.buffer));
      expect(new Uint32Array(loaded.bias.buffer)).toEqual(new Uint32Array(bias.buffer));
      expect(copy.toJSON()).toEqual(json);
      expect(Array.from(await copy.predict(x).read())).toEqual(Array.from(await model.predict(x).read()));
    }
    ctx.destroy();
  });
});
