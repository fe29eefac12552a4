import type { Context, CrossEntropyOptions, LinearCrossEntropyOptions, Tensor } from '../../src/index.js';
import type { Outputs, Result } from './compare.js';

// Test cases as test/fixtures/generate.py writes them, and how to run one on a context.
// Plain code: the browser suite runs the same cases.

/** An array as test/fixtures/generate.py writes it. */
export interface FixtureArray {
  readonly shape: number[];
  readonly dtype: 'float32' | 'int32' | 'float64';
  readonly data: (number | 'NaN' | 'Infinity' | '-Infinity')[];
}

export interface FixtureCase {
  readonly name: string;
  readonly op: 'softmax' | 'logSoftmax' | 'softmaxBackward' | 'matmul' | 'crossEntropy' | 'linearCrossEntropy' | 'sum';
  readonly inputs: Record<string, FixtureArray>;
  readonly options: Record<string, unknown>;
  readonly expected: Record<string, FixtureArray>;
}


export function values(a: FixtureArray): number[] {
  return a.data.map(Number);
}

/**
 * What a fixture case expects, by output name as `runCase` names them: each of the fixture's
 * arrays, and `lossAlone` (the op run without its gradients) held to the same `loss`.
 */
export function expectedOutputs(c: FixtureCase): Outputs {
  const expected: Record<string, Result> = {};
  for (const [name, a] of Object.entries(c.expected)) expected[name] = { shape: a.shape, data: values(a) };
  if (expected.loss !== undefined) expected.lossAlone = expected.loss;
  return expected;
}

function tensorOf(ctx: Context, a: FixtureArray): Tensor {
  return a.dtype === 'int32'
    ? ctx.tensor(Int32Array.from(values(a)), a.shape)
    : ctx.tensor(Float32Array.from(values(a)), a.shape);
}

/**
 * Runs a fixture case on `ctx` and reads back every output the op returns, null for one it
 * returns as null (`gradBias` without a bias), so that a comparison over the expected outputs
 * sees one that goes missing. A crossEntropy or linearCrossEntropy case runs the op with and
 * without its gradients (`lossAlone`), so the loss is checked from each.
 */
export async function runCase(ctx: Context, c: FixtureCase): Promise<Outputs> {
  const inputs = Object.fromEntries(Object.entries(c.inputs).map(([k, v]) => [k, tensorOf(ctx, v)]));
  const f = (name: string) => inputs[name] as Tensor<'float32'>;
  const outputs: Record<string, Tensor | null> = {};
  switch (c.op) {
    case 'softmax':
      outputs.out = ctx.softmax(f('z'));
      break;
    case 'logSoftmax':
      outputs.out = ctx.logSoftmax(f('z'));
      break;
    case 'softmaxBackward':
      outputs.out = ctx.softmaxBackward(f('p'), f('dp'));
      break;
    case 'matmul':
      outputs.out = ctx.matmul(f('a'), f('b'), {
        transposeA: c.options.transposeA === true,
        transposeB: c.options.transposeB === true,
        ...(inputs.bias ? { bias: f('bias') } : {}),
      });
      break;
    case 'sum':
      outputs.out = ctx.sum(f('t'), c.options as { axis?: 0 });
      break;
    case 'crossEntropy': {
      const options = {
        ...(c.options as CrossEntropyOptions<Tensor<'float32'>>),
        ...(inputs.classWeights ? { classWeights: f('classWeights') } : {}),
      };
      const { loss, grad } = ctx.crossEntropyWithGrad(f('z'), inputs.target!, options);
      outputs.loss = loss;
      outputs.grad = grad;
      outputs.lossAlone = ctx.crossEntropy(f('z'), inputs.target!, options);
      break;
    }
    case 'linearCrossEntropy': {
      const options = {
        ...(c.options as LinearCrossEntropyOptions<Tensor<'float32'>>),
        ...(inputs.classWeights ? { classWeights: f('classWeights') } : {}),
        ...(inputs.bias ? { bias: f('bias') } : {}),
      };
      Object.assign(outputs, ctx.linearCrossEntropyWithGrad(f('x'), f('weight'), inputs.target!, options));
      outputs.lossAlone = ctx.linearCrossEntropy(f('x'), f('weight'), inputs.target!, options);
      break;
    }
  }
  const results: Record<string, Result | null> = {};
  for (const [name, t] of Object.entries(outputs)) {
    results[name] = t === null ? null : { shape: t.shape, data: await t.read() };
    t?.dispose();
  }
  for (const t of Object.values(inputs)) t.dispose();
  return results;
}
