import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Context, LinearCrossEntropyOptions, Tensor } from '../src/index.js';
import { LimitError, ShapeError, ValueError } from '../src/index.js';
import { expectAllClose } from './helpers/allclose.js';
import { BACKENDS, openContext } from './helpers/backends.js';
import { labels, uniform } from './helpers/random.js';

type F32 = Tensor<'float32'>;
const TOLERANCE = { rtol: 1e-4, atol: 1e-5 };

interface Variant {
  readonly name: string;
  readonly transposeWeight: boolean;
  readonly bias: boolean;
  readonly probs: boolean;
  readonly options: LinearCrossEntropyOptions<F32> & { readonly classWeights?: readonly number[] };
}

const N = 11;
const D = 7;
const C = 13;

const VARIANTS: readonly Variant[] = [
  { name: 'mean', transposeWeight: false, bias: true, probs: false, options: {} },
  { name: 'sum, [C, D] weight', transposeWeight: true, bias: true, probs: false, options: { reduction: 'sum' } },
  { name: 'none, no bias', transposeWeight: false, bias: false, probs: false, options: { reduction: 'none' } },
  {
    name: 'mean, class weights, ignoreIndex, smoothing',
    transposeWeight: true,
    bias: false,
    probs: false,
    options: { ignoreIndex: 3, labelSmoothing: 0.2, classWeights: Array.from({ length: C }, (_, i) => 0.5 + (i % 4) / 2) },
  },
  { name: 'probability targets, weighted', transposeWeight: false, bias: true, probs: true, options: { classWeights: Array.from({ length: C }, (_, i) => 1 + i / C) } },
  { name: 'probability targets, none, smoothing', transposeWeight: true, bias: true, probs: true, options: { reduction: 'none', labelSmoothing: 0.1 } },
];

/** The unfused chain the op must equal: logits, crossEntropyWithGrad, then the three products. */
function unfused(ctx: Context, x: F32, w: F32, b: F32 | null, target: Tensor, v: Variant) {
  const z = ctx.matmul(x, w, { transposeB: v.transposeWeight, ...(b === null ? {} : { bias: b }) });
  const { classWeights, reduction, ignoreIndex, labelSmoothing } = v.options;
  const { loss, grad } = ctx.crossEntropyWithGrad(z, target, {
    ...(classWeights === undefined ? {} : { classWeights }),
    ...(reduction === undefined ? {} : { reduction }),
    ...(ignoreIndex === undefined ? {} : { ignoreIndex }),
    ...(labelSmoothing === undefined ? {} : { labelSmoothing }),
  });
  const gradX = ctx.matmul(grad, w, { transposeB: !v.transposeWeight });
  const gradWeight = v.transposeWeight ? ctx.matmul(grad, x, { transposeA: true }) : ctx.matmul(x, grad, { transposeA: true });
  const gradBias = b === null ? null : ctx.sum(grad, { axis: 0 });
  return { loss, gradX, gradWeight, gradBias };
}

function inputs(ctx: Context, v: Variant, seed: number) {
  const x = ctx.tensor(uniform(N * D, seed, 2), [N, D]);
  const w = ctx.tensor(uniform(D * C, seed + 1), v.transposeWeight ? [C, D] : [D, C]);
  const b = v.bias ? ctx.tensor(uniform(C, seed + 2)) : null;
  let target: Tensor;
  if (v.probs) {
    const t = uniform(N * C, seed + 3).map(Math.abs);
    target = ctx.tensor(t, [N, C]);
  } else {
    const y = labels(N, C, seed + 3);
    if (v.options.ignoreIndex !== undefined) y[2] = y[7] = v.options.ignoreIndex;
    target = ctx.tensor(y);
  }
  return { x, w, b, target };
}

async function read(t: Tensor | null) {
  return t === null ? null : { shape: t.shape, data: await t.read() };
}

describe.each(BACKENDS)('linearCrossEntropy on %s', (backend) => {
  let ctx: Context;
  beforeAll(async () => {
    ctx = await openContext(backend);
  });
  afterAll(() => ctx.destroy());

  describe.each(VARIANTS.map((v) => [v.name, v] as const))('%s', (_name, v) => {
    it.each([[undefined], [1], [4], [N]])('equals the unfused chain, chunkRows %s', async (chunkRows) => {
      const { x, w, b, target } = inputs(ctx, v, 17);
      const options = {
        ...v.options,
        transposeWeight: v.transposeWeight,
        ...(b === null ? {} : { bias: b }),
        ...(chunkRows === undefined ? {} : { chunkRows }),
      };
      const fused = ctx.linearCrossEntropyWithGrad(x, w, target, options);
      const lossAlone = ctx.linearCrossEntropy(x, w, target, options);
      const expected = unfused(ctx, x, w, b, target, v);
      expect(fused.gradBias === null).toBe(b === null);
      for (const key of ['loss', 'gradX', 'gradWeight', 'gradBias'] as const) {
        const actual = await read(fused[key]);
        const want = await read(expected[key]);
        if (actual === null || want === null) continue;
        expect(actual.shape).toEqual(want.shape);
        expectAllClose(actual, want, TOLERANCE, `${v.name} ${key}`);
      }
      expectAllClose(
        { shape: lossAlone.shape, data: await lossAlone.read() },
        { shape: expected.loss.shape, data: await expected.loss.read() },
        TOLERANCE,
        `${v.name} loss without gradients`,
      );
    });
  });

  it('gives PyTorch’s results for no rows: a NaN mean, a zero sum and zero gradients', async () => {
    const x = ctx.tensor(new Float32Array(0), [0, 3]);
    const w = ctx.tensor(uniform(6, 1), [3, 2]);
    const b = ctx.tensor(new Float32Array([1, 2]));
    const y = ctx.tensor(new Int32Array(0));
    const mean = ctx.linearCrossEntropyWithGrad(x, w, y, { bias: b });
    expect(Array.from(await mean.loss.read())).toEqual([NaN]);
    expect(Array.from(await mean.gradWeight.read())).toEqual([0, 0, 0, 0, 0, 0]);
    expect(Array.from(await mean.gradBias!.read())).toEqual([0, 0]);
    expect(Array.from(await ctx.linearCrossEntropy(x, w, y, { reduction: 'sum' }).read())).toEqual([0]);
  });

  it('names the shapes, options and labels at fault before any work', () => {
    const x = ctx.tensor(uniform(6, 1), [2, 3]);
    const w = ctx.tensor(uniform(12, 2), [3, 4]);
    const y = ctx.tensor(new Int32Array([0, 3]));
    expect(() => ctx.linearCrossEntropy(x, w, y, { transposeWeight: true })).toThrow(ShapeError);
    expect(() => ctx.linearCrossEntropy(x, w, y, { transposeWeight: true })).toThrow(/weight \[3, 4\] as \[C, D\] \(transposeWeight\) has 4 features but x \[2, 3\] has 3/);
    expect(() => ctx.linearCrossEntropy(x, w, y, { bias: ctx.tensor(new Float32Array(3)) })).toThrow(/bias must be \[4\]/);
    expect(() => ctx.linearCrossEntropy(x, w, ctx.tensor(new Int32Array([0, 4])))).toThrow(/target\[1\] = 4 is outside \[0, 4\)/);
    expect(() => ctx.linearCrossEntropy(x, w, y, { chunkRows: 0 })).toThrow(ValueError);
    expect(() => ctx.linearCrossEntropy(x, w, y, { reduction: 'avg' as 'mean' })).toThrow(/reduction/);
    expect(() => ctx.linearCrossEntropy(x, w, ctx.tensor(new Float32Array(6), [2, 3]))).toThrow(/probability targets must have the logits' shape \[2, 4\]/);
    if (backend === 'webgpu') expect(() => ctx.linearCrossEntropy(x, w, y, { chunkRows: 2 ** 30 })).toThrow(LimitError);
  });
});
