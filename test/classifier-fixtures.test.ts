import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Activation, Context, LayerWeights } from '../src/index.js';
import { expectAllClose } from './helpers/allclose.js';
import { BACKENDS, openContext } from './helpers/backends.js';
import { values, type FixtureCase } from './helpers/cases.js';

/** PyTorch's `nn.Sequential(Linear, act, …, Linear)`: probabilities, loss and every layer's gradient (test/fixtures/generate.py). */
const CASES = (JSON.parse(readFileSync(new URL('./fixtures/mlp.json', import.meta.url), 'utf8')) as { cases: FixtureCase[] }).cases;

describe.each(BACKENDS)('classifier against PyTorch fixtures on %s', (backend) => {
  let ctx: Context;
  beforeAll(async () => {
    ctx = await openContext(backend);
  });
  afterAll(() => ctx.destroy());

  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const { activation, hidden } = c.options as { activation: Activation; hidden: number[] };
    const [rows, features] = c.inputs.x!.shape as [number, number];
    const classes = c.expected.probabilities!.shape[1]!;
    const layers: LayerWeights[] = [...hidden, classes].map((_, i) => ({
      weight: Float32Array.from(values(c.inputs[`weight${i}`]!)),
      bias: Float32Array.from(values(c.inputs[`bias${i}`]!)),
    }));
    const model = ctx.classifier({ features, classes, hidden, activation, init: layers, optimizer: { type: 'sgd', learningRate: 1 } });
    const x = ctx.tensor(Float32Array.from(values(c.inputs.x!)), [rows, features]);
    const y = ctx.tensor(Int32Array.from(values(c.inputs.y!)));
    const p = model.predict(x);
    expectAllClose({ shape: p.shape, data: await p.read() }, { shape: [rows, classes], data: values(c.expected.probabilities!) }, { rtol: 1e-4, atol: 1e-6 }, 'probabilities');
    const loss = await model.trainStep(x, y).read();
    expect(loss[0]).toBeCloseTo(values(c.expected.loss!)[0]!, 5);
    // SGD at learning rate 1: each parameter moved by its gradient.
    const after = await model.getWeights();
    layers.forEach((layer, i) => {
      for (const [field, name] of [['weight', `gradWeight${i}`], ['bias', `gradBias${i}`]] as const) {
        const step = layer[field].map((v, k) => v - after[i]![field][k]!);
        expectAllClose({ shape: [step.length], data: step }, { shape: [step.length], data: values(c.expected[name]!) }, { rtol: 1e-3, atol: 2e-6 }, name);
      }
    });
    for (const t of [p, x, y, model]) t.dispose();
  });
});
