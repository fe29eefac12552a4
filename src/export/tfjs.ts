import { DTypeError, ShapeError, ValueError } from '../errors.js';
import { MLP_ACTIVATIONS, layerSizes, validateMlp, type MlpActivation, type MlpDescription, type MlpLayer } from './mlp.js';

// A structural copy of the parts of TF.js's `tf.io.ModelArtifacts` that a layers model uses, so
// the library does not depend on TF.js: an object of this type is a `tf.io.ModelArtifacts`
// (test/export-tfjs.test.ts checks it against TF.js's own type).

/** One entry of `weightSpecs`: where a weight lies in `weightData`, in order, float32. */
export interface TfjsWeightSpec {
  /** The weight's name, e.g. `'dense_Dense1/kernel'`. */
  readonly name: string;
  /** Its shape. */
  readonly shape: number[];
  /** Always float32. */
  readonly dtype: 'float32';
}

/** A Keras layer's serialized form, as in `model.toJSON()`. */
export interface TfjsLayerJson {
  /** The Keras class, e.g. `'Dense'`. */
  readonly class_name: string;
  /** Its configuration, as Keras serializes it. */
  readonly config: { readonly [key: string]: unknown };
}

/** The `modelTopology` of a Keras `Sequential` model. */
export interface TfjsModelTopology {
  /** A Sequential model. */
  readonly class_name: 'Sequential';
  /** The model's name and its layers. */
  readonly config: {
    /** The model's name. */
    readonly name: string;
    /** Its layers, input first. */
    readonly layers: TfjsLayerJson[];
  };
  /** The Keras version the topology follows. */
  readonly keras_version: string;
  /** The Keras backend named in the topology. */
  readonly backend: string;
}

/**
 * What `tf.loadLayersModel(tf.io.fromMemory(artifacts))` loads: a `tf.io.ModelArtifacts` of
 * format 'layers-model'.
 */
export interface TfjsModelArtifacts {
  /** The Keras topology. */
  readonly modelTopology: TfjsModelTopology;
  /** Always `'layers-model'`. */
  readonly format: 'layers-model';
  /** The library and version that wrote it. */
  readonly generatedBy: string;
  /** Null: not converted from Python Keras. */
  readonly convertedBy: null;
  /** Where each weight lies in `weightData`, in order. */
  readonly weightSpecs: TfjsWeightSpec[];
  /** Every weight's float32 values, back to back. */
  readonly weightData: ArrayBuffer;
}

/** The name of the last Dense layer (its output is the logits) and of the softmax after it. */
export const TFJS_LOGITS_LAYER = 'logits';
export const TFJS_PROBABILITIES_LAYER = 'probabilities';

/**
 * Writes `desc` as TF.js layers-model artifacts: a Sequential of Dense layers (the hidden ones
 * with `desc.activation`, the last one linear, named 'logits') and an Activation('softmax')
 * layer named 'probabilities', whose output `model.predict` returns. TF.js's Dense kernel is
 * [in, out], our layout, so weights are copied as they are. TF.js 4.x's 'gelu' is the exact
 * erf form, as ours.
 *
 * @example
 * const model = await tf.loadLayersModel(tf.io.fromMemory(writeTfjs(head)));
 * const probabilities = model.predict(tf.tensor2d(x, [n, head.features])) as tf.Tensor;
 */
export function writeTfjs(desc: MlpDescription): TfjsModelArtifacts {
  validateMlp(desc);
  const sizes = layerSizes(desc);
  const layers: TfjsLayerJson[] = [];
  const weightSpecs: TfjsWeightSpec[] = [];
  const weightData = new Float32Array(sizes.reduce((n, [i, o]) => n + i * o + o, 0));
  let offset = 0;
  sizes.forEach(([inSize, outSize], i) => {
    const layer = desc.layers[i] as MlpLayer;
    const last = i === sizes.length - 1;
    const name = last ? TFJS_LOGITS_LAYER : `dense_${i}`;
    layers.push({
      class_name: 'Dense',
      config: {
        name,
        units: outSize,
        activation: last ? 'linear' : desc.activation,
        use_bias: true,
        trainable: true,
        dtype: 'float32',
        ...(i === 0 ? { batch_input_shape: [null, inSize] } : {}),
      },
    });
    weightSpecs.push(
      { name: `${name}/kernel`, shape: [inSize, outSize], dtype: 'float32' },
      { name: `${name}/bias`, shape: [outSize], dtype: 'float32' },
    );
    weightData.set(layer.weight, offset);
    weightData.set(layer.bias, offset + layer.weight.length);
    offset += layer.weight.length + layer.bias.length;
  });
  layers.push({
    class_name: 'Activation',
    config: { name: TFJS_PROBABILITIES_LAYER, activation: 'softmax', trainable: true, dtype: 'float32' },
  });
  return {
    modelTopology: {
      class_name: 'Sequential',
      config: { name: 'mlp', layers },
      keras_version: 'tfjs-layers 4.22.0',
      backend: 'tensor_flow.js',
    },
    format: 'layers-model',
    generatedBy: 'webgpu-softmax',
    convertedBy: null,
    weightSpecs,
    weightData: weightData.buffer,
  };
}

/** The fields of `tf.io.ModelArtifacts` that {@link readTfjs} reads. */
export interface TfjsArtifactsLike {
  readonly modelTopology?: unknown;
  readonly weightSpecs?: readonly { readonly name: string; readonly shape: readonly number[]; readonly dtype: string }[];
  readonly weightData?: ArrayBuffer | readonly ArrayBuffer[];
}

/**
 * Reads TF.js layers-model artifacts of a Sequential of Dense layers (what {@link writeTfjs}
 * writes, or what TF.js's `model.save(tf.io.withSaveHandler(...))` gives for such a model)
 * back into a description. The last Dense may carry the softmax or be followed by an
 * Activation('softmax'); hidden Dense layers must share one of relu, gelu, tanh.
 *
 * @example
 * const head = readTfjs(writeTfjs(trained)); // the same weights, bit for bit
 */
export function readTfjs(artifacts: TfjsArtifactsLike): MlpDescription {
  // Files from the Python converter (tensorflowjs_converter) wrap the model in `model_config`.
  const raw = artifacts.modelTopology as (TfjsModelTopology & { model_config?: TfjsModelTopology }) | undefined;
  const topology = raw?.model_config ?? raw;
  if (topology?.class_name !== 'Sequential' || !Array.isArray(topology.config?.layers)) {
    throw new ValueError('tfjs: modelTopology must be a Keras Sequential model of Dense layers');
  }
  const specs = artifacts.weightSpecs ?? [];
  const buffers = artifacts.weightData === undefined ? [] : Array.isArray(artifacts.weightData) ? artifacts.weightData : [artifacts.weightData];
  const bytes = concat(buffers as ArrayBuffer[]);
  const weights = new Map<string, { shape: readonly number[]; data: Float32Array }>();
  let offset = 0;
  for (const spec of specs) {
    if (spec.dtype !== 'float32') throw new DTypeError(`tfjs: weight '${spec.name}' is ${spec.dtype}; only float32 is supported`);
    const length = spec.shape.reduce((a, b) => a * b, 1);
    if (offset + 4 * length > bytes.length) {
      throw new ShapeError(`tfjs: weight '${spec.name}' [${spec.shape.join(', ')}] runs past the end of weightData (${bytes.length} bytes)`);
    }
    weights.set(spec.name, { shape: spec.shape, data: new Float32Array(bytes.slice(offset, offset + 4 * length).buffer) });
    offset += 4 * length;
  }
  if (offset !== bytes.length) throw new ShapeError(`tfjs: weightData holds ${bytes.length} bytes, but weightSpecs describe ${offset}`);

  const dense = topology.config.layers.filter((l) => l.class_name === 'Dense');
  const others = topology.config.layers.filter(
    (l) => l.class_name !== 'Dense' && !(l.class_name === 'Activation' && l.config['activation'] === 'softmax') && l.class_name !== 'InputLayer',
  );
  if (dense.length === 0 || others.length > 0) {
    throw new ValueError(`tfjs: expected Dense layers and a softmax only, got ${topology.config.layers.map((l) => l.class_name).join(', ')}`);
  }
  const hiddenActivations = dense.slice(0, -1).map((l) => String(l.config['activation']));
  const activation = (hiddenActivations[0] ?? 'relu') as MlpActivation;
  hiddenActivations.forEach((a, i) => {
    if (a !== activation || !(MLP_ACTIVATIONS as readonly string[]).includes(a)) {
      throw new ValueError(`tfjs: Dense layer ${i} has activation '${a}'; hidden layers must share one of ${MLP_ACTIVATIONS.join(', ')}`);
    }
  });
  const lastActivation = String(dense[dense.length - 1]?.config['activation'] ?? 'linear');
  if (lastActivation !== 'linear' && lastActivation !== 'softmax') {
    throw new ValueError(`tfjs: the last Dense layer has activation '${lastActivation}'; expected linear (then softmax) or softmax`);
  }
  const used = new Set<string>();
  const layers: MlpLayer[] = [];
  const sizes: number[] = [];
  dense.forEach((l) => {
    const name = String(l.config['name']);
    if (l.config['use_bias'] === false) throw new ValueError(`tfjs: Dense layer '${name}' has no bias`);
    const kernel = weights.get(`${name}/kernel`);
    const bias = weights.get(`${name}/bias`);
    if (kernel === undefined || bias === undefined) throw new ShapeError(`tfjs: weight '${name}/${kernel === undefined ? 'kernel' : 'bias'}' is missing`);
    const [inSize, outSize] = kernel.shape;
    if (kernel.shape.length !== 2 || inSize === undefined || outSize === undefined) {
      throw new ShapeError(`tfjs: weight '${name}/kernel' has shape [${kernel.shape.join(', ')}], not [in, out]`);
    }
    if (sizes.length > 0 && sizes[sizes.length - 1] !== inSize) {
      throw new ShapeError(`tfjs: weight '${name}/kernel' takes ${inSize} inputs, but the layer before gives ${sizes[sizes.length - 1]}`);
    }
    if (sizes.length === 0) sizes.push(inSize);
    sizes.push(outSize);
    layers.push({ weight: kernel.data, bias: bias.data });
    used.add(`${name}/kernel`).add(`${name}/bias`);
  });
  const extra = [...weights.keys()].filter((n) => !used.has(n));
  if (extra.length > 0) throw new ShapeError(`tfjs: unexpected weight(s) ${extra.map((n) => `'${n}'`).join(', ')}`);
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

function concat(buffers: readonly ArrayBuffer[]): Uint8Array {
  const out = new Uint8Array(buffers.reduce((n, b) => n + b.byteLength, 0));
  let at = 0;
  for (const b of buffers) {
    out.set(new Uint8Array(b), at);
    at += b.byteLength;
  }
  return out;
}
