import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Classifier, DTypeError, ShapeError, SoftmaxRegression, ValueError, type Context, type OptimizerOptions, type Tensor } from '../src/index.js';
import { writeSafetensorsFile, type NamedTensor } from '../src/export/safetensors.js';
import { openContext, type BackendName } from './helpers/backends.js';
import { expectAllClose } from './helpers/allclose.js';
import { labels, uniform } from './helpers/random.js';

// The contract of issue 16: train 4 epochs straight, or train 2, checkpoint, restore and train
// epochs 3-4 with `initialEpoch: 2`, and the final weights are the same bits on the same
// backend (on another backend, as close as the backends are to each other). Every optimizer
// state the checkpoint must carry is exercised: SGD's velocity (plain and Nesterov), Adam's and
// AdamW's moments and step count, centered RMSprop's three buffers; a cosine schedule over all
// the epochs and a shuffle each epoch make the schedule's step and the random stream count too.

const ROWS = 64;
const FEATURES = 8;
const CLASSES = 3;
const BATCH = 16;
const EPOCHS = 4;
const BACKENDS: readonly BackendName[] = ['cpu', 'webgpu'];

const OPTIMIZERS: Record<string, OptimizerOptions> = {
  'sgd momentum': { type: 'sgd', learningRate: 0.1, momentum: 0.9 },
  'sgd nesterov': { type: 'sgd', learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-3 },
  adam: { type: 'adam', learningRate: 0.05, weightDecay: 1e-3 },
  adamw: { type: 'adamw', learningRate: 0.05 },
  'rmsprop centered': { type: 'rmsprop', learningRate: 0.01, centered: true, momentum: 0.5 },
};

type Model = SoftmaxRegression | Classifier;
const MODELS: Record<string, (ctx: Context, optimizer: OptimizerOptions) => Model> = {
  'softmax regression': (ctx, optimizer) => ctx.softmaxRegression({ features: FEATURES, classes: CLASSES, init: 'glorot', seed: 5, optimizer }),
  classifier: (ctx, optimizer) =>
    ctx.classifier({ features: FEATURES, classes: CLASSES, hidden: [6], activation: 'gelu', seed: 5, optimizer, loss: { labelSmoothing: 0.1, classWeights: [1, 2, 0.5] } }),
};

const FIT = { batchSize: BATCH, learningRate: { type: 'cosine', minLearningRate: 1e-3 } } as const;

interface Data {
  readonly x: Tensor<'float32'>;
  readonly y: Tensor<'int32'>;
}

/** Every weight of a model, float32, first layer first. */
async function weightsOf(model: Model): Promise<Float32Array> {
  const layers = model instanceof Classifier ? await model.getWeights() : [await model.getWeights()].map(({ weights, bias }) => ({ weight: weights, bias }));
  const all = layers.flatMap(({ weight, bias }) => [...weight, ...bias]);
  return Float32Array.from(all);
}

/** The same bits: a float compare would let -0 pass for 0 and fail NaN against itself. */
function expectSameBits(actual: Float32Array, expected: Float32Array, label: string): void {
  expect(Array.from(new Uint32Array(actual.buffer)), label).toEqual(Array.from(new Uint32Array(expected.buffer)));
}

const contexts = new Map<string, Context>();
const data = new Map<Context, Data>();
const ctxOf = (name: string) => contexts.get(name)!;
const dataOf = (ctx: Context) => data.get(ctx)!;

beforeAll(async () => {
  for (const backend of BACKENDS) {
    for (const name of [backend, `${backend} (fresh)`]) {
      const ctx = await openContext(backend);
      contexts.set(name, ctx);
      data.set(ctx, { x: ctx.tensor(uniform(ROWS * FEATURES, 1), [ROWS, FEATURES]), y: ctx.tensor(labels(ROWS, CLASSES, 2)) });
    }
  }
});
afterAll(() => {
  for (const ctx of contexts.values()) ctx.destroy();
});

describe.each(BACKENDS)('resuming on %s', (backend) => {
  const other = backend === 'cpu' ? 'webgpu' : 'cpu';
  const cases = Object.keys(MODELS).flatMap((kind) => Object.keys(OPTIMIZERS).map((opt) => [kind, opt] as const));

  it.each(cases)('%s with %s: bit for bit on the same backend, close across backends', async (kind, opt) => {
    const ctx = ctxOf(backend);
    const { x, y } = dataOf(ctx);
    const make = (c: Context) => MODELS[kind]!(c, OPTIMIZERS[opt]!);

    const straight = make(ctx);
    await straight.fit(x, y, { ...FIT, epochs: EPOCHS });
    const expected = await weightsOf(straight);

    // The same run, checkpointed after every epoch: saving reads back and changes nothing.
    const saved: Uint8Array[] = [];
    const infos: unknown[] = [];
    const run = make(ctx);
    await run.fit(x, y, { ...FIT, epochs: EPOCHS, checkpoint: { save: async (bytes, info) => void (saved.push(bytes), infos.push(info)) } });
    expectSameBits(await weightsOf(run), expected, 'checkpointing a run');
    expect(infos).toEqual([1, 2, 3, 4].map((epoch) => ({ epoch, step: epoch * (ROWS / BATCH) })));
    const atTwo = saved[1]!;

    for (const where of [backend, `${backend} (fresh)`]) {
      const c = ctxOf(where);
      const restored = await c.restore(atTwo);
      expect(restored).toBeInstanceOf(kind === 'classifier' ? Classifier : SoftmaxRegression);
      const history = await restored.fit(dataOf(c).x, dataOf(c).y, { ...FIT, epochs: EPOCHS, initialEpoch: 2 });
      expect(history.loss).toHaveLength(2);
      expectSameBits(await weightsOf(restored), expected, `restored on ${where}`);
      restored.dispose();
    }

    // Epoch 3 on the other backend, epoch 4 back here; and all of it on the other backend.
    const there = await ctxOf(other).restore(atTwo);
    await there.fit(dataOf(ctxOf(other)).x, dataOf(ctxOf(other)).y, { ...FIT, epochs: EPOCHS, initialEpoch: 2, checkpoint: { save: (bytes) => void saved.push(bytes) } });
    const back = await ctx.restore(saved.at(-2)!);
    await back.fit(x, y, { ...FIT, epochs: EPOCHS, initialEpoch: 3 });
    const tolerance = { rtol: 1e-4, atol: 1e-4 };
    expectAllClose({ shape: [expected.length], data: await weightsOf(there) }, { shape: [expected.length], data: expected }, tolerance, `finished on ${other}`);
    expectAllClose({ shape: [expected.length], data: await weightsOf(back) }, { shape: [expected.length], data: expected }, tolerance, `epoch 3 on ${other}, 4 on ${backend}`);
    for (const m of [straight, run, there, back]) m.dispose();
  });

  it('a checkpoint in the middle of an epoch resumes there: the shuffle drawn again, the batches done skipped', async () => {
    const ctx = ctxOf(backend);
    const { x, y } = dataOf(ctx);
    const make = () => MODELS['classifier']!(ctx, OPTIMIZERS['adam']!);
    const straight = make();
    await straight.fit(x, y, { ...FIT, epochs: EPOCHS });
    const expected = await weightsOf(straight);

    const saved: { bytes: Uint8Array; info: { epoch: number; step: number } }[] = [];
    const run = make();
    await run.fit(x, y, { ...FIT, epochs: EPOCHS, checkpoint: { everySteps: 3, save: (bytes, info) => void saved.push({ bytes, info }) } });
    // Step 12 ends epoch 2: that checkpoint waits for the epoch's end and resumes at epoch 3.
    expect(saved.map((s) => s.info)).toEqual([{ epoch: 0, step: 3 }, { epoch: 1, step: 6 }, { epoch: 2, step: 9 }, { epoch: 3, step: 12 }, { epoch: 3, step: 15 }]);
    for (const { bytes, info } of saved) {
      const restored = await ctx.restore(bytes);
      const history = await restored.fit(x, y, { ...FIT, epochs: EPOCHS, initialEpoch: info.epoch });
      expect(history.loss).toHaveLength(EPOCHS - info.epoch);
      expectSameBits(await weightsOf(restored), expected, `resumed at step ${info.step}`);
      restored.dispose();
    }
    const resumed = await ctx.restore(saved[1]!.bytes);
    await expect(resumed.fit(x, y, { ...FIT, batchSize: 32, epochs: EPOCHS, initialEpoch: 1 })).rejects.toThrow(
      new ValueError("fit: the model stands at batch 2 of epoch 1, but this run's epochs have 2 batches of 32: resume with the batchSize the checkpoint was made with"),
    );
    for (const m of [straight, run, resumed]) m.dispose();
  });

  it('a run stopped in the middle of an epoch goes on in place with initialEpoch', async () => {
    const ctx = ctxOf(backend);
    const { x, y } = dataOf(ctx);
    const make = () => MODELS['softmax regression']!(ctx, OPTIMIZERS['sgd nesterov']!);
    const straight = make();
    await straight.fit(x, y, { ...FIT, epochs: EPOCHS });
    const stopped = make();
    const stop = new AbortController();
    const onBatchEnd = ({ epoch, batch }: { epoch: number; batch: number }) => void (epoch === 1 && batch === 1 && stop.abort(new Error('stopped')));
    await expect(stopped.fit(x, y, { ...FIT, epochs: EPOCHS, signal: stop.signal, onBatchEnd })).rejects.toThrow('stopped');
    const history = await stopped.fit(x, y, { ...FIT, epochs: EPOCHS, initialEpoch: 1 });
    expect(history.loss).toHaveLength(EPOCHS - 1);
    expectSameBits(await weightsOf(stopped), await weightsOf(straight), 'resumed in place');
    straight.dispose();
    stopped.dispose();
  });

  it('fitDataset resumes bit for bit, its schedule counting on from the checkpoint', async () => {
    const ctx = ctxOf(backend);
    const xs = uniform(ROWS * FEATURES, 1);
    const ys = labels(ROWS, CLASSES, 2);
    const batches = Array.from({ length: ROWS / BATCH }, (_, b) => ({
      x: xs.subarray(b * BATCH * FEATURES, (b + 1) * BATCH * FEATURES),
      y: ys.subarray(b * BATCH, (b + 1) * BATCH),
    }));
    const options = { epochs: EPOCHS, learningRate: { type: 'cosine', totalSteps: 16 } } as const;
    const make = () => MODELS['classifier']!(ctx, OPTIMIZERS['rmsprop centered']!);
    const straight = make();
    await straight.fitDataset(batches, options);
    const expected = await weightsOf(straight);

    const saved: { bytes: Uint8Array; info: { epoch: number; step: number } }[] = [];
    const run = make();
    await run.fitDataset(batches, { ...options, checkpoint: { everySteps: 6, everyEpochs: 2, save: (bytes, info) => void saved.push({ bytes, info }) } });
    expect(saved.map((s) => s.info)).toEqual([{ epoch: 1, step: 6 }, { epoch: 2, step: 8 }, { epoch: 3, step: 12 }, { epoch: 4, step: 16 }]);
    const pulled: number[] = [];
    const counted = function* () {
      for (const [i, b] of batches.entries()) {
        pulled.push(i);
        yield b;
      }
    };
    for (const { bytes, info } of saved.slice(0, 3)) {
      pulled.length = 0;
      const restored = await ctx.restore(bytes);
      await restored.fitDataset(counted, { ...options, initialEpoch: info.epoch });
      expectSameBits(await weightsOf(restored), expected, `resumed at step ${info.step}`);
      expect(pulled).toHaveLength((EPOCHS - info.epoch) * batches.length);
      restored.dispose();
    }
    const elsewhere = await ctx.restore(saved[0]!.bytes);
    await expect(elsewhere.fitDataset(batches, { ...options, initialEpoch: 2 })).rejects.toThrow(
      new ValueError(
        "fitDataset: initialEpoch 2 with a learningRate schedule needs the model to stand at that epoch, but it stands at epoch 1 (step 6): a stream's steps per epoch are unknown, so the schedule's step there is too",
      ),
    );
    for (const m of [straight, run, elsewhere]) m.dispose();
  });
});

it.each(BACKENDS)("README's checkpoint recipe runs as written on %s, and ends where a straight run does", async (backend) => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const code = /<!-- tested: test\/checkpoint\.test\.ts[^>]*-->\n```js\n([\s\S]*?)```/.exec(readme)![1]!;
  const ctx = ctxOf(backend);
  const { x, y } = dataOf(ctx);
  const AsyncFunction = (async () => {}).constructor as new (...args: string[]) => (...values: unknown[]) => Promise<Model>;
  const restored = await new AsyncFunction('ctx', 'x', 'y', `${code}\nreturn restored;`)(ctx, x, y);
  const straight = ctx.classifier({ features: 8, classes: 3, hidden: [16], seed: 1, optimizer: { type: 'adam', learningRate: 1e-2 } });
  await straight.fit(x, y, { epochs: 8, batchSize: 16, learningRate: { type: 'cosine' } });
  expectSameBits(await weightsOf(restored), await weightsOf(straight), 'the README run');
  restored.dispose();
  straight.dispose();
});

describe('a bad checkpoint is refused before anything is made', () => {
  let ctx: Context;
  let good: Uint8Array;
  beforeAll(async () => {
    ctx = ctxOf('cpu');
    const model = MODELS['classifier']!(ctx, OPTIMIZERS['adam']!);
    await model.fit(dataOf(ctx).x, dataOf(ctx).y, { ...FIT, epochs: 1 });
    good = await model.checkpoint();
    model.dispose();
  });

  /** The file's header and tensors, to write again with a change. */
  function parts(bytes: Uint8Array): { metadata: Record<string, string>; tensors: NamedTensor[] } {
    const length = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length))) as Record<string, { shape: number[]; data_offsets: [number, number] }>;
    const { __metadata__: metadata, ...entries } = header;
    const tensors = Object.entries(entries).map(([name, { shape, data_offsets: [begin, end] }]) => ({
      name,
      shape,
      data: new Float32Array(bytes.slice(8 + length + begin, 8 + length + end).buffer),
    }));
    return { metadata: metadata as unknown as Record<string, string>, tensors };
  }

  function edited(edit: (p: { metadata: Record<string, string>; tensors: NamedTensor[] }) => void): Uint8Array {
    const p = parts(good);
    edit(p);
    return writeSafetensorsFile(p.tensors, p.metadata);
  }

  const editJson = (key: 'model' | 'training', change: (doc: Record<string, unknown>) => void) =>
    edited(({ metadata }) => {
      const doc = JSON.parse(metadata[key]!) as Record<string, unknown>;
      change(doc);
      metadata[key] = JSON.stringify(doc);
    });

  const cases: [string, () => Uint8Array, Error][] = [
    ['truncated', () => good.subarray(0, good.length - 10), new ShapeError("restore: tensor 'optimizer.layers.1.weight.v' ends at byte ")],
    ['shorter than its length field', () => good.subarray(0, 5), new ShapeError('restore: the file has 5 bytes, fewer than the 8 of its header length')],
    [
      'a header length past the end',
      () => {
        const bad = good.slice();
        new DataView(bad.buffer).setBigUint64(0, 2n ** 40n, true);
        return bad;
      },
      new ShapeError('restore: the header claims 1099511627776 bytes'),
    ],
    ['another format', () => edited(({ metadata }) => void (metadata['format'] = 'something-else')), new ValueError('restore: not a webgpu-softmax checkpoint: its __metadata__.format is "something-else"')],
    ['another version', () => edited(({ metadata }) => void (metadata['version'] = '2')), new ValueError('restore: the checkpoint\'s version is "2"; this version of webgpu-softmax reads version 1')],
    ['an unknown model kind', () => editJson('model', (m) => void (m['kind'] = 'transformer')), new ValueError("restore: the checkpoint's model kind is \"transformer\"; this version knows 'softmax-regression' and 'classifier'")],
    ['a missing tensor', () => edited((p) => void (p.tensors = p.tensors.filter((t) => t.name !== 'optimizer.layers.0.bias.m'))), new ShapeError("restore: tensor 'optimizer.layers.0.bias.m' [6] is missing (the checkpoint's options call for it)")],
    [
      'a tensor of the wrong shape',
      () => edited((p) => void (p.tensors = p.tensors.map((t) => (t.name === 'layers.1.bias' ? { ...t, shape: [4], data: new Float32Array(4) } : t)))),
      new ShapeError("restore: tensor 'layers.1.bias' has shape [4]; the checkpoint's options call for [3]"),
    ],
    ['an extra tensor', () => edited((p) => void p.tensors.push({ name: 'layers.2.weight', shape: [1], data: new Float32Array(1) })), new ShapeError("restore: unexpected tensor(s) 'layers.2.weight'")],
    ['a NaN moment', () => edited((p) => void p.tensors.find((t) => t.name === 'optimizer.layers.0.weight.v')!.data.fill(NaN, 7)), new ValueError("restore: tensor 'optimizer.layers.0.weight.v' holds NaN at index 7")],
    ['a bad option', () => editJson('model', (m) => void (m['optimizer'] = { type: 'adam', learningRate: 0.05, beta1: 2 })), new ValueError("restore: the checkpoint's options: optimizer.beta1 must be in [0, 1), got 2")],
    ['a bad step count', () => editJson('training', (t) => void (t['optimizerSteps'] = -1)), new ValueError("restore: the checkpoint's training.optimizerSteps is -1; it must be an integer in [0, ")],
    ['empty', () => good.subarray(0, 0), new ShapeError('restore: the file has 0 bytes')],
  ];

  it.each(cases)('%s', async (_name, make, error) => {
    const before = ctx.memory();
    const attempt = ctx.restore(make());
    await expect(attempt).rejects.toThrow(error.constructor as typeof Error);
    await expect(attempt).rejects.toThrow(error.message);
    expect(ctx.memory()).toEqual(before);
  });

  it('a wrong dtype and a weights-only export', async () => {
    const length = Number(new DataView(good.buffer).getBigUint64(0, true));
    const header = new TextDecoder().decode(good.subarray(8, 8 + length)).replace('"dtype":"F32"', '"dtype":"F16"');
    const bad = good.slice();
    bad.set(new TextEncoder().encode(header), 8);
    await expect(ctx.restore(bad)).rejects.toThrow(new DTypeError(`restore: tensor '${/"([^"]+)":\{"dtype":"F16"/.exec(header)![1]}' has dtype "F16"; only F32 (float32) is supported`));
    const model = MODELS['classifier']!(ctx, OPTIMIZERS['adam']!);
    const exported = await model.export('safetensors');
    await expect(ctx.restore(exported)).rejects.toThrow('restore: not a webgpu-softmax checkpoint: its __metadata__.format is undefined, not \'webgpu-softmax/checkpoint\' (a safetensors export of the weights loads with ctx.importClassifier)');
    model.dispose();
  });

  it('options a run cannot use are refused', async () => {
    const model = await ctx.restore(good);
    const { x, y } = dataOf(ctx);
    await expect(model.fit(x, y, { epochs: 2, initialEpoch: 3 })).rejects.toThrow(new ValueError('fit: initialEpoch must be an integer in [0, epochs] = [0, 2], got 3'));
    await expect(model.fit(x, y, { checkpoint: { save: 'file.ckpt' as never } })).rejects.toThrow(new ValueError('fit: checkpoint.save must be a function (bytes, { epoch, step }) => void | Promise<void>, got string'));
    await expect(model.fit(x, y, { checkpoint: { everySteps: 0, save: () => {} } })).rejects.toThrow(new ValueError('fit: checkpoint.everySteps must be a positive integer, got 0'));
    model.dispose();
  });
});
