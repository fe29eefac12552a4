import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { DTypeError, ShapeError, ValueError } from '../src/errors.js';
import { readOnnx, writeOnnx, type MlpActivation, type MlpDescription } from '../src/export/index.js';
import { forward64, maxAbsDiff, randomMlp } from './helpers/mlp.js';
import { uniform } from './helpers/random.js';

async function runOrt(bytes: Uint8Array, x: Float32Array, rows: number, features: number) {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const out = await session.run({ input: new ort.Tensor('float32', x, [rows, features]) });
    return { out, inputNames: session.inputNames, outputNames: session.outputNames };
  } finally {
    await session.release();
  }
}

const shapes: [string, number, number[], number, MlpActivation][] = [
  ['softmax regression 10-4', 10, [], 4, 'relu'],
  ['784-100-10 relu', 784, [100], 10, 'relu'],
  ['12-16-9-3 gelu', 12, [16, 9], 3, 'gelu'],
  ['7-5-6 tanh', 7, [5], 6, 'tanh'],
  ['3-4-4-4-2 gelu, three hidden layers', 3, [4, 4, 4], 2, 'gelu'],
];

describe('ONNX export, run by onnxruntime-node', () => {
  it.each(shapes)('%s: the same logits and probabilities as a float64 forward pass', async (_, features, hidden, classes, activation) => {
    const desc = randomMlp(features, hidden, classes, activation, features + classes);
    const rows = 33;
    const x = uniform(rows * features, 5, 3);
    const { out, inputNames, outputNames } = await runOrt(writeOnnx(desc), x, rows, features);
    expect(inputNames).toEqual(['input']);
    expect(outputNames).toEqual(['logits', 'probabilities']);
    const reference = forward64(desc, x, rows);
    expect(out['logits']!.dims).toEqual([rows, classes]);
    expect(out['probabilities']!.dims).toEqual([rows, classes]);
    expect(maxAbsDiff(out['probabilities']!.data as Float32Array, reference.probabilities)).toBeLessThan(1e-5);
    expect(maxAbsDiff(out['logits']!.data as Float32Array, reference.logits)).toBeLessThan(1e-4);
  });

  it('takes any batch size, one row included', async () => {
    const desc = randomMlp(5, [6], 3, 'relu', 1);
    for (const rows of [1, 2, 257]) {
      const x = uniform(rows * 5, rows, 2);
      const { out } = await runOrt(writeOnnx(desc), x, rows, 5);
      expect(maxAbsDiff(out['probabilities']!.data as Float32Array, forward64(desc, x, rows).probabilities)).toBeLessThan(1e-5);
    }
  });
});

describe('ONNX round trip and bad input', () => {
  it.each(shapes)('%s: written then read gives the same weights, bit for bit', (_, features, hidden, classes, activation) => {
    const desc = randomMlp(features, hidden, classes, activation, 3);
    expect(readOnnx(writeOnnx(desc))).toEqual(desc);
  });

  it('checks the activation the caller expects against the graph', () => {
    const bytes = writeOnnx(randomMlp(4, [3], 2, 'tanh', 1));
    expect(readOnnx(bytes, { activation: 'tanh' }).activation).toBe('tanh');
    expect(() => readOnnx(bytes, { activation: 'gelu' })).toThrow(/graph's activation is tanh, but the options ask for gelu/);
  });

  it('refuses a malformed description before writing, naming the field', () => {
    const good = randomMlp(4, [3], 2, 'relu', 1);
    const bad: MlpDescription = { ...good, layers: [good.layers[0]!, { weight: new Float32Array(6), bias: new Float32Array(3) }] };
    expect(() => writeOnnx(bad)).toThrow(ShapeError);
    expect(() => writeOnnx(bad)).toThrow(/layers\[1\]\.bias has 3 values, but its shape \[2\] needs 2/);
    const nan = randomMlp(4, [3], 2, 'relu', 1);
    nan.layers[1]!.weight[4] = NaN;
    expect(() => writeOnnx(nan)).toThrow(/layers\[1\]\.weight\[4\] is NaN/);
    expect(() => writeOnnx({ ...good, activation: 'sigmoid' as MlpActivation })).toThrow(ValueError);
  });

  it('refuses bytes that are not ONNX, and truncated files', () => {
    const bytes = writeOnnx(randomMlp(4, [3], 2, 'relu', 1));
    expect(() => readOnnx(new Uint8Array([1, 2, 3, 4, 5]))).toThrow(/not an ONNX model/);
    expect(() => readOnnx(bytes.subarray(0, bytes.length - 7))).toThrow(ValueError);
  });

  it('names a float64 initializer', async () => {
    // Rewrite the first weight's data_type (FLOAT = 1) to DOUBLE (11) through the schema.
    const { fromBinary, toBinary } = await import('@bufbuild/protobuf');
    const { ModelProtoSchema } = await import('../src/export/onnx-proto/onnx_pb.js');
    const model = fromBinary(ModelProtoSchema, writeOnnx(randomMlp(4, [3], 2, 'relu', 1)));
    model.graph!.initializer[0]!.dataType = 11;
    expect(() => readOnnx(toBinary(ModelProtoSchema, model))).toThrow(DTypeError);
    expect(() => readOnnx(toBinary(ModelProtoSchema, model))).toThrow(/initializer '0.weight' is DOUBLE/);
  });

  it('names an initializer whose data does not fill its shape', async () => {
    const { fromBinary, toBinary } = await import('@bufbuild/protobuf');
    const { ModelProtoSchema } = await import('../src/export/onnx-proto/onnx_pb.js');
    const model = fromBinary(ModelProtoSchema, writeOnnx(randomMlp(4, [3], 2, 'relu', 1)));
    const bias = model.graph!.initializer.find((t) => t.name === '2.bias')!;
    bias.rawData = bias.rawData.subarray(0, 4);
    expect(() => readOnnx(toBinary(ModelProtoSchema, model))).toThrow(/initializer '2.bias' of shape \[2\] needs 8 bytes, but holds 4/);
  });
});
