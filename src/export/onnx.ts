import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { DTypeError, ShapeError, ValueError } from '../errors.js';
import { layerSizes, transpose, validateMlp, type MlpActivation, type MlpDescription, type MlpLayer } from './mlp.js';
import type { WriteOnnxOptions } from './options.js';
import {
  AttributeProtoSchema,
  AttributeProto_AttributeType,
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  StringStringEntryProtoSchema,
  TensorProtoSchema,
  TensorProto_DataLocation,
  TensorProto_DataType,
  TensorShapeProtoSchema,
  TensorShapeProto_DimensionSchema,
  TypeProtoSchema,
  TypeProto_TensorSchema,
  ValueInfoProtoSchema,
  type AttributeProto,
  type GraphProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from './onnx-proto/onnx_pb.js';

/**
 * The opset we write by default. 17 is what `torch.onnx.export` wrote by default for years and what every
 * onnxruntime since 1.12 (Node, Web, mobile) runs; Softmax has had per-axis semantics since 13.
 * Gelu became a standard op only in opset 20 (onnxruntime 1.17+), so at 17 we spell it
 * 0.5·x·(1 + erf(x/√2)) with Erf, Mul and Add, as PyTorch's exporter does.
 */
export const ONNX_OPSET = 17;
/** The IR version that goes with each opset we write (onnx 1.12 and 1.15). */
const IR_VERSIONS = { 17: 8n, 20: 9n } as const;

export type { WriteOnnxOptions };

/** The names of the graph's input and outputs, as the issue fixes them. */
export const ONNX_INPUT = 'input';
export const ONNX_LOGITS = 'logits';
export const ONNX_PROBABILITIES = 'probabilities';

/** Options of {@link readOnnx}. */
export interface ReadOnnxOptions {
  /**
   * The activation the caller expects. The graph itself says which one it uses; when this is
   * given and the graph disagrees, reading fails rather than silently building another model.
   */
  readonly activation?: MlpActivation;
}

/**
 * Writes `desc` as an ONNX model (opset 17, or 20 if asked): input 'input' [batch, features] float32, outputs
 * 'logits' and 'probabilities' [batch, classes]. Each layer is one Gemm whose weight
 * initializer is named as in PyTorch's state_dict ('0.weight' [out, in], transB = 1).
 *
 * @example
 * const session = await ort.InferenceSession.create(writeOnnx(head));
 * const { probabilities } = await session.run({ input: new ort.Tensor('float32', x, [n, head.features]) });
 */
export function writeOnnx(desc: MlpDescription, options: WriteOnnxOptions = {}): Uint8Array {
  validateMlp(desc);
  const opset = options.opset ?? ONNX_OPSET;
  if (opset !== 17 && opset !== 20) throw new ValueError(`onnx: opset must be 17 or 20, got ${String(opset)}`);
  const nodes: NodeProto[] = [];
  const initializers: TensorProto[] = [];
  const sizes = layerSizes(desc);
  let current = ONNX_INPUT;
  sizes.forEach(([inSize, outSize], i) => {
    const layer = desc.layers[i] as MlpLayer;
    const module = 2 * i; // nn.Sequential indices: Linear, activation, Linear, ...
    const last = i === sizes.length - 1;
    initializers.push(
      floatTensor(`${module}.weight`, [outSize, inSize], transpose(layer.weight, inSize, outSize)),
      floatTensor(`${module}.bias`, [outSize], layer.bias),
    );
    const linear = last ? ONNX_LOGITS : `/${module}/Gemm_output_0`;
    nodes.push(
      node('Gemm', `/${module}/Gemm`, [current, `${module}.weight`, `${module}.bias`], linear, [intAttribute('transB', 1)]),
    );
    current = last ? linear : activationNodes(desc.activation, opset, `/${module + 1}`, linear, nodes, initializers);
  });
  nodes.push(node('Softmax', '/Softmax', [current], ONNX_PROBABILITIES, [intAttribute('axis', -1)]));

  const model = create(ModelProtoSchema, {
    irVersion: IR_VERSIONS[opset],
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: BigInt(opset) })],
    producerName: 'webgpu-softmax',
    docString: `MLP classifier head: ${[desc.features, ...desc.hidden, desc.classes].join('-')}, ${desc.activation}`,
    metadataProps: [create(StringStringEntryProtoSchema, { key: 'activation', value: desc.activation })],
    graph: create(GraphProtoSchema, {
      name: 'mlp',
      node: nodes,
      initializer: initializers,
      input: [floatValueInfo(ONNX_INPUT, desc.features)],
      output: [floatValueInfo(ONNX_LOGITS, desc.classes), floatValueInfo(ONNX_PROBABILITIES, desc.classes)],
    }),
  });
  return toBinary(ModelProtoSchema, model);
}

/** Appends the nodes of `activation` applied to `x`; returns the name of their output. */
function activationNodes(
  activation: MlpActivation,
  opset: 17 | 20,
  prefix: string,
  x: string,
  nodes: NodeProto[],
  initializers: TensorProto[],
): string {
  const out = `${prefix}/output_0`;
  if (activation === 'relu') nodes.push(node('Relu', `${prefix}/Relu`, [x], out));
  else if (activation === 'tanh') nodes.push(node('Tanh', `${prefix}/Tanh`, [x], out));
  else if (opset >= 20) nodes.push(node('Gelu', `${prefix}/Gelu`, [x], out));
  else {
    if (!initializers.some((t) => t.name === 'gelu.sqrt_half')) {
      initializers.push(
        floatTensor('gelu.sqrt_half', [], Float32Array.of(Math.SQRT1_2)),
        floatTensor('gelu.one', [], Float32Array.of(1)),
        floatTensor('gelu.half', [], Float32Array.of(0.5)),
      );
    }
    nodes.push(
      node('Mul', `${prefix}/Mul`, [x, 'gelu.sqrt_half'], `${prefix}/scaled`),
      node('Erf', `${prefix}/Erf`, [`${prefix}/scaled`], `${prefix}/erf`),
      node('Add', `${prefix}/Add`, [`${prefix}/erf`, 'gelu.one'], `${prefix}/one_plus_erf`),
      node('Mul', `${prefix}/Mul_1`, [x, `${prefix}/one_plus_erf`], `${prefix}/x_one_plus_erf`),
      node('Mul', `${prefix}/Mul_2`, [`${prefix}/x_one_plus_erf`, 'gelu.half'], out),
    );
  }
  return out;
}

function node(opType: string, name: string, input: string[], output: string, attribute: AttributeProto[] = []): NodeProto {
  return create(NodeProtoSchema, { opType, name, input, output: [output], attribute });
}

function intAttribute(name: string, value: number): AttributeProto {
  return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.INT, i: BigInt(value) });
}

function floatTensor(name: string, dims: number[], data: Float32Array): TensorProto {
  const rawData = new Uint8Array(data.length * 4);
  const view = new DataView(rawData.buffer);
  data.forEach((v, i) => view.setFloat32(4 * i, v, true));
  return create(TensorProtoSchema, { name, dims: dims.map(BigInt), dataType: TensorProto_DataType.FLOAT, rawData });
}

function floatValueInfo(name: string, width: number): ValueInfoProto {
  const dim = [
    create(TensorShapeProto_DimensionSchema, { value: { case: 'dimParam', value: 'batch' } }),
    create(TensorShapeProto_DimensionSchema, { value: { case: 'dimValue', value: BigInt(width) } }),
  ];
  return create(ValueInfoProtoSchema, {
    name,
    type: create(TypeProtoSchema, {
      value: {
        case: 'tensorType',
        value: create(TypeProto_TensorSchema, {
          elemType: TensorProto_DataType.FLOAT,
          shape: create(TensorShapeProtoSchema, { dim }),
        }),
      },
    }),
  });
}

// ---------------------------------------------------------------------------------------------
// Reading

interface Constant {
  readonly dims: readonly number[];
  readonly data: Float32Array;
}

/**
 * Reads an ONNX MLP back into a description: what {@link writeOnnx} writes, and what
 * `torch.onnx.export` writes for `nn.Sequential(Linear, act, ..., Linear)` (with or without a
 * final Softmax). The graph is walked from its one input: each layer is a Gemm (transB 0 or 1)
 * or a MatMul followed by an Add of the bias; between layers, the activation is recognised by
 * what the nodes compute (Relu, Tanh, Gelu, or any elementwise spelling of them such as
 * PyTorch's Div/Erf/Add/Mul form of gelu), evaluated on sample points. Anything else throws,
 * naming the node or initializer at fault.
 *
 * @example
 * const head = readOnnx(new Uint8Array(await fs.readFile('head.onnx')));
 */
export function readOnnx(bytes: Uint8Array, options: ReadOnnxOptions = {}): MlpDescription {
  const g = decodeGraph(bytes);

  const constants = new Map<string, Constant>();
  for (const t of g.initializer) constants.set(t.name, tensorData(t, `initializer '${t.name}'`));
  for (const n of g.node) {
    if (n.opType === 'Constant' && isDefaultDomain(n)) {
      const value = n.attribute.find((a) => a.name === 'value')?.t;
      if (value === undefined) throw new ValueError(`onnx: Constant node '${n.name}' has no tensor 'value'`);
      constants.set(n.output[0] ?? '', tensorData(value, `Constant node '${n.name}'`));
    }
  }
  const inputs = g.input.filter((v) => !constants.has(v.name));
  if (inputs.length !== 1) {
    throw new ShapeError(`onnx: expected one graph input, got ${inputs.length} (${inputs.map((v) => `'${v.name}'`).join(', ')})`);
  }
  const consumers = (tensor: string): NodeProto[] => g.node.filter((n) => n.input.includes(tensor));

  const layers: MlpLayer[] = [];
  const sizes: number[] = [];
  const activations: MlpActivation[] = [];
  const input = inputs[0] as ValueInfoProto;
  let current = input.name;
  for (;;) {
    if (layers.length > g.node.length) throw new ValueError('onnx: the graph has a cycle');
    const linear = readLinear(current, consumers, constants);
    if (sizes.length === 0) checkInput(input, linear.inSize);
    if (sizes.length > 0 && sizes[sizes.length - 1] !== linear.inSize) {
      throw new ShapeError(
        `onnx: node '${linear.nodeName}' takes ${linear.inSize} inputs, but the layer before it gives ${sizes[sizes.length - 1]}: the shapes do not chain`,
      );
    }
    if (sizes.length === 0) sizes.push(linear.inSize);
    sizes.push(linear.outSize);
    layers.push({ weight: linear.weight, bias: linear.bias });
    current = linear.output;
    const next = consumers(current).filter((n) => n.opType !== 'Softmax');
    if (next.length === 0) break;
    const region = activationRegion(current, g, constants);
    activations.push(region.activation);
    current = region.output;
  }

  const activation = activations[0] ?? options.activation ?? 'relu';
  activations.forEach((a, i) => {
    if (a !== activation) {
      throw new ValueError(`onnx: the activation after layer ${i} is ${a}, but after layer 0 it is ${activation}; one activation for all layers is supported`);
    }
  });
  if (options.activation !== undefined && options.activation !== activation) {
    throw new ValueError(`onnx: the graph's activation is ${activation}, but the options ask for ${options.activation}`);
  }
  const desc: MlpDescription = {
    features: sizes[0] as number,
    classes: sizes[sizes.length - 1] as number,
    hidden: sizes.slice(1, -1),
    activation,
    layers,
  };
  validateMlp(desc);
  return desc;
}

function decodeGraph(bytes: Uint8Array): GraphProto {
  if (!(bytes instanceof Uint8Array)) throw new ValueError("onnx: expected the file's bytes as a Uint8Array");
  let graph: GraphProto | undefined;
  try {
    graph = fromBinary(ModelProtoSchema, bytes).graph;
  } catch (cause) {
    throw new ValueError(`onnx: the bytes are not an ONNX model (protobuf decoding failed: ${String(cause)})`, { cause });
  }
  if (graph === undefined) throw new ValueError('onnx: the model has no graph');
  return graph;
}

/** The graph input, where it declares its type, must be float32 [batch, features]. */
function checkInput(input: ValueInfoProto, features: number): void {
  const type = input.type?.value;
  if (type?.case !== 'tensorType') return;
  if (type.value.elemType !== TensorProto_DataType.FLOAT) {
    const name = TensorProto_DataType[type.value.elemType] ?? String(type.value.elemType);
    throw new DTypeError(`onnx: input '${input.name}' is ${name}; expected FLOAT (float32) features`);
  }
  const dim = type.value.shape?.dim;
  if (dim === undefined) return;
  const width = dim[1]?.value;
  if (dim.length !== 2 || (width?.case === 'dimValue' && width.value !== BigInt(features))) {
    const shown = dim.map((d) => (d.value.case === undefined ? '?' : String(d.value.value)));
    throw new ShapeError(`onnx: input '${input.name}' is [${shown.join(', ')}], but the first layer takes [batch, ${features}]`);
  }
}

function isDefaultDomain(n: NodeProto): boolean {
  return n.domain === '' || n.domain === 'ai.onnx';
}

function tensorData(t: TensorProto, what: string): Constant {
  if (t.dataType !== TensorProto_DataType.FLOAT) {
    const type = TensorProto_DataType[t.dataType] ?? String(t.dataType);
    throw new DTypeError(`onnx: ${what} is ${type}; only FLOAT (float32) weights are supported`);
  }
  if (t.dataLocation === TensorProto_DataLocation.EXTERNAL) {
    throw new ValueError(`onnx: ${what} keeps its data in an external file; save the model with its weights inside`);
  }
  const dims = t.dims.map(Number);
  const count = dims.reduce((a, b) => a * b, 1);
  let data: Float32Array;
  if (t.rawData.length > 0) {
    if (t.rawData.length !== count * 4) {
      throw new ShapeError(`onnx: ${what} of shape [${dims.join(', ')}] needs ${count * 4} bytes, but holds ${t.rawData.length}`);
    }
    const view = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength);
    data = new Float32Array(count);
    for (let i = 0; i < count; i++) data[i] = view.getFloat32(4 * i, true);
  } else {
    if (t.floatData.length !== count) {
      throw new ShapeError(`onnx: ${what} of shape [${dims.join(', ')}] needs ${count} values, but holds ${t.floatData.length}`);
    }
    data = Float32Array.from(t.floatData);
  }
  return { dims, data };
}

interface Linear {
  readonly nodeName: string;
  readonly weight: Float32Array; // [in, out]
  readonly bias: Float32Array;
  readonly inSize: number;
  readonly outSize: number;
  readonly output: string;
}

function onlyConsumer(tensor: string, consumers: (t: string) => NodeProto[]): NodeProto {
  const nodes = consumers(tensor);
  if (nodes.length !== 1) {
    throw new ValueError(
      `onnx: expected a Gemm or MatMul to take '${tensor}', found ${nodes.length === 0 ? 'nothing' : nodes.map((n) => `${n.opType} '${n.name}'`).join(', ')}`,
    );
  }
  return nodes[0] as NodeProto;
}

function attributeInt(n: NodeProto, name: string, fallback: number): number {
  const a = n.attribute.find((x) => x.name === name);
  return a === undefined ? fallback : Number(a.i);
}

function attributeFloat(n: NodeProto, name: string, fallback: number): number {
  const a = n.attribute.find((x) => x.name === name);
  return a === undefined ? fallback : a.f;
}

function constantInput(n: NodeProto, index: number, constants: ReadonlyMap<string, Constant>, role: string): Constant & { name: string } {
  const name = n.input[index] ?? '';
  const c = constants.get(name);
  if (c === undefined) {
    throw new ValueError(`onnx: the ${role} of ${n.opType} '${n.name}' ('${name}') is not an initializer or constant`);
  }
  return { ...c, name };
}

/** Reads the dense layer that takes `x`: Gemm(x, W, b), or MatMul(x, W) then Add(·, b). */
function readLinear(x: string, consumers: (t: string) => NodeProto[], constants: ReadonlyMap<string, Constant>): Linear {
  const n = onlyConsumer(x, consumers);
  if (!isDefaultDomain(n) || (n.opType !== 'Gemm' && n.opType !== 'MatMul')) {
    throw new ValueError(`onnx: expected a Gemm or MatMul to take '${x}', found ${n.opType} '${n.name}'`);
  }
  if (n.input[0] !== x) throw new ValueError(`onnx: ${n.opType} '${n.name}' must take '${x}' as its first input`);
  const w = constantInput(n, 1, constants, 'weight');
  if (w.dims.length !== 2) {
    throw new ShapeError(`onnx: weight '${w.name}' of ${n.opType} '${n.name}' has shape [${w.dims.join(', ')}], not a matrix`);
  }
  const transB = n.opType === 'Gemm' ? attributeInt(n, 'transB', 0) : 0;
  if (n.opType === 'Gemm') {
    const odd = [
      ['transA', attributeInt(n, 'transA', 0), 0],
      ['alpha', attributeFloat(n, 'alpha', 1), 1],
      ['beta', attributeFloat(n, 'beta', 1), 1],
    ].filter(([, value, plain]) => value !== plain);
    if (odd.length > 0) {
      throw new ValueError(`onnx: Gemm '${n.name}' has ${odd.map(([k, v]) => `${k} = ${v}`).join(', ')}; only transA 0, alpha 1, beta 1 are supported`);
    }
  }
  const [d0, d1] = w.dims as [number, number];
  const [inSize, outSize] = transB === 1 ? [d1, d0] : [d0, d1];
  const weight = transB === 1 ? transpose(w.data, d0, d1) : w.data;

  let biasNode = n;
  let biasIndex = 2;
  let output = n.output[0] ?? '';
  if (n.opType === 'MatMul') {
    const add = onlyConsumer(output, consumers);
    if (add.opType !== 'Add') throw new ValueError(`onnx: expected an Add of the bias after MatMul '${n.name}', found ${add.opType} '${add.name}'`);
    biasNode = add;
    biasIndex = add.input[0] === output ? 1 : 0;
    output = add.output[0] ?? '';
  } else if (n.input.length < 3 || n.input[2] === '') {
    throw new ValueError(`onnx: Gemm '${n.name}' has no bias input; every layer needs a bias`);
  }
  const b = constantInput(biasNode, biasIndex, constants, 'bias');
  if (b.data.length !== outSize || b.dims.length > 2 || (b.dims.length === 2 && b.dims[0] !== 1)) {
    throw new ShapeError(`onnx: bias '${b.name}' of ${biasNode.opType} '${biasNode.name}' has shape [${b.dims.join(', ')}], but the weight '${w.name}' gives ${outSize} outputs`);
  }
  return { nodeName: n.name, weight, bias: b.data, inSize, outSize, output };
}

const ELEMENTWISE = new Set(['Relu', 'Tanh', 'Gelu', 'Erf', 'Mul', 'Div', 'Add', 'Sub', 'Identity']);
const SAMPLES = [-3.5, -2, -1.25, -0.5, -0.1, 0, 0.2, 0.7, 1.5, 2.6, 4];

/**
 * The elementwise nodes between one layer's output `x` and the next layer's input, evaluated on
 * sample points to tell which activation they compute.
 */
function activationRegion(
  x: string,
  g: GraphProto,
  constants: ReadonlyMap<string, Constant>,
): { activation: MlpActivation; output: string } {
  const values = new Map<string, Float64Array>([[x, Float64Array.from(SAMPLES)]]);
  let output: string | undefined;
  for (const n of g.node) {
    const fromRegion = n.input.filter((i) => values.has(i));
    if (fromRegion.length === 0) continue;
    if (n.opType === 'Gemm' || n.opType === 'MatMul') {
      if (output !== undefined && output !== n.input[0]) {
        throw new ValueError(`onnx: the activation after '${x}' feeds more than one layer`);
      }
      output = n.input[0];
      continue;
    }
    if (!ELEMENTWISE.has(n.opType) || !isDefaultDomain(n)) {
      throw new ValueError(`onnx: ${n.opType} '${n.name}' after '${x}' is not a supported activation (relu, gelu, tanh)`);
    }
    values.set(n.output[0] ?? '', evaluate(n, values, constants));
  }
  const result = output === undefined ? undefined : values.get(output);
  if (output === undefined || result === undefined) {
    throw new ValueError(`onnx: no layer follows the activation after '${x}'`);
  }
  const references: [MlpActivation, (v: number) => number][] = [
    ['relu', (v) => Math.max(v, 0)],
    ['tanh', Math.tanh],
    ['gelu', (v) => 0.5 * v * (1 + erf(v * Math.SQRT1_2))],
  ];
  for (const [activation, f] of references) {
    if (SAMPLES.every((s, i) => Math.abs((result[i] as number) - f(s)) <= 1e-4 * (1 + Math.abs(f(s))))) {
      return { activation, output };
    }
  }
  throw new ValueError(`onnx: the nodes between '${x}' and '${output}' compute neither relu, gelu nor tanh`);
}

function evaluate(n: NodeProto, values: ReadonlyMap<string, Float64Array>, constants: ReadonlyMap<string, Constant>): Float64Array {
  const operand = (index: number): (i: number) => number => {
    const name = n.input[index] ?? '';
    const v = values.get(name);
    if (v !== undefined) return (i) => v[i] as number;
    const c = constants.get(name);
    if (c === undefined || c.data.length !== 1) {
      throw new ValueError(`onnx: input '${name}' of ${n.opType} '${n.name}' is neither the layer's output nor a scalar constant`);
    }
    const s = c.data[0] as number;
    return () => s;
  };
  const a = operand(0);
  const unary: Record<string, (v: number) => number> = {
    Relu: (v) => Math.max(v, 0),
    Tanh: Math.tanh,
    Erf: erf,
    Identity: (v) => v,
    Gelu: (v) => 0.5 * v * (1 + erf(v * Math.SQRT1_2)),
  };
  const u = unary[n.opType];
  const approximate = n.attribute.find((t) => t.name === 'approximate');
  if (n.opType === 'Gelu' && approximate !== undefined && new TextDecoder().decode(approximate.s) !== 'none') {
    throw new ValueError(`onnx: Gelu '${n.name}' is the tanh approximation; only the exact erf form is supported`);
  }
  if (u !== undefined) return Float64Array.from(SAMPLES, (_, i) => u(a(i)));
  const b = operand(1);
  const binary: Record<string, (p: number, q: number) => number> = {
    Mul: (p, q) => p * q,
    Div: (p, q) => p / q,
    Add: (p, q) => p + q,
    Sub: (p, q) => p - q,
  };
  const f = binary[n.opType] as (p: number, q: number) => number;
  return Float64Array.from(SAMPLES, (_, i) => f(a(i), b(i)));
}

/** erf to about 1e-7 (Abramowitz & Stegun 7.1.26): enough to tell gelu from its look-alikes. */
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return x < 0 ? -y : y;
}
