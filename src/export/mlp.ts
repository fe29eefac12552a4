import { ShapeError, ValueError } from '../errors.js';

/** The activation between hidden layers; 'gelu' is the exact erf form (PyTorch's `nn.GELU()` default). */
export type MlpActivation = 'relu' | 'gelu' | 'tanh';

/** The activations an MLP description may name, in the order error messages list them. */
export const MLP_ACTIVATIONS: readonly MlpActivation[] = ['relu', 'gelu', 'tanh'];

/** One dense layer: y = x·weight + bias. */
export interface MlpLayer {
  /** Row-major [in, out] (our layout; PyTorch's `nn.Linear.weight` is its transpose, [out, in]). */
  readonly weight: Float32Array;
  /** [out]. */
  readonly bias: Float32Array;
}

/**
 * A trained MLP classifier head, as plain data: the seam between a model and the file formats.
 * Layer i maps `sizes[i]` to `sizes[i + 1]` features, where sizes = [features, ...hidden, classes];
 * the activation follows every layer but the last, whose outputs are the logits (softmax of them
 * gives the probabilities). `hidden: []` is softmax regression: one layer.
 *
 * @example
 * const head: MlpDescription = {
 *   features: 2, classes: 3, hidden: [], activation: 'relu',
 *   layers: [{ weight: new Float32Array(6), bias: new Float32Array(3) }],
 * };
 */
export interface MlpDescription {
  readonly features: number;
  readonly classes: number;
  readonly hidden: readonly number[];
  readonly activation: MlpActivation;
  readonly layers: readonly MlpLayer[];
}

/**
 * The [in, out] size of each layer of `desc`, from its `features`, `hidden` and `classes`.
 *
 * @example
 * layerSizes({ features: 784, hidden: [100], classes: 10 }); // [[784, 100], [100, 10]]
 */
export function layerSizes(
  desc: Pick<MlpDescription, 'features' | 'hidden' | 'classes'>,
): [number, number][] {
  const sizes = [desc.features, ...desc.hidden, desc.classes];
  return sizes.slice(1).map((out, i) => [sizes[i] as number, out]);
}

function checkSize(value: unknown, field: string): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new ShapeError(`${field} must be a positive integer, got ${String(value)}`);
  }
}

function checkValues(
  array: unknown,
  expected: number,
  field: string,
  shape: readonly number[],
): void {
  if (!(array instanceof Float32Array)) {
    throw new ShapeError(`${field} must be a Float32Array, got ${describeValue(array)}`);
  }
  if (array.length !== expected) {
    throw new ShapeError(
      `${field} has ${array.length} values, but its shape [${shape.join(', ')}] needs ${expected}`,
    );
  }
  for (let i = 0; i < array.length; i++) {
    const v = array[i] as number;
    if (!Number.isFinite(v)) {
      throw new ValueError(`${field}[${i}] is ${v}; every weight must be finite`);
    }
  }
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return (value as object).constructor?.name ?? 'object';
}

/**
 * Checks that `desc` is a well-formed MLP head: positive integer sizes, a known activation, one
 * layer per size pair, each weight [in, out] and bias [out] a Float32Array of finite values.
 * Throws a `ShapeError` or `ValueError` naming the field at fault (`layers[1].weight`, ...).
 *
 * @example
 * validateMlp(head); // throws ShapeError: "layers[0].bias has 2 values, but its shape [3] needs 3"
 */
export function validateMlp(desc: MlpDescription): void {
  checkSize(desc.features, 'features');
  checkSize(desc.classes, 'classes');
  if (!Array.isArray(desc.hidden)) {
    throw new ShapeError(`hidden must be an array of layer widths, got ${describeValue(desc.hidden)}`);
  }
  desc.hidden.forEach((width, i) => checkSize(width, `hidden[${i}]`));
  if (!MLP_ACTIVATIONS.includes(desc.activation)) {
    throw new ValueError(
      `activation must be one of ${MLP_ACTIVATIONS.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(desc.activation)}`,
    );
  }
  const sizes = layerSizes(desc);
  if (!Array.isArray(desc.layers) || desc.layers.length !== sizes.length) {
    throw new ShapeError(
      `layers must hold ${sizes.length} layer(s) for features ${desc.features}, hidden [${desc.hidden.join(', ')}], classes ${desc.classes}; got ${Array.isArray(desc.layers) ? desc.layers.length : describeValue(desc.layers)}`,
    );
  }
  sizes.forEach(([inSize, outSize], i) => {
    const layer = desc.layers[i] as MlpLayer;
    checkValues(layer.weight, inSize * outSize, `layers[${i}].weight`, [inSize, outSize]);
    checkValues(layer.bias, outSize, `layers[${i}].bias`, [outSize]);
  });
}

/** Transposes a row-major [rows, cols] matrix into a new row-major [cols, rows] one. */
export function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c] as number;
  }
  return out;
}
