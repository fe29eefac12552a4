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

describe('ONNX opset 20 and graphs spelled other ways', () => {
  it('opset 20 writes gelu as one Gelu node; onnxruntime runs it, and it reads back', async () => {
    const { fromBinary } = await import('@bufbuild/protobuf');
    const { ModelProtoSchema } = await import('../src/export/onnx-proto/onnx_pb.js');
    const desc = randomMlp(9, [11, 6], 4, 'gelu', 21);
    const bytes = writeOnnx(desc, { opset: 20 });
    const model = fromBinary(ModelProtoSchema, bytes);
    expect(model.opsetImport[0]!.version).toBe(20n);
    expect(model.graph!.node.map((n) => n.opType)).toEqual(['Gemm', 'Gelu', 'Gemm', 'Gelu', 'Gemm', 'Softmax']);
    const rows = 17;
    const x = uniform(rows * 9, 6, 3);
    const { out } = await runOrt(bytes, x, rows, 9);
    expect(maxAbsDiff(out['probabilities']!.data as Float32Array, forward64(desc, x, rows).probabilities)).toBeLessThan(1e-5);
    expect(readOnnx(bytes)).toEqual(desc);
    expect(() => writeOnnx(desc, { opset: 18 as 17 })).toThrow(/opset must be 17 or 20, got 18/);
  });

  /** Our model with its Gemms rewritten as MatMul([in, out] weight) then Add(bias), as Keras-to-ONNX tools write them. */
  async function asMatMulAdd(desc: MlpDescription): Promise<Uint8Array> {
    const { create, fromBinary, toBinary } = await import('@bufbuild/protobuf');
    const { ModelProtoSchema, NodeProtoSchema } = await import('../src/export/onnx-proto/onnx_pb.js');
    const model = fromBinary(ModelProtoSchema, writeOnnx(desc));
    const graph = model.graph!;
    graph.node = graph.node.flatMap((n) => {
      if (n.opType !== 'Gemm') return [n];
      const [x, w, b] = n.input as [string, string, string];
      const weight = graph.initializer.find((t) => t.name === w)!;
      const [outSize, inSize] = weight.dims.map(Number) as [number, number];
      const data = new Float32Array(weight.rawData.slice().buffer);
      const transposed = new Float32Array(data.length);
      for (let o = 0; o < outSize; o++) for (let i = 0; i < inSize; i++) transposed[i * outSize + o] = data[o * inSize + i]!;
      weight.dims = [BigInt(inSize), BigInt(outSize)];
      weight.rawData = new Uint8Array(transposed.buffer);
      const product = `${n.name}/product`;
      return [
        create(NodeProtoSchema, { opType: 'MatMul', name: `${n.name}/MatMul`, input: [x, w], output: [product] }),
        create(NodeProtoSchema, { opType: 'Add', name: `${n.name}/Add`, input: [b, product], output: n.output }),
      ];
    });
    return toBinary(ModelProtoSchema, model);
  }

  it('reads MatMul + Add layers as Gemm ones, and onnxruntime agrees they are the same model', async () => {
    const desc = randomMlp(5, [7], 3, 'tanh', 4);
    const bytes = await asMatMulAdd(desc);
    expect(readOnnx(bytes)).toEqual(desc);
    const x = uniform(8 * 5, 2, 2);
    const { out } = await runOrt(bytes, x, 8, 5);
    expect(maxAbsDiff(out['probabilities']!.data as Float32Array, forward64(desc, x, 8).probabilities)).toBeLessThan(1e-5);
  });

  it('names an activation it does not support, and mixed activations', async () => {
    const { fromBinary, toBinary } = await import('@bufbuild/protobuf');
    const { ModelProtoSchema } = await import('../src/export/onnx-proto/onnx_pb.js');
    const model = fromBinary(ModelProtoSchema, writeOnnx(randomMlp(4, [3, 3], 2, 'relu', 1)));
    const relus = model.graph!.node.filter((n) => n.opType === 'Relu');
    relus[1]!.opType = 'Sigmoid';
    expect(() => readOnnx(toBinary(ModelProtoSchema, model))).toThrow(/Sigmoid '\/3\/Relu' after '\/2\/Gemm_output_0' is not a supported activation/);
    relus[1]!.opType = 'Tanh';
    expect(() => readOnnx(toBinary(ModelProtoSchema, model))).toThrow(/activation after layer 1 is tanh, but after layer 0 it is relu/);
    relus[1]!.opType = 'Relu';
    const gemm = model.graph!.node.find((n) => n.opType === 'Gemm')!;
    gemm.attribute.push({ ...gemm.attribute[0]!, name: 'alpha', type: 1, f: 2 });
    expect(() => readOnnx(toBinary(ModelProtoSchema, model))).toThrow(/Gemm '\/0\/Gemm' has alpha = 2; only transA 0, alpha 1, beta 1/);
  });
});

it('names a graph input whose declared type or shape does not fit the first layer', async () => {
  const { fromBinary, toBinary } = await import('@bufbuild/protobuf');
  const { ModelProtoSchema } = await import('../src/export/onnx-proto/onnx_pb.js');
  const model = fromBinary(ModelProtoSchema, writeOnnx(randomMlp(4, [3], 2, 'relu', 1)));
  const tensorType = model.graph!.input[0]!.type!.value;
  if (tensorType.case !== 'tensorType') throw new Error('expected a tensor type');
  tensorType.value.shape!.dim[1]!.value = { case: 'dimValue', value: 5n };
  expect(() => readOnnx(toBinary(ModelProtoSchema, model))).toThrow(/input 'input' is \[batch, 5\], but the first layer takes \[batch, 4\]/);
  tensorType.value.elemType = 11;
  expect(() => readOnnx(toBinary(ModelProtoSchema, model))).toThrow(/input 'input' is DOUBLE; expected FLOAT/);
});
