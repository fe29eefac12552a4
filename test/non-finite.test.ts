import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NonFiniteError, ValueError, type Batch, type Context, type FitOptions, type LayerWeights, type OptimizerOptions, type Tensor } from '../src/index.js';
import { internals } from '../src/internal.js';
import { BACKENDS, openContext } from './helpers/backends.js';
import { labels, uniform } from './helpers/random.js';

// The non-finite guard (src/train/non-finite.ts): a step whose loss or gradients hold NaN or
// Infinity updates nothing. Every check compares weights bit for bit with a model that trained
// on exactly the batches that should have been applied.

const [FEATURES, CLASSES, ROWS, BATCH] = [5, 3, 40, 8];
const KINDS = ['regression', 'classifier'] as const;
type Kind = (typeof KINDS)[number];

/** The rows of `a` (`width` wide) whose index passes `keep`. */
function rowsOf<T extends Float32Array | Int32Array>(a: T, width: number, keep: (row: number) => boolean): T {
  const out: number[] = [];
  for (let r = 0; r < a.length / width; r++) if (keep(r)) out.push(...a.subarray(r * width, (r + 1) * width));
  return (a instanceof Int32Array ? Int32Array.from(out) : Float32Array.from(out)) as T;
}

/** Probability targets: one-hot rows of `ids`, lightly smoothed. */
function soft(ids: Int32Array): Float32Array {
  const out = new Float32Array(ids.length * CLASSES).fill(0.05);
  ids.forEach((c, r) => (out[r * CLASSES + c] = 0.9));
  return out;
}

describe.each(BACKENDS)('the non-finite guard on %s', (backend) => {
  let ctx: Context;
  beforeAll(async () => {
    ctx = await openContext(backend);
  });
  afterAll(() => ctx.destroy());

  const make = (kind: Kind, optimizer: OptimizerOptions = { type: 'adam', learningRate: 0.05 }) =>
    kind === 'regression'
      ? ctx.softmaxRegression({ features: FEATURES, classes: CLASSES, init: 'glorot', seed: 3, optimizer })
      : ctx.classifier({ features: FEATURES, classes: CLASSES, hidden: [6], seed: 3, optimizer });
  const weightsOf = async (model: ReturnType<typeof make>): Promise<LayerWeights[]> => {
    const w = await model.getWeights();
    return Array.isArray(w) ? w : [{ weight: (w as { weights: Float32Array }).weights, bias: w.bias }];
  };
  const x0 = uniform(ROWS * FEATURES, 1, 2);
  const y0 = labels(ROWS, CLASSES, 2);

  /** A reference trained on `rows` rows of the data (in order) for one epoch, then `more` clean epochs. */
  async function reference(kind: Kind, rows: number, x: Float32Array, y: Float32Array | Int32Array, optimizer?: OptimizerOptions) {
    const model = make(kind, optimizer);
    const probs = y instanceof Float32Array;
    const xt = ctx.tensor(x.slice(0, rows * FEATURES), [rows, FEATURES]);
    const yt = probs ? ctx.tensor(y.slice(0, rows * CLASSES), [rows, CLASSES]) : ctx.tensor((y as Int32Array).slice(0, rows));
    if (rows > 0) await model.fit(xt, yt, { batchSize: BATCH, shuffle: false });
    xt.dispose();
    yt.dispose();
    return model;
  }

  for (const kind of KINDS) {
    it.each([
      { what: 'NaN in x', row: 19, input: 'x' as const, value: NaN },
      { what: 'Infinity in x', row: 33, input: 'x' as const, value: Infinity },
      { what: 'NaN in probability targets', row: 5, input: 'y' as const, value: NaN },
      { what: '-Infinity in probability targets', row: 26, input: 'y' as const, value: -Infinity },
    ])(`${kind}: $what rejects with a NonFiniteError naming epoch, batch and row, the weights as before that batch`, async ({ row, input, value }) => {
      const x = x0.slice();
      const y = soft(y0);
      if (input === 'x') x[row * FEATURES + 2] = value;
      else y[row * CLASSES + 1] = value;
      const model = make(kind);
      const xt = ctx.tensor(x, [ROWS, FEATURES]);
      const yt = ctx.tensor(y, [ROWS, CLASSES]);
      const error = await model.fit(xt, yt, { epochs: 2, batchSize: BATCH, shuffle: false }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NonFiniteError);
      const batch = Math.floor(row / BATCH);
      expect(error).toMatchObject({ epoch: 0, batch, row });
      expect((error as Error).message).toBe(
        `fit: the loss or the gradients of batch ${batch} of epoch 0 are not finite (row ${row} of ${input === 'x' ? 'x' : 'the targets'} holds NaN or Infinity); ` +
          "nothing of that batch or after it was applied, so the model holds the weights from before it. Pass nonFinite: 'skip' to train on without such batches.",
      );
      const expected = await reference(kind, batch * BATCH, x, y);
      expect(await weightsOf(model)).toEqual(await weightsOf(expected));
      // The optimizer's state is as before the batch too (Adam's moments and step count): training on goes on alike.
      const clean = [ctx.tensor(x0, [ROWS, FEATURES]), ctx.tensor(y0)] as const;
      await model.fit(...clean, { batchSize: BATCH, shuffle: false });
      await expected.fit(...clean, { batchSize: BATCH, shuffle: false });
      expect(await weightsOf(model)).toEqual(await weightsOf(expected));
      for (const t of [xt, yt, ...clean, model, expected]) t.dispose();
    });

    it(`${kind}: with shuffling, the row is the index into x`, async () => {
      const x = x0.slice();
      x[29 * FEATURES] = NaN;
      const model = make(kind);
      const xt = ctx.tensor(x, [ROWS, FEATURES]);
      const yt = ctx.tensor(y0);
      const error = (await model.fit(xt, yt, { epochs: 3, batchSize: BATCH }).catch((e: unknown) => e)) as NonFiniteError;
      expect(error).toBeInstanceOf(NonFiniteError);
      expect(error.epoch).toBe(0);
      expect(error.row).toBe(29);
      for (const t of [xt, yt, model]) t.dispose();
    });

    it(`${kind}: an overflowing learning rate stops at the first batch whose loss is not finite, no row named`, async () => {
      const optimizer: OptimizerOptions = { type: 'adam', learningRate: 1e38 };
      const model = make(kind, optimizer);
      const xt = ctx.tensor(x0, [ROWS, FEATURES]);
      const yt = ctx.tensor(y0);
      const error = (await model.fit(xt, yt, { epochs: 2, batchSize: BATCH, shuffle: false }).catch((e: unknown) => e)) as NonFiniteError;
      expect(error).toBeInstanceOf(NonFiniteError);
      expect(error.row).toBeNull();
      expect(error.epoch).toBe(0);
      expect(error.batch).toBeGreaterThanOrEqual(1);
      const expected = await reference(kind, error.batch * BATCH, x0, y0, optimizer);
      const weights = await weightsOf(model);
      expect(weights).toEqual(await weightsOf(expected));
      // The guard checks losses and gradients, not updates (as PyTorch's GradScaler): Adam's first
      // step size, 1e38 / (1 - 0.9), overflows float32, so the weights it left are infinite, and
      // the next batch, whose loss is NaN, is the one named.
      expect(weights.some((l) => !l.weight.every(Number.isFinite))).toBe(true);
      for (const t of [xt, yt, model, expected]) t.dispose();
    });

    it(`${kind}: nonFinite 'skip' skips bad batches, counts them per epoch, and trains as if they were not there`, async () => {
      // SGD with momentum and a constant rate: a skipped step leaves no trace (Adam's step count would).
      const optimizer: OptimizerOptions = { type: 'sgd', learningRate: 0.2, momentum: 0.9 };
      const x = x0.slice();
      x[19 * FEATURES + 1] = NaN;
      x[38 * FEATURES + 4] = -Infinity;
      const model = make(kind, optimizer);
      const xt = ctx.tensor(x, [ROWS, FEATURES]);
      const yt = ctx.tensor(y0);
      const options: FitOptions = { epochs: 3, batchSize: BATCH, shuffle: false };
      const history = await model.fit(xt, yt, { ...options, nonFinite: 'skip' });
      expect(history.skippedBatches).toEqual([2, 2, 2]);
      const bad = (r: number) => Math.floor(r / BATCH) === 2 || Math.floor(r / BATCH) === 4;
      const kept = [ctx.tensor(rowsOf(x, FEATURES, (r) => !bad(r)), [ROWS - 2 * BATCH, FEATURES]), ctx.tensor(rowsOf(y0, 1, (r) => !bad(r)))] as const;
      const expected = make(kind, optimizer);
      const plain = await expected.fit(...kept, options);
      expect(await weightsOf(model)).toEqual(await weightsOf(expected));
      // The epoch's figures are over the batches applied.
      expect(history.loss).toEqual(plain.loss);
      expect(history.accuracy).toEqual(plain.accuracy);
      expect(plain.skippedBatches).toEqual([0, 0, 0]);
      for (const t of [xt, yt, ...kept, model, expected]) t.dispose();
    });

    it(`${kind}: fitDataset under the guard: the error names the batch (and its row, for an array of batches); 'skip' counts`, async () => {
      const batches: Batch[] = Array.from({ length: ROWS / BATCH }, (_, b) => ({
        x: x0.slice(b * BATCH * FEATURES, (b + 1) * BATCH * FEATURES),
        y: y0.slice(b * BATCH, (b + 1) * BATCH),
      }));
      const poisoned = batches.map((b, i) => (i === 3 ? { x: Object.assign((b.x as Float32Array).slice(), { [6 * FEATURES]: NaN }), y: b.y } : b));
      const model = make(kind);
      const error = (await model.fitDataset(poisoned, { epochs: 2 }).catch((e: unknown) => e)) as NonFiniteError;
      expect(error).toBeInstanceOf(NonFiniteError);
      expect(error).toMatchObject({ epoch: 0, batch: 3, row: 6 });
      expect(error.message).toMatch(/^fitDataset: the loss or the gradients of batch 3 of epoch 0 are not finite \(row 6 of x holds NaN or Infinity\)/);
      const expected = make(kind);
      await expected.fitDataset(batches.slice(0, 3));
      expect(await weightsOf(model)).toEqual(await weightsOf(expected));

      // A generator function: the bad batch comes in the second epoch; its row cannot be found again.
      const later = make(kind);
      let epoch = 0;
      const source = function* () {
        const e = epoch++;
        yield* e === 1 ? poisoned : batches;
      };
      const second = (await later.fitDataset(source, { epochs: 3 }).catch((e: unknown) => e)) as NonFiniteError;
      expect(second).toMatchObject({ epoch: 1, batch: 3, row: null });
      const reference2 = make(kind);
      await reference2.fitDataset([...batches, ...batches.slice(0, 3)]);
      expect(await weightsOf(later)).toEqual(await weightsOf(reference2));

      const skipping = make(kind);
      const history = await skipping.fitDataset(poisoned, { epochs: 2, nonFinite: 'skip' });
      expect(history.skippedBatches).toEqual([1, 1]);
      for (const t of [model, expected, later, reference2, skipping]) t.dispose();
    });
  }

  it('guards the fused step of a head too wide for whole logits (linearCrossEntropy), in both modes', async () => {
    // A batch's logits (8 x 3000 floats, 96 KB) above the backend's tensor limit, lowered to
    // 64 KiB here, send the step through linearCrossEntropy, as 100 000 classes would.
    const backendOf = ctx[internals].backend();
    const limit = Object.getOwnPropertyDescriptor(backendOf, 'tensorByteLimit')!;
    Object.defineProperty(backendOf, 'tensorByteLimit', { value: { bytes: 64 * 1024, name: 'a test limit' }, configurable: true });
    const fused = backendOf.linearCrossEntropy;
    let fusedSteps = 0;
    backendOf.linearCrossEntropy = (...args) => (fusedSteps++, fused.apply(backendOf, args));
    try {
      const [features, classes, rows] = [2, 3000, 8];
      const xs = uniform(3 * rows * features, 7);
      xs[(rows + 5) * features] = NaN;
      const ys = Int32Array.from({ length: 3 * rows }, (_, i) => (i * 797) % classes);
      const wide = () => ctx.softmaxRegression({ features, classes, init: 'glorot', optimizer: { type: 'sgd', learningRate: 0.5, momentum: 0.5 } });
      const xt = ctx.tensor(xs, [3 * rows, features]);
      const yt = ctx.tensor(ys);
      const options: FitOptions = { batchSize: rows, shuffle: false };
      const failing = wide();
      await expect(failing.fit(xt, yt, options)).rejects.toMatchObject({ epoch: 0, batch: 1, row: rows + 5 });
      const skipping = wide();
      const history = await skipping.fit(xt, yt, { ...options, nonFinite: 'skip' });
      expect(history.skippedBatches).toEqual([1]);
      const good = (r: number) => Math.floor(r / rows) !== 1;
      const kept = [ctx.tensor(rowsOf(xs, features, good), [2 * rows, features]), ctx.tensor(rowsOf(ys, 1, good))] as const;
      const first = [ctx.tensor(xs.slice(0, rows * features), [rows, features]), ctx.tensor(ys.slice(0, rows))] as const;
      const [expectedFailing, expectedSkipping] = [wide(), wide()];
      await expectedFailing.fit(...first, options);
      const plain = await expectedSkipping.fit(...kept, options);
      expect(await weightsOf(failing)).toEqual(await weightsOf(expectedFailing));
      expect(await weightsOf(skipping)).toEqual(await weightsOf(expectedSkipping));
      expect(history.loss).toEqual(plain.loss);
      // 3 + 3 + 1 + 2 steps (the failing epoch runs to its end, updating nothing), every one
      // fused, and on WebGPU, before each of the four fits, the step that ready() rehearses.
      expect(fusedSteps).toBe(9 + (backend === 'webgpu' ? 4 : 0));
      for (const t of [xt, yt, ...kept, ...first, failing, skipping, expectedFailing, expectedSkipping]) t.dispose();
    } finally {
      Object.defineProperty(backendOf, 'tensorByteLimit', limit);
      backendOf.linearCrossEntropy = fused;
    }
  });

  it('the check finds one bad value wherever it lies among five arrays, and marks each step once', async () => {
    const access = ctx[internals];
    const sizes = [1, 1000, 7, 1, 517];
    for (const [array, at, value] of [[0, 0, NaN], [1, 998, Infinity], [2, 6, -Infinity], [3, 0, NaN], [4, 513, Infinity], [4, 516, NaN], [-1, 0, 0]] as const) {
      const values = sizes.map((n, k) => {
        const data = uniform(n, k + 1, 3e38);
        if (k === array) data[at] = value;
        return ctx.tensor(data);
      });
      const words = ctx.tensor(new Int32Array([0, -1, 0, 0]));
      const storage = (t: Tensor) => access.storage(t, 'test', 'values');
      // Step 4 checked twice (one mark), then step 5.
      for (const step of [4, 4, 5]) access.backend().checkFinite(values.map(storage), { words: storage(words), step, sticky: true });
      expect([...(await words.read())]).toEqual(array < 0 ? [0, -1, 0, 0] : [6, 4, 2, 0]);
      for (const t of [...values, words]) t.dispose();
    }
  });

  it('nonFinite takes only error or skip, checked before any work', async () => {
    const model = make('regression');
    const xt = ctx.tensor(x0, [ROWS, FEATURES]);
    const yt = ctx.tensor(y0);
    const before = await weightsOf(model);
    await expect(model.fit(xt, yt, { nonFinite: 'skp' as 'skip' })).rejects.toThrow(new ValueError("fit: nonFinite must be 'error' or 'skip', got 'skp'"));
    await expect(model.fitDataset([{ x: x0, y: y0 }], { nonFinite: 1 as unknown as 'skip' })).rejects.toThrow(new ValueError("fitDataset: nonFinite must be 'error' or 'skip', got number"));
    expect(await weightsOf(model)).toEqual(before);
    for (const t of [xt, yt, model]) t.dispose();
  });

  it.runIf(backend === 'webgpu')('reads nothing back per batch: the guard comes back with the epoch figures', async () => {
    const device = ctx.device!;
    // MAP_READ | COPY_DST: Node has no GPUBufferUsage global.
    const probe = device.createBuffer({ size: 16, usage: 1 | 8 });
    const proto = Object.getPrototypeOf(probe) as GPUBuffer;
    probe.destroy();
    const mapAsync = proto.mapAsync;
    let maps = 0;
    proto.mapAsync = function (this: GPUBuffer, ...args: Parameters<GPUBuffer['mapAsync']>) {
      maps++;
      return mapAsync.apply(this, args);
    };
    try {
      const xt = ctx.tensor(x0, [ROWS, FEATURES]);
      const yt: Tensor = ctx.tensor(y0);
      const count = async (batchSize: number, nonFinite: 'error' | 'skip') => {
        const model = make('classifier');
        await model.fit(xt, yt, { epochs: 2, batchSize, nonFinite });
        await model.getWeights();
        maps = 0;
        await model.fit(xt, yt, { epochs: 2, batchSize, nonFinite });
        model.dispose();
        return maps;
      };
      // 5 or 20 batches an epoch: the same readbacks (the epoch figures, the guard, the weights at the end).
      const few = await count(8, 'error');
      expect(few).toBeGreaterThan(0);
      expect(await count(2, 'error')).toBe(few);
      expect(await count(2, 'skip')).toBe(few);
      xt.dispose();
      yt.dispose();
    } finally {
      proto.mapAsync = mapAsync;
    }
  });
});
