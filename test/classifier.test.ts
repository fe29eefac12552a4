import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BusyError, createContext, DisposedError, ShapeError, ValueError, type Activation, type Context, type LayerWeights } from '../src/index.js';
import { internals } from '../src/internal.js';
import { FUSED_STEP_LOGITS_BYTES } from '../src/train/step.js';
import { expectAllClose } from './helpers/allclose.js';
import { BACKENDS, countSubmits, nodeDevice, openContext } from './helpers/backends.js';
import { erf64, forward64, maxAbsDiff } from './helpers/mlp.js';
import { labels, uniform } from './helpers/random.js';

const ACTS: readonly Activation[] = ['relu', 'gelu', 'tanh'];

/** Mean cross-entropy of class ids `y` under the float64 head `layers`. */
function loss64(layers: LayerWeights[] | { weight: Float64Array; bias: Float64Array }[], activation: Activation, hidden: number[], features: number, classes: number, x: Float32Array, y: Int32Array): number {
  const rows = y.length;
  const { probabilities } = forward64({ features, classes, hidden, activation, layers: layers as LayerWeights[] }, x, rows);
  let total = 0;
  for (let r = 0; r < rows; r++) total -= Math.log(probabilities[r * classes + y[r]!]!);
  return total / rows;
}

/** Central differences of `loss64` in float64 for every parameter, layer by layer. */
function numericGradients(start: LayerWeights[], activation: Activation, hidden: number[], features: number, classes: number, x: Float32Array, y: Int32Array): { weight: Float64Array; bias: Float64Array }[] {
  const layers = start.map(({ weight, bias }) => ({ weight: Float64Array.from(weight), bias: Float64Array.from(bias) }));
  const h = 1e-6;
  return layers.map((layer) => {
    const out = { weight: new Float64Array(layer.weight.length), bias: new Float64Array(layer.bias.length) };
    for (const field of ['weight', 'bias'] as const) {
      for (let i = 0; i < layer[field].length; i++) {
        const v = layer[field][i]!;
        layer[field][i] = v + h;
        const up = loss64(layers, activation, hidden, features, classes, x, y);
        layer[field][i] = v - h;
        const down = loss64(layers, activation, hidden, features, classes, x, y);
        layer[field][i] = v;
        out[field][i] = (up - down) / (2 * h);
      }
    }
    return out;
  });
}

describe.each(BACKENDS)('classifier on %s', (backend) => {
  let ctx: Context;
  beforeAll(async () => {
    ctx = await openContext(backend);
  });
  afterAll(() => ctx.destroy());

  for (const activation of ACTS) {
    it(`every layer's gradient (${activation}, two hidden layers) matches float64 finite differences`, async () => {
      const [features, hidden, classes, rows] = [5, [4, 3], 3, 6];
      const x = uniform(rows * features, 31, 2);
      const y = labels(rows, classes, 32);
      // SGD at learning rate 1 without momentum: the step is the gradient.
      const model = ctx.classifier({ features, classes, hidden, activation, seed: 7, optimizer: { type: 'sgd', learningRate: 1 } });
      const before = await model.getWeights();
      const xt = ctx.tensor(x, [rows, features]);
      const yt = ctx.tensor(y);
      const loss = await model.trainStep(xt, yt).read();
      const after = await model.getWeights();
      expect(loss[0]).toBeCloseTo(loss64(before, activation, hidden, features, classes, x, y), 5);
      const numeric = numericGradients(before, activation, hidden, features, classes, x, y);
      before.forEach((layer, l) => {
        for (const field of ['weight', 'bias'] as const) {
          const step = layer[field].map((v, i) => v - after[l]![field][i]!);
          expectAllClose({ shape: [step.length], data: step }, { shape: [step.length], data: numeric[l]![field] }, { rtol: 1e-3, atol: 2e-6 }, `layer ${l} ${field}`);
        }
      });
      model.dispose();
      xt.dispose();
      yt.dispose();
    });
  }

  it('a step whose logits pass the budget runs fused, gradX included, and matches float64 backpropagation', async () => {
    const [features, width, classes, rows] = [3, 4, 70_001, 128];
    expect(rows * classes * 4).toBeGreaterThan(FUSED_STEP_LOGITS_BYTES);
    const x = uniform(rows * features, 61, 2);
    const y = labels(rows, classes, 62);
    const model = ctx.classifier({ features, classes, hidden: [width], activation: 'gelu', seed: 8, optimizer: { type: 'sgd', learningRate: 1 } });
    const before = await model.getWeights();
    const xt = ctx.tensor(x, [rows, features]);
    const yt = ctx.tensor(y);
    model.trainStep(xt, yt).dispose();
    const after = await model.getWeights();
    model.dispose();
    xt.dispose();
    yt.dispose();

    // Backpropagation in float64: pre = x W0 + b0, h = gelu(pre), z = h W1 + b1.
    const [w0, b0, w1, b1] = [before[0]!.weight, before[0]!.bias, before[1]!.weight, before[1]!.bias];
    const gelu = (v: number) => 0.5 * v * (1 + erf64(v / Math.SQRT2));
    const gelu1 = (v: number) => 0.5 * (1 + erf64(v / Math.SQRT2)) + (v * Math.exp(-0.5 * v * v)) / Math.sqrt(2 * Math.PI);
    const grads = { w0: new Float64Array(w0.length), b0: new Float64Array(width), w1: new Float64Array(w1.length), b1: new Float64Array(classes) };
    const z = new Float64Array(classes);
    for (let r = 0; r < rows; r++) {
      const pre = Array.from({ length: width }, (_, j) => b0[j]! + Array.from({ length: features }, (_, i) => x[r * features + i]! * w0[i * width + j]!).reduce((a, b) => a + b));
      const h = pre.map(gelu);
      let max = -Infinity;
      for (let c = 0; c < classes; c++) {
        let v = b1[c]!;
        for (let j = 0; j < width; j++) v += h[j]! * w1[j * classes + c]!;
        z[c] = v;
        max = Math.max(max, v);
      }
      let total = 0;
      for (let c = 0; c < classes; c++) total += (z[c] = Math.exp(z[c]! - max));
      const dh = new Float64Array(width);
      for (let c = 0; c < classes; c++) {
        const dz = (z[c]! / total - (c === y[r] ? 1 : 0)) / rows;
        grads.b1[c]! += dz;
        for (let j = 0; j < width; j++) {
          grads.w1[j * classes + c]! += h[j]! * dz;
          dh[j]! += dz * w1[j * classes + c]!;
        }
      }
      for (let j = 0; j < width; j++) {
        const dpre = dh[j]! * gelu1(pre[j]!);
        grads.b0[j]! += dpre;
        for (let i = 0; i < features; i++) grads.w0[i * width + j]! += x[r * features + i]! * dpre;
      }
    }
    const step = (a: Float32Array, b: Float32Array) => a.map((v, i) => v - b[i]!);
    const tolerance = { rtol: 1e-3, atol: 1e-6 };
    expectAllClose({ shape: [w0.length], data: step(w0, after[0]!.weight) }, { shape: [w0.length], data: grads.w0 }, tolerance, 'dW0');
    expectAllClose({ shape: [width], data: step(b0, after[0]!.bias) }, { shape: [width], data: grads.b0 }, tolerance, 'db0');
    expectAllClose({ shape: [w1.length], data: step(w1, after[1]!.weight) }, { shape: [w1.length], data: grads.w1 }, tolerance, 'dW1');
    expectAllClose({ shape: [classes], data: step(b1, after[1]!.bias) }, { shape: [classes], data: grads.b1 }, tolerance, 'db1');
  });

  for (const activation of ACTS) {
    it(`the ${activation} ops (alone, and fused into a matmul both ways) match float64, at 0 and far out too`, async () => {
      const access = ctx[internals];
      const backend = access.backend();
      const z = Float32Array.from([0, -0, 1e-3, -1e-3, 0.5, -0.5, 1, -1, 2.5, -2.5, 6, -6, 40, -40, 100, -100]);
      const grad = uniform(z.length, 81, 1);
      const f = (v: number) => (activation === 'relu' ? Math.max(v, 0) : activation === 'tanh' ? Math.tanh(v) : 0.5 * v * (1 + erf64(v / Math.SQRT2)));
      const d = (v: number) =>
        activation === 'relu' ? (v > 0 ? 1 : 0)
        : activation === 'tanh' ? 1 - Math.tanh(v) ** 2
        : 0.5 * (1 + erf64(v / Math.SQRT2)) + (v * Math.exp(-0.5 * v * v)) / Math.sqrt(2 * Math.PI);
      const zt = ctx.tensor(z, [4, 4]);
      const gt = ctx.tensor(grad, [4, 4]);
      const identity = ctx.tensor(Float32Array.from({ length: 16 }, (_, i) => (i % 5 === 0 ? 1 : 0)), [4, 4]);
      const zeros = ctx.tensor(new Float32Array(4));
      const plan = { elements: 16, activation };
      const plan2 = { batch: 1, m: 4, k: 4, n: 4, transposeA: false, transposeB: false, aBatchStride: 0, bBatchStride: 0 };
      const s = (t: typeof zt) => access.storage(t, 'test', 't');
      const read = (storage: ReturnType<typeof backend.activation>) => access.adopt(storage, [16], 'float32').read();
      const forwardExpected = Array.from(z, f);
      const backwardExpected = Array.from(z, (v, i) => grad[i]! * d(v));
      const tolerance = { rtol: 1e-5, atol: 1e-6 };
      expectAllClose({ shape: [16], data: await read(backend.activation(s(zt), plan)) }, { shape: [16], data: forwardExpected }, tolerance, 'act');
      expectAllClose({ shape: [16], data: await read(backend.activationBackward(s(zt), s(gt), plan)) }, { shape: [16], data: backwardExpected }, tolerance, "act'");
      // z · I + 0 through the fused forward: pre is z, out is act(z).
      const fused = backend.linearActivation(s(zt), s(identity), s(zeros), plan2, activation);
      expect(maxAbsDiff(await read(fused.pre), z)).toBe(0);
      expectAllClose({ shape: [16], data: await read(fused.out) }, { shape: [16], data: forwardExpected }, tolerance, 'fused act');
      // grad · Iᵀ, times act'(z), through the fused backward.
      const back = backend.linearActivationBackward(s(gt), s(identity), s(zt), { ...plan2, transposeB: true }, activation);
      expectAllClose({ shape: [16], data: await read(back) }, { shape: [16], data: backwardExpected }, tolerance, "fused act'");
      for (const t of [zt, gt, identity, zeros]) t.dispose();
    });
  }

  it("hidden: [] is softmax regression: the same seeded run ends with identical weights", async () => {
    const [features, classes, rows] = [6, 4, 40];
    const x = ctx.tensor(uniform(rows * features, 3, 2), [rows, features]);
    const y = ctx.tensor(labels(rows, classes, 4));
    const optimizer = { type: 'adam', learningRate: 0.05 } as const;
    const regression = ctx.softmaxRegression({ features, classes, init: 'glorot', seed: 9, optimizer });
    const classifier = ctx.classifier({ features, classes, hidden: [], init: 'glorot', seed: 9, optimizer });
    const h1 = await regression.fit(x, y, { epochs: 3, batchSize: 8 });
    const h2 = await classifier.fit(x, y, { epochs: 3, batchSize: 8 });
    expect(h2).toEqual(h1);
    const [layer] = await classifier.getWeights();
    const { weights, bias } = await regression.getWeights();
    expect(layer!.weight).toEqual(weights);
    expect(layer!.bias).toEqual(bias);
    for (const t of [x, y, regression, classifier]) t.dispose();
  });

  it("initialises as PyTorch's nn.Linear, U(±1/√in) for weights and bias, from the seed", async () => {
    const model = ctx.classifier({ features: 400, classes: 10, hidden: [64], seed: 1 });
    const layers = await model.getWeights();
    const weightsOf = async (seed: number) => {
      using m = ctx.classifier({ features: 400, classes: 10, hidden: [64], seed });
      return m.getWeights();
    };
    const again = await weightsOf(1);
    const other = await weightsOf(2);
    expect(again).toEqual(layers);
    expect(other[0]!.weight).not.toEqual(layers[0]!.weight);
    for (const [l, inSize] of [[0, 400], [1, 64]] as const) {
      const bound = 1 / Math.sqrt(inSize);
      for (const a of [layers[l]!.weight, layers[l]!.bias]) {
        const values = Array.from(a);
        expect(Math.max(...values.map(Math.abs))).toBeLessThanOrEqual(bound);
        if (a.length > 500) {
          // A uniform's variance is bound² / 3; the sample's is within a few standard errors of it.
          const variance = values.reduce((s, v) => s + v * v, 0) / values.length;
          expect(Math.abs(variance / (bound ** 2 / 3) - 1)).toBeLessThan(5 * Math.sqrt(0.8 / values.length));
        }
      }
    }
    model.dispose();
  });

  it('learns a problem a linear model cannot (XOR), predicts, ranks top classes, and round-trips through toJSON', async () => {
    const rows = 200;
    const raw = uniform(rows * 2, 41, 1);
    const ids = Int32Array.from({ length: rows }, (_, r) => ((raw[2 * r]! > 0) !== (raw[2 * r + 1]! > 0) ? 1 : 0));
    const x = ctx.tensor(raw, [rows, 2]);
    const y = ctx.tensor(ids);
    const model = ctx.classifier({ features: 2, classes: 2, hidden: [16], activation: 'tanh', seed: 3, optimizer: { type: 'adam', learningRate: 0.05 } });
    const history = await model.fit(x, y, { epochs: 60, batchSize: 20 });
    expect(history.accuracy.at(-1)).toBeGreaterThan(0.95);
    const p = await model.predict(x).read();
    const { indices, values } = model.predict(x, { topK: 1 });
    const top = await indices.read();
    const topValues = await values.read();
    for (let r = 0; r < rows; r++) {
      expect(top[r]).toBe(p[2 * r]! > p[2 * r + 1]! ? 0 : 1);
      expect(topValues[r]).toBeCloseTo(Math.max(p[2 * r]!, p[2 * r + 1]!), 6);
    }
    const loaded = ctx.loadClassifier(JSON.stringify(model.toJSON()));
    expect(loaded.hidden).toEqual([16]);
    expect(loaded.activation).toBe('tanh');
    expect(maxAbsDiff(await loaded.predict(x).read(), p)).toBe(0);
    for (const t of [x, y, model, loaded, indices, values]) t.dispose();
  });

  it('refuses a second fit while one runs, and stops with a DisposedError when disposed during fit, freeing everything', async () => {
    const x = ctx.tensor(uniform(64 * 4, 5, 1), [64, 4]);
    const y = ctx.tensor(labels(64, 3, 6));
    const before = ctx.memory();
    const model = ctx.classifier({ features: 4, classes: 3, hidden: [5], seed: 1 });
    const first = model.fit(x, y, { epochs: 2, batchSize: 8 });
    await expect(model.fit(x, y)).rejects.toThrow(BusyError);
    await first;
    let n = 0;
    await expect(model.fit(x, y, { epochs: 3, batchSize: 8, onBatchEnd: () => ++n === 3 && model.dispose() })).rejects.toThrow(
      new DisposedError('fit: the model was disposed during training'),
    );
    expect(ctx.memory().tensors).toBe(before.tensors);
    expect(ctx.memory().bytes).toBe(before.bytes);
    x.dispose();
    y.dispose();
  });

  it('checks its options, weights and saved documents, naming the field at fault', () => {
    expect(() => ctx.classifier({ features: 4, classes: 3, hidden: [5, 0] })).toThrow(new ValueError('classifier: hidden[1] must be a positive integer, got 0'));
    expect(() => ctx.classifier({ features: 4, classes: 3, activation: 'sigmoid' as Activation })).toThrow(/classifier: activation must be one of 'relu', 'gelu', 'tanh', got "sigmoid"/);
    expect(() => ctx.classifier({ features: 0, classes: 3 })).toThrow(/^classifier: features must be a positive integer/);
    const model = ctx.classifier({ features: 4, classes: 3, hidden: [5], seed: 1 });
    expect(() => model.setWeights([{ weight: new Float32Array(20), bias: new Float32Array(5) }])).toThrow(ShapeError);
    expect(() => model.setWeights([{ weight: new Float32Array(20), bias: new Float32Array(5) }, { weight: new Float32Array(14), bias: new Float32Array(3) }])).toThrow(
      /setWeights: layers\[1\]\.weight must be a Float32Array of 15 values \(\[5, 3\]\), got Float32Array of 14/,
    );
    const json = model.toJSON();
    const broken = (value: unknown) => ({ ...json, layers: [json.layers[0]!, { ...json.layers[1]!, bias: [0, value, 0] }] });
    expect(() => ctx.loadClassifier(broken(null) as never)).toThrow(/loadClassifier: layers\[1\]\.bias\[1\] is null, not a finite number/);
    expect(() => ctx.loadClassifier(JSON.stringify(broken(Number.NaN)))).toThrow(/layers\[1\]\.bias\[1\] is null/);
    expect(() => ctx.loadClassifier(broken('1') as never)).toThrow(/layers\[1\]\.bias\[1\] is "1"/);
    expect(() => ctx.loadClassifier({ ...json, layers: [json.layers[0]!] })).toThrow(/init must hold 2 layers/);
    model.dispose();
  });
});

describe('classifier across backends', () => {
  it('on WebGPU a step through two hidden layers is one submit, with nothing read back before the loss', async () => {
    const device = await nodeDevice();
    const ctx = await createContext({ device });
    const model = ctx.classifier({ features: 5, classes: 3, hidden: [8, 4], activation: 'gelu', optimizer: { type: 'adam', learningRate: 0.1 } });
    const x = ctx.tensor(uniform(16 * 5, 1, 1), [16, 5]);
    const y = ctx.tensor(labels(16, 3, 2));
    // Kernels compiled and self-checked (in submits of their own) before the step.
    await model.ready(16);
    await ctx.flush();
    const submits = countSubmits(device);
    await model.trainStep(x, y).read();
    expect(submits()).toBe(1);
    ctx.destroy();
    device.destroy();
  });

  it('the same seeded run ends with the same weights on WebGPU and on both CPU backends, to 1e-4', async () => {
    const results: LayerWeights[][] = [];
    for (const backend of BACKENDS) {
      using ctx = await openContext(backend);
      const x = ctx.tensor(uniform(96 * 7, 51, 2), [96, 7]);
      const y = ctx.tensor(labels(96, 4, 52));
      for (const activation of ACTS) {
        const model = ctx.classifier({ features: 7, classes: 4, hidden: [9, 6], activation, seed: 4, optimizer: { type: 'adam', learningRate: 0.01 } });
        await model.fit(x, y, { epochs: 2, batchSize: 16 });
        results.push(await model.getWeights());
        model.dispose();
      }
    }
    const perBackend = results.length / BACKENDS.length;
    for (let b = 1; b < BACKENDS.length; b++) {
      for (let i = 0; i < perBackend; i++) {
        results[i]!.forEach((layer, l) => {
          const other = results[b * perBackend + i]![l]!;
          expectAllClose({ shape: [other.weight.length], data: other.weight }, { shape: [layer.weight.length], data: layer.weight }, { rtol: 1e-4, atol: 1e-4 }, `${BACKENDS[b]} ${ACTS[i]} layer ${l}`);
          expectAllClose({ shape: [other.bias.length], data: other.bias }, { shape: [layer.bias.length], data: layer.bias }, { rtol: 1e-4, atol: 1e-4 }, `${BACKENDS[b]} ${ACTS[i]} layer ${l} bias`);
        });
      }
    }
  });
});
