import { describe, expect, it } from 'vitest';
import {
  ContextMismatchError,
  createContext,
  DisposedError,
  DTypeError,
  ShapeError,
  ValueError,
  type Context,
  type Tensor,
} from '../src/index.js';
import { BACKENDS, openContext } from './helpers/backends.js';

const f32 = (ctx: Context, shape: number[]) => ctx.tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);

describe.each(BACKENDS)('bad input is refused before any work, with a message naming the fault (%s)', (backend) => {
  it('tensor: data shorter or longer than the shape, a bad shape, a bad array type', async () => {
    const ctx = await openContext(backend);
    expect(() => ctx.tensor(new Float32Array(5), [2, 3])).toThrow(new ShapeError('tensor: shape [2, 3] holds 6 elements but the data has 5'));
    expect(() => ctx.tensor(new Float32Array(7), [2, 3])).toThrow(new ShapeError('tensor: shape [2, 3] holds 6 elements but the data has 7'));
    expect(() => ctx.tensor(new Float32Array(2), [2, -1])).toThrow(/tensor: a shape is a list of non-negative integers, got \[2,-1\]/);
    expect(() => ctx.tensor(new Float32Array(2), [1.5])).toThrow(ShapeError);
    expect(() => ctx.tensor([1, 2] as unknown as Float32Array)).toThrow(new DTypeError('tensor: data must be a Float32Array, an Int32Array or a Uint16Array (float16 bits), got Array'));
    expect(() => ctx.tensor(new Float64Array(2) as unknown as Float32Array)).toThrow(/got Float64Array/);
    expect(ctx.memory().tensors).toBe(0);
    ctx.destroy();
  });

  it('matmul: inner dimensions, bias length, ranks, batches, dtypes', async () => {
    const ctx = await openContext(backend);
    const [a, b] = [f32(ctx, [2, 3]), f32(ctx, [4, 5])];
    expect(() => ctx.matmul(a, b)).toThrow(new ShapeError('matmul: inner dimensions differ (3 vs 4): a is [2, 3], b is [4, 5]'));
    expect(() => ctx.matmul(a, f32(ctx, [3, 5]), { transposeA: true })).toThrow(
      'matmul: inner dimensions differ (2 vs 3): a is [2, 3] (transposed), b is [3, 5]',
    );
    expect(() => ctx.matmul(a, f32(ctx, [3, 5]), { bias: f32(ctx, [4]) })).toThrow(
      new ShapeError('matmul: bias must be [5] to match the output\'s 5 columns, got [4]; a is [2, 3], b is [3, 5]'),
    );
    expect(() => ctx.matmul(f32(ctx, [3]), b)).toThrow('matmul: a must be 2-D or 3-D, a is [3], b is [4, 5]');
    expect(() => ctx.matmul(f32(ctx, [2, 3, 4]), f32(ctx, [3, 4, 5]))).toThrow('matmul: batch sizes differ (2 vs 3)');
    const ints = ctx.tensor(new Int32Array(6), [3, 2]) as unknown as Tensor<'float32'>;
    expect(() => ctx.matmul(a, ints)).toThrow(new DTypeError('matmul: b must be float32, got Tensor(int32, [3, 2])'));
    ctx.destroy();
  });

  it('crossEntropy: labels outside [0, C), labelSmoothing outside [0, 1], bad options and shapes', async () => {
    const ctx = await openContext(backend);
    const z = f32(ctx, [3, 4]);
    const ce = (target: Tensor, options = {}) => () => ctx.crossEntropy(z, target, options);
    expect(ce(ctx.tensor(new Int32Array([0, 4, 1])))).toThrow(
      new ValueError('crossEntropy: target[1] = 4 is outside [0, 4) and is not ignoreIndex (-100)'),
    );
    expect(ce(ctx.tensor(new Int32Array([-1, 9, 1])))).toThrow(
      'crossEntropy: target[0] = -1 is outside [0, 4) and is not ignoreIndex (-100); 2 labels are out of range',
    );
    expect(ce(ctx.tensor(new Int32Array([0, -100, 1])))).not.toThrow();
    expect(ce(ctx.tensor(new Int32Array([0, -100, 1])), { ignoreIndex: 3 })).toThrow(
      'crossEntropy: target[1] = -100 is outside [0, 4) and is not ignoreIndex (3)',
    );
    const y = ctx.tensor(new Int32Array([0, 1, 2]));
    for (const s of [-0.1, 1.5, NaN]) {
      expect(ce(y, { labelSmoothing: s })).toThrow(new ValueError(`crossEntropy: labelSmoothing must be in [0, 1], got ${s}`));
    }
    expect(ce(y, { reduction: 'avg' })).toThrow(`crossEntropy: reduction must be 'mean', 'sum' or 'none', got "avg"`);
    expect(ce(y, { ignoreIndex: 0.5 })).toThrow('crossEntropy: ignoreIndex must be an integer, got 0.5');
    expect(ce(y, { classWeights: [1, 2, 3] })).toThrow(
      new ShapeError('crossEntropy: classWeights must be [4], one per class of logits [3, 4], got [3]'),
    );
    expect(ce(ctx.tensor(new Int32Array([0, 1])))).toThrow('crossEntropy: class-id targets must be [3] for logits [3, 4], got [2]');
    expect(ce(f32(ctx, [3, 5]))).toThrow('crossEntropy: probability targets must have the logits\' shape [3, 4], got [3, 5]');
    expect(() => ctx.crossEntropyWithGrad(f32(ctx, [2, 3, 4]), y)).toThrow(
      'crossEntropyWithGrad: logits must be [N, C] with C >= 1, got [2, 3, 4]',
    );
    ctx.destroy();
  });

  it('other ops: softmax of a scalar, softmaxBackward shapes, sum axis', async () => {
    const ctx = await openContext(backend);
    expect(() => ctx.softmax(f32(ctx, []))).toThrow(new ShapeError('softmax: needs at least one axis to work over, got a scalar []'));
    expect(() => ctx.softmaxBackward(f32(ctx, [2, 3]), f32(ctx, [3, 2]))).toThrow(
      'softmaxBackward: p [2, 3] and dp [3, 2] must have the same shape',
    );
    expect(() => ctx.sum(f32(ctx, [2, 3]), { axis: 1 as 0 })).toThrow(new ValueError('sum: axis must be 0 or omitted, got 1'));
    ctx.destroy();
  });

  it('the checks StrykerJS found untested: int32 or zero-class logits, tensors of one rank too many, the edges of the ranges', async () => {
    const ctx = await openContext(backend);
    const z = f32(ctx, [3, 4]);
    const y = ctx.tensor(new Int32Array([0, 1, 2]));
    const ints = ctx.tensor(new Int32Array(12), [3, 4]) as unknown as Tensor<'float32'>;
    expect(() => ctx.crossEntropy(ints, y)).toThrow(DTypeError);
    expect(() => ctx.crossEntropy(ints, y)).toThrow(/^crossEntropy: z must be float32.*int32/);
    expect(() => ctx.crossEntropy(f32(ctx, [3, 0]), y)).toThrow(new ShapeError('crossEntropy: logits must be [N, C] with C >= 1, got [3, 0]'));
    expect(() => ctx.crossEntropy(z, y, { classWeights: f32(ctx, [4, 1]) })).toThrow(
      new ShapeError('crossEntropy: classWeights must be [4], one per class of logits [3, 4], got [4, 1]'),
    );
    expect(() => ctx.crossEntropy(z, ctx.tensor(new Int32Array(3), [3, 1]))).toThrow(
      new ShapeError('crossEntropy: class-id targets must be [3] for logits [3, 4], got [3, 1]'),
    );
    for (const shape of [[12], [4, 4], [3, 4, 1]]) {
      expect(() => ctx.crossEntropy(z, f32(ctx, shape))).toThrow(
        new ShapeError(`crossEntropy: probability targets must have the logits' shape [3, 4], got [${shape.join(', ')}]`),
      );
    }
    // PyTorch takes label_smoothing = 1.0: every target becomes uniform.
    const uniform = await ctx.crossEntropy(z, y, { labelSmoothing: 1 }).read();
    expect(uniform[0]).toBeCloseTo(Math.log(4), 6);
    expect(() => ctx.matmul(f32(ctx, [2, 3]), f32(ctx, [3, 5]), { bias: f32(ctx, [5, 1]) })).toThrow(
      new ShapeError("matmul: bias must be [5] to match the output's 5 columns, got [5, 1]; a is [2, 3], b is [3, 5]"),
    );
    expect(() => ctx.sum(f32(ctx, []), { axis: 0 })).toThrow(new ValueError('sum: axis 0 needs a tensor with at least one axis, got []'));
    expect(await ctx.sum(ctx.tensor(new Float32Array([2.5]), [])).read()).toEqual(new Float32Array([2.5]));
    ctx.destroy();
  });

  it('tensors from another context, disposed tensors, a destroyed context', async () => {
    const ctx = await openContext(backend);
    const other = await createContext({ backend: 'cpu' });
    const a = f32(ctx, [2, 2]);
    const foreign = f32(other, [2, 2]);
    expect(() => ctx.matmul(a, foreign)).toThrow(
      new ContextMismatchError('matmul: b Tensor(float32, [2, 2]) belongs to another context; tensors cannot be mixed across contexts'),
    );
    const gone = f32(ctx, [2, 2]);
    gone.dispose();
    gone.dispose();
    expect(() => ctx.softmax(gone)).toThrow(new DisposedError('softmax: z Tensor(float32, [2, 2], disposed) was used after dispose()'));
    await expect(gone.read()).rejects.toThrow(new DisposedError('read: Tensor(float32, [2, 2], disposed) was used after dispose()'));
    ctx.destroy();
    expect(() => ctx.softmax(a)).toThrow(new DisposedError('softmax: the context was destroyed'));
    await expect(a.read()).rejects.toThrow('read: the context was destroyed');
    other.destroy();
  });
});
