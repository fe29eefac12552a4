import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContext, DTypeError, ValueError, type Context, type Tensor } from '../src/index.js';
import { fromHalves, halfBits, halfTable, toHalves } from '../src/float16.js';
import { internals } from '../src/internal.js';
import { BufferUsage } from '../src/webgpu/flags.js';
import { BACKENDS, nodeDevice, openContext, type BackendName } from './helpers/backends.js';
import { compare } from './helpers/compare.js';
import { labels, uniform } from './helpers/random.js';

// float16 is a storage type (issue 14 §3): tensors hold IEEE halves in half the bytes, and the
// ops that take them compute on the exact float32 value of each half. So every op on a float16
// input must equal, to the bit, the same op on a float32 tensor of the rounded values: PyTorch's
// `f(x.half().float())`. The rounding itself is checked against numpy's cast.

type F32 = Tensor<'float32'>;

/** The float32 value of every half, in bit order: all 65 536 of them. */
const ALL_HALVES = Uint16Array.from({ length: 65536 }, (_, i) => i);

/** Bits of a float32 array, so NaN payloads, signed zeros and subnormals compare exactly. */
const bitsOf = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

/**
 * The first few halves whose float32 value is not `table`'s to the bit; a NaN only needs to stay
 * a NaN, since engines quiet a signalling NaN's payload when a number passes through them, and
 * when is up to the JIT (the reference's table once came back with 0x7f802000 as 0x7fc02000).
 */
function mismatches(values: Float32Array, table: Float32Array): string[] {
  const wrong: string[] = [];
  for (let h = 0; h < 65536; h++) {
    const ok = Number.isNaN(table[h]) ? Number.isNaN(values[h]) : bitsOf(values)[h] === bitsOf(table)[h];
    if (!ok && wrong.length < 5) wrong.push(`0x${h.toString(16)}: ${values[h]}, want ${table[h]}`);
  }
  return wrong;
}

/** `values` as float32 with every element on the half grid: what `x.half().float()` gives. */
const rounded = (values: Float32Array) => fromHalves(toHalves(values));

describe('float16 on the host: numpy rounding, every half exactly', () => {
  it('rounds float32 to the nearest half as numpy does (ties to even, overflow, subnormals, NaN)', () => {
    const table = JSON.parse(readFileSync(new URL('./fixtures/float16.json', import.meta.url), 'utf8')) as { float32Bits: number[]; halfBits: number[]; nan: { float32Bits: number[]; halfBits: number[] } };
    const f32 = new Float32Array(Uint32Array.from(table.float32Bits).buffer);
    const got = toHalves(f32);
    const wrong = table.halfBits.flatMap((h, i) => (got[i] === h ? [] : [`${f32[i]} (0x${table.float32Bits[i]!.toString(16)}): 0x${got[i]!.toString(16)}, numpy 0x${h.toString(16)}`]));
    expect(wrong.slice(0, 5)).toEqual([]);
    expect(table.halfBits.length).toBeGreaterThan(6000);
    expect(Array.from(toHalves(new Float32Array(Uint32Array.from(table.nan.float32Bits).buffer)))).toEqual(table.nan.halfBits);
  });

  it('knows the edges by heart', () => {
    const cases: [number, number][] = [
      [1, 0x3c00], [-2, 0xc000], [65504, 0x7bff], [65519.99, 0x7bff], [65520, 0x7c00], [1e9, 0x7c00], [-Infinity, 0xfc00],
      [2 ** -24, 0x0001], [2 ** -25, 0x0000], [2 ** -25 * 1.0000001, 0x0001], [3 * 2 ** -25, 0x0002], [2 ** -14, 0x0400],
      [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02], [0.1, 0x2e66], [1 / 3, 0x3555], [-0, 0x8000], [NaN, 0x7e00],
    ];
    for (const [value, bits] of cases) expect(halfBits(value), String(value)).toBe(bits);
  });

  it('round-trips all 65 536 halves through float32 and back', () => {
    const values = fromHalves(ALL_HALVES);
    const back = toHalves(values);
    for (let h = 0; h < 65536; h++) {
      const nan = (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
      if (nan) {
        expect(Number.isNaN(values[h]), `0x${h.toString(16)}`).toBe(true);
        expect(back[h]! & 0x8000).toBe(h & 0x8000);
      } else if (back[h] !== h) {
        expect.fail(`half 0x${h.toString(16)} = ${values[h]} came back as 0x${back[h]!.toString(16)}`);
      }
    }
    expect(values[0x0001]).toBe(2 ** -24);
    expect(values[0x03ff]).toBe(1023 * 2 ** -24);
    expect(values[0x7bff]).toBe(65504);
    expect(Object.is(values[0x8000], -0)).toBe(true);
  });
});

describe.each(BACKENDS)('float16 tensors on %s', (name: BackendName) => {
  let ctx: Context;
  let reference: Context;
  beforeAll(async () => {
    ctx = await openContext(name);
    reference = await createContext({ backend: 'cpu', cpu: 'reference' });
  });
  afterAll(() => {
    ctx.destroy();
    reference.destroy();
  });

  it('stores all 65 536 halves and reads back their bits and exact float32 values, in half the bytes', async () => {
    const before = ctx.memory().bytes;
    const x = ctx.tensor(ALL_HALVES, [256, 256], 'float16');
    const f16Bytes = ctx.memory().bytes - before;
    const x32 = ctx.tensor(new Float32Array(65536), [256, 256]);
    const f32Bytes = ctx.memory().bytes - before - f16Bytes;
    expect(f16Bytes).toBe(f32Bytes / 2);
    expect(x.dtype).toBe('float16');
    expect(await x.read({ dtype: 'float16' })).toEqual(ALL_HALVES);
    expect(mismatches(await x.read(), halfTable())).toEqual([]);
    x.dispose();
    x32.dispose();
  });

  it('widens all 65 536 halves exactly in its kernels (the gather a batch of float16 x goes through)', async () => {
    const x = ctx.tensor(ALL_HALVES, [65536], 'float16');
    const access = ctx[internals];
    const widened = access.backend().gatherRows(access.storage(x, 'test', 'x'), null, { rows: 1, cols: 65536, start: 0, widen: true });
    const got = access.adopt(widened, [65536], 'float32');
    expect(mismatches(await got.read(), halfTable())).toEqual([]);
    x.dispose();
    got.dispose();
  });

  it('rounds float32 data to nearest even on upload, with odd element counts', async () => {
    const data = Float32Array.from([0.1, 1 / 3, 65520, -70000, 2 ** -25, 3 * 2 ** -25, NaN, -0, 1 + 2 ** -11]);
    const x = ctx.tensor(data, [3, 3], 'float16');
    expect(await x.read({ dtype: 'float16' })).toEqual(toHalves(data));
    expect(bitsOf(await x.read())).toEqual(bitsOf(rounded(data)));
    // A float32 tensor reads as halves too: rounded on the way out.
    expect(await ctx.tensor(data, [9]).read({ dtype: 'float16' })).toEqual(toHalves(data));
    const one = ctx.tensor(new Uint16Array([0x3555]), [1, 1], 'float16');
    expect(await one.read()).toEqual(Float32Array.of(fromHalves(Uint16Array.of(0x3555))[0]!));
    // Empty ones too, through an op.
    const empty = ctx.tensor(new Float32Array(0), [0, 3], 'float16');
    expect(await empty.read()).toEqual(new Float32Array(0));
    expect(await empty.read({ dtype: 'float16' })).toEqual(new Uint16Array(0));
    const p = ctx.softmax(empty);
    expect(p.shape).toEqual([0, 3]);
    expect(await p.read()).toEqual(new Float32Array(0));
    for (const t of [x, one, empty, p]) t.dispose();
  });

  /** The op on float16 inputs, and on float32 tensors of the rounded values, here and on the float64 reference. */
  async function againstRounded(
    op: (c: Context, inputs: Tensor[]) => F32 | Record<string, F32 | null>,
    inputs: readonly { data: Float32Array; shape: number[]; half: boolean }[],
    tolerance = { rtol: 1e-4, atol: 1e-5 },
  ): Promise<void> {
    const on = (c: Context, half: boolean) =>
      inputs.map((i) => (half && i.half ? c.tensor(i.data, i.shape, 'float16') : c.tensor(i.half ? rounded(i.data) : i.data, i.shape)));
    const outputs = async (c: Context, half: boolean) => {
      const made = on(c, half);
      const r = op(c, made);
      const all = r instanceof Object && 'shape' in r ? { out: r as F32 } : (r as Record<string, F32 | null>);
      const read: Record<string, Float32Array> = {};
      for (const [k, t] of Object.entries(all)) if (t !== null) read[k] = await t.read();
      for (const t of [...made, ...Object.values(all)]) t?.dispose();
      return read;
    };
    const half = await outputs(ctx, true);
    const full = await outputs(ctx, false);
    const oracle = await outputs(reference, false);
    for (const key of Object.keys(full)) {
      // The same kernels on the same float32 values: equal to the bit.
      expect(bitsOf(half[key]!), key).toEqual(bitsOf(full[key]!));
      const c = compare({ shape: [oracle[key]!.length], data: half[key]! }, { shape: [oracle[key]!.length], data: oracle[key]! }, tolerance);
      expect(c.failures, key).toEqual([]);
    }
  }

  const input = (rows: number, cols: number, seed: number, half = true, scale = 2) => ({ data: uniform(rows * cols, seed, scale), shape: [rows, cols], half });

  it('matmul takes float16 operands (odd shapes, transposes, a batch), giving float32', async () => {
    await againstRounded((c, [a, b]) => c.matmul(a as F32, b as F32), [input(7, 13, 1), input(13, 5, 2, false)]);
    await againstRounded((c, [a, b, bias]) => c.matmul(a as F32, b as F32, { transposeB: true, bias: bias as F32 }), [input(9, 3, 3), input(11, 3, 4), { data: uniform(11, 5), shape: [11], half: true }]);
    await againstRounded((c, [a, b]) => c.matmul(a as F32, b as F32, { transposeA: true }), [input(33, 65, 6, false), input(33, 17, 7)]);
    await againstRounded((c, [a, b]) => c.matmul(a as F32, b as F32), [{ data: uniform(3 * 5 * 7, 8), shape: [3, 5, 7], half: true }, input(7, 130, 9)]);
  });

  it('softmax and logSoftmax take float16 logits, rows of odd lengths', async () => {
    for (const [rows, cols] of [[5, 7], [3, 1], [2, 1031]] as const) {
      await againstRounded((c, [z]) => c.softmax(z as F32), [input(rows, cols, rows * cols, true, 8)]);
      await againstRounded((c, [z]) => c.logSoftmax(z as F32), [input(rows, cols, rows + cols, true, 8)]);
    }
  });

  it('crossEntropy(WithGrad) takes float16 logits, with index and probability targets', async () => {
    for (const [rows, classes] of [[9, 5], [4, 131]] as const) {
      const ids = labels(rows, classes, rows);
      await againstRounded((c, [z]) => c.crossEntropyWithGrad(z as F32, c.tensor(ids), { labelSmoothing: 0.1 }), [input(rows, classes, 10, true, 6)]);
      await againstRounded((c, [z]) => c.crossEntropy(z as F32, c.tensor(ids), { reduction: 'none' }), [input(rows, classes, 11, true, 6)]);
      const probs = uniform(rows * classes, 12).map(Math.abs);
      await againstRounded((c, [z]) => c.crossEntropyWithGrad(z as F32, c.tensor(probs, [rows, classes])), [input(rows, classes, 13, true, 6)]);
    }
  });

  it('linearCrossEntropy(WithGrad) takes float16 x and weight, in one chunk and in many', async () => {
    const [rows, features, classes] = [37, 13, 7];
    const ids = labels(rows, classes, 14);
    const bias = uniform(classes, 15);
    await againstRounded(
      (c, [x, w]) => c.linearCrossEntropyWithGrad(x as F32, w as F32, c.tensor(ids), { bias: c.tensor(bias), chunkRows: 8 }),
      [input(rows, features, 16), input(features, classes, 17, false)],
    );
    await againstRounded(
      (c, [x, w]) => c.linearCrossEntropyWithGrad(x as F32, w as F32, c.tensor(ids), { transposeWeight: true, reduction: 'sum' }),
      [input(rows, features, 18), input(classes, features, 19)],
    );
    await againstRounded((c, [x, w]) => c.linearCrossEntropy(x as F32, w as F32, c.tensor(ids)), [input(rows, features, 20), input(features, classes, 21, false)]);
  });

  it('fit, evaluate and predict on float16 x train exactly as on the float32 rounded x, in half the memory for x', async () => {
    const [rows, features, classes] = [203, 33, 5];
    const raw = uniform(rows * features, 22, 3);
    const y = ctx.tensor(labels(rows, classes, 23));
    const options = { features, classes, seed: 7, optimizer: { type: 'adam', learningRate: 0.02 } } as const;
    const x16 = ctx.tensor(raw, [rows, features], 'float16');
    const x32 = ctx.tensor(rounded(raw), [rows, features]);
    const fitOptions = { epochs: 2, batchSize: 16, validationSplit: 0.1 };
    const on16 = ctx.classifier({ ...options, hidden: [6] });
    const on32 = ctx.classifier({ ...options, hidden: [6] });
    const h16 = await on16.fit(x16, y, fitOptions);
    const h32 = await on32.fit(x32, y, fitOptions);
    expect(h16).toEqual(h32);
    const [w16, w32] = [await on16.getWeights(), await on32.getWeights()];
    expect(w16).toEqual(w32);
    expect(await on16.evaluate(x16, y)).toEqual(await on32.evaluate(x32, y));
    expect(bitsOf(await on16.predict(x16).read())).toEqual(bitsOf(await on32.predict(x32).read()));
    const top16 = on16.predict(x16, { topK: 2 });
    const top32 = on32.predict(x32, { topK: 2 });
    expect(await top16.indices.read()).toEqual(await top32.indices.read());
    expect(await top16.values.read()).toEqual(await top32.values.read());
    // trainStep and fitDataset take float16 batches too.
    const s16 = ctx.softmaxRegression({ ...options });
    const s32 = ctx.softmaxRegression({ ...options });
    expect(await s16.trainStep(x16, y).read()).toEqual(await s32.trainStep(x32, y).read());
    const batches = (x: F32 | Tensor<'float16'>) => [{ x, y }];
    await s16.fitDataset(batches(x16), { epochs: 2, validationData: [x16, y] });
    await s32.fitDataset(batches(x32), { epochs: 2, validationData: [x32, y] });
    expect(await s16.getWeights()).toEqual(await s32.getWeights());
    for (const t of [x16, x32, y, top16.indices, top16.values, top32.indices, top32.values]) t.dispose();
    for (const m of [on16, on32, s16, s32]) m.dispose();
  });

  it('fit holds float16 x in half the bytes: peakBytes about halves where x dominates', async () => {
    const [rows, features, classes] = [4096, 128, 4];
    const raw = uniform(rows * features, 26);
    // A context each: on WebGPU the peak counts pooled buffers, which one run would leave the other.
    const peak = async (dtype: 'float32' | 'float16') => {
      const fresh = await openContext(name);
      const y = fresh.tensor(labels(rows, classes, 27));
      const model = fresh.softmaxRegression({ features, classes, seed: 1 });
      const x = dtype === 'float16' ? fresh.tensor(raw, [rows, features], 'float16') : fresh.tensor(raw, [rows, features]);
      await model.fit(x, y, { epochs: 1, batchSize: 256 });
      const bytes = fresh.memory().peakBytes;
      fresh.destroy();
      return bytes;
    };
    const [p32, p16] = [await peak('float32'), await peak('float16')];
    // x is 2 MiB as float32; the rest (a batch, the labels, the model) is small beside it.
    expect(p16 / p32).toBeLessThan(0.6);
    expect(p16 / p32).toBeGreaterThan(0.45);
  });

  it('refuses float16 where an op computes only on float32, naming the op and the argument', () => {
    const z16 = ctx.tensor(new Float32Array(6), [2, 3], 'float16');
    const z = ctx.tensor(new Float32Array(6), [2, 3]);
    const y = ctx.tensor(new Int32Array([0, 2]));
    const takers = /float16 is a storage type for inputs, taken by matmul/;
    expect(() => ctx.softmaxBackward(z16 as unknown as F32, z)).toThrow(new RegExp(`^softmaxBackward: p must be float32, got Tensor\\(float16, \\[2, 3\\]\\); ${takers.source}`));
    expect(() => ctx.sum(z16 as unknown as F32)).toThrow(/^sum: t must be float32, got Tensor\(float16/);
    expect(() => ctx.crossEntropy(z, z16)).toThrow(new DTypeError("crossEntropy: target must be int32 class ids or float32 probabilities, got float16; float16 is a storage type for inputs, taken by matmul, softmax, logSoftmax, crossEntropy(WithGrad) (logits), linearCrossEntropy(WithGrad) (x, weight), and fit, fitDataset, evaluate, predict and trainStep (x), not targets"));
    expect(() => ctx.crossEntropy(z, y, { classWeights: ctx.tensor(new Float32Array(3), [3], 'float16') as unknown as F32 })).toThrow(/^crossEntropy: classWeights must be float32, got Tensor\(float16/);
    expect(() => ctx.linearCrossEntropy(z, ctx.tensor(new Float32Array(9), [3, 3]), y, { bias: ctx.tensor(new Float32Array(3), [3], 'float16') as unknown as F32 })).toThrow(/^linearCrossEntropy: bias must be float32/);
    const before = ctx.memory().tensors;
    expect(ctx.memory().tensors).toBe(before);
    for (const t of [z16, z, y]) t.dispose();
  });
});

describe('float16 tensors: what ctx.tensor and read take', () => {
  let ctx: Context;
  beforeAll(async () => {
    ctx = await createContext({ backend: 'cpu' });
  });
  afterAll(() => ctx.destroy());

  it('refuses mismatched data and dtypes, and read options it does not know', async () => {
    expect(() => ctx.tensor(new Uint16Array(4) as unknown as Float32Array)).toThrow(
      new DTypeError("tensor: a Uint16Array cannot make a tensor without a dtype (Float32Array: float32 (or 'float16', rounded to nearest even), Int32Array: int32, Uint16Array of half bits: 'float16'); a Uint16Array holds float16 bits: pass 'float16' as the dtype"),
    );
    expect(() => ctx.tensor(new Uint16Array(4) as unknown as Float32Array, [4], 'float32')).toThrow(/^tensor: a Uint16Array cannot make a float32 tensor/);
    expect(() => ctx.tensor(new Int32Array(4) as unknown as Float32Array, [4], 'float16')).toThrow(/^tensor: a Int32Array cannot make a float16 tensor/);
    expect(() => ctx.tensor(new Float32Array(4), [4], 'float64' as 'float16')).toThrow(new DTypeError(`tensor: dtype must be 'float32', 'int32' or 'float16', got "float64"`));
    const x = ctx.tensor(new Float32Array(4), [4], 'float16');
    await expect(x.read({ dtpye: 'float16' } as never)).rejects.toThrow(new ValueError("read: unknown option 'dtpye' (did you mean 'dtype'?)"));
    await expect(x.read({ dtype: 'int32' })).rejects.toThrow(/^read: Tensor\(float16, \[4\]\) cannot be read as int32/);
    await expect(ctx.tensor(new Int32Array(2)).read({ dtype: 'float16' })).rejects.toThrow(/^read: Tensor\(int32, \[2\]\) cannot be read as float16/);
  });
});

describe('float16 in app GPU buffers', () => {
  it('wraps halves in an app buffer (an odd count, in whole words) and trains on them as on the float32 rounded values', async () => {
    const device = await nodeDevice();
    const ctx = await createContext({ device });
    const [rows, features, classes] = [41, 7, 3];
    const raw = uniform(rows * features, 24, 2);
    const halves = toHalves(raw);
    const bytes = Math.ceil((halves.length * 2) / 4) * 4;
    const buffer = device.createBuffer({ label: 'app halves', size: bytes, usage: BufferUsage.STORAGE | BufferUsage.COPY_DST });
    const padded = new Uint16Array(bytes / 2);
    padded.set(halves);
    device.queue.writeBuffer(buffer, 0, padded);
    const x16 = ctx.tensorFromGPUBuffer(buffer, [rows, features], 'float16');
    expect(ctx.memory().bytes).toBe(0);
    expect(await x16.read({ dtype: 'float16' })).toEqual(halves);
    const y = ctx.tensor(labels(rows, classes, 25));
    const options = { features, classes, seed: 3, optimizer: { type: 'sgd', learningRate: 0.1 } } as const;
    const a = ctx.softmaxRegression(options);
    const b = ctx.softmaxRegression(options);
    await a.fit(x16, y, { epochs: 2, batchSize: 8 });
    await b.fit(ctx.tensor(rounded(raw), [rows, features]), y, { epochs: 2, batchSize: 8 });
    expect(await a.getWeights()).toEqual(await b.getWeights());
    // The fused loss reads the app's halves in place, a chunk of rows at a time.
    const w = ctx.tensor(uniform(features * classes, 26), [features, classes]);
    const x32 = ctx.tensor(rounded(raw), [rows, features]);
    for (const chunkRows of [16, rows]) {
      const on16 = ctx.linearCrossEntropyWithGrad(x16, w, y, { chunkRows });
      const on32 = ctx.linearCrossEntropyWithGrad(x32, w, y, { chunkRows });
      expect(await on16.loss.read()).toEqual(await on32.loss.read());
      expect(await on16.gradX.read()).toEqual(await on32.gradX.read());
      expect(await on16.gradWeight.read()).toEqual(await on32.gradWeight.read());
    }
    expect(() => ctx.tensorFromGPUBuffer(buffer, [rows + 1, features], 'float16')).toThrow(/needs 588 bytes from byteOffset 0, but buffer 'app halves' holds 576 bytes/);
    ctx.destroy();
    buffer.destroy();
  });
});
