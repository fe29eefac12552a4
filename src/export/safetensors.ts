import { DTypeError, ShapeError, ValueError } from '../errors.js';
import {
  MLP_ACTIVATIONS,
  layerSizes,
  transpose,
  validateMlp,
  type MlpActivation,
  type MlpDescription,
  type MlpLayer,
} from './mlp.js';

// The safetensors format (https://github.com/huggingface/safetensors, "Format"): an 8-byte
// little-endian header length N, N bytes of JSON ({ name: { dtype, shape, data_offsets },
// "__metadata__": { string: string } }), then the tensor bytes, little-endian, row-major, with
// data_offsets relative to the end of the header. The reference writer pads the header with
// spaces to a multiple of 8 bytes (so every tensor starts aligned) and lays the tensors out by
// name; we do the same, so our file is byte for byte what `safetensors.torch.save_file` writes
// for the same state_dict and metadata.

/** The largest header the reference reader accepts (100 MB). */
const MAX_HEADER_BYTES = 100_000_000;

/** Options of {@link readSafetensors}. */
export interface ReadSafetensorsOptions {
  /**
   * The activation between layers, which a state_dict does not hold. Default: the file's
   * `__metadata__.activation` when present (our exports write it), else 'relu'. When both are
   * given and differ, the option wins: it is the caller's statement of their architecture.
   */
  readonly activation?: MlpActivation;
}

export interface TensorEntry {
  readonly name: string;
  readonly shape: readonly number[];
  readonly begin: number;
  readonly end: number;
}

/**
 * Writes `desc` as the state_dict of `torch.nn.Sequential(Linear, act, ..., Linear)`:
 * '0.weight' [out, in], '0.bias' [out], '2.weight', ... float32, plus `__metadata__`
 * `{ activation }`. PyTorch reads it with `safetensors.torch.load_file` and
 * `load_state_dict(..., strict=True)`.
 *
 * @example
 * const bytes = writeSafetensors(head);
 * await fs.writeFile('head.safetensors', bytes);
 */
export function writeSafetensors(desc: MlpDescription): Uint8Array {
  validateMlp(desc);
  const tensors: NamedTensor[] = [];
  layerSizes(desc).forEach(([inSize, outSize], i) => {
    const layer = desc.layers[i] as MlpLayer;
    const module = 2 * i; // Sequential indices: Linear, activation, Linear, ...
    tensors.push({ name: `${module}.weight`, shape: [outSize, inSize], data: transpose(layer.weight, inSize, outSize) });
    tensors.push({ name: `${module}.bias`, shape: [outSize], data: layer.bias });
  });
  return writeSafetensorsFile(tensors, { activation: desc.activation });
}

/** A float32 tensor to write: its name in the file, its shape, and its values row-major. */
export interface NamedTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/**
 * Any float32 tensors and string metadata as a safetensors file, laid out as the reference
 * writer lays them: by name, the header padded to 8 bytes. Checkpoints use it too.
 */
export function writeSafetensorsFile(tensors: readonly NamedTensor[], metadata: Readonly<Record<string, string>>): Uint8Array {
  // The reference writer orders tensors by name (code-unit order: '10.bias' before '2.bias').
  const sorted = [...tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of sorted) {
    const end = offset + t.data.length * 4;
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, end] };
    offset = end;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (utf8Length(json) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);

  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const t of sorted) {
    if (LITTLE_ENDIAN) out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    else for (let i = 0; i < t.data.length; i++) view.setFloat32(at + 4 * i, t.data[i]!, true);
    at += t.data.byteLength;
  }
  return out;
}

/** Every platform WebGPU runs on is little-endian, as the format is; the DataView path is for the rest. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function utf8Length(s: string): number {
  return new TextEncoder().encode(s).length;
}

/**
 * Reads a safetensors file holding the state_dict of `nn.Sequential(Linear, act, ..., Linear)`
 * (as {@link writeSafetensors} writes, or PyTorch's `safetensors.torch.save_file(model.state_dict())`)
 * back into an MLP description. Everything is checked before anything is returned: the header
 * against the file's length, every tensor's dtype (F32), shape, offsets and finiteness, that
 * the layers chain and that no tensor is missing or extra; errors name the tensor at fault.
 *
 * @example
 * const head = readSafetensors(new Uint8Array(await fs.readFile('head.safetensors')), { activation: 'gelu' });
 */
export function readSafetensors(bytes: Uint8Array, options: ReadSafetensorsOptions = {}): MlpDescription {
  const file = parseSafetensorsFile(bytes, 'safetensors');
  const activation = options.activation ?? metadataActivation(file.metadata) ?? 'relu';
  const byName = new Map(file.entries.map((e) => [e.name, e]));
  const layers = mlpLayersFromNames(byName, (entry) => entry.shape, 'safetensors');
  const sizes = [layers[0]?.inSize as number, ...layers.map((l) => l.outSize)];
  const desc: MlpDescription = {
    features: sizes[0] as number,
    classes: sizes[sizes.length - 1] as number,
    hidden: sizes.slice(1, -1),
    activation,
    layers: layers.map(({ weight, bias, inSize, outSize }) => ({
      weight: transpose(file.read(weight), outSize, inSize),
      bias: file.read(bias),
    })),
  };
  validateMlp(desc);
  return desc;
}

/** A safetensors file's header, checked against the file, and a reader of its tensors. */
export interface SafetensorsFile {
  readonly entries: readonly TensorEntry[];
  readonly metadata: Readonly<Record<string, string>>;
  /** A copy of one entry's values, each checked finite. */
  read(entry: TensorEntry): Float32Array;
}

/**
 * Checks a safetensors file's framing before any tensor is read: the header length against the
 * file's, the header's JSON, every entry's dtype (F32), shape and offsets, and that the
 * tensors tile the data exactly. `where` starts every error message.
 */
export function parseSafetensorsFile(bytes: Uint8Array, where: string): SafetensorsFile {
  if (!(bytes instanceof Uint8Array)) {
    throw new ValueError(`${where}: expected the file's bytes as a Uint8Array, got ${bytes === null ? 'null' : typeof bytes}`);
  }
  if (bytes.length < 8) {
    throw new ShapeError(`${where}: the file has ${bytes.length} bytes, fewer than the 8 of its header length`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(Math.min(MAX_HEADER_BYTES, bytes.length - 8))) {
    throw new ShapeError(
      `${where}: the header claims ${headerLength} bytes, but ${bytes.length - 8} follow the length field${headerLength > MAX_HEADER_BYTES ? ` (and the format allows at most ${MAX_HEADER_BYTES})` : ''}: the file is truncated or not safetensors`,
    );
  }
  const dataStart = 8 + Number(headerLength);
  const { entries, metadata } = parseHeader(where, bytes.subarray(8, dataStart));
  checkLayout(where, entries, bytes.length - dataStart);
  return { entries, metadata, read: (entry) => readF32(where, bytes, dataStart, entry) };
}

function metadataActivation(metadata: Record<string, string>): MlpActivation | undefined {
  const value = metadata['activation'];
  if (value === undefined) return undefined;
  if (!(MLP_ACTIVATIONS as readonly string[]).includes(value)) {
    throw new ValueError(
      `safetensors: __metadata__.activation is ${JSON.stringify(value)}, not one of ${MLP_ACTIVATIONS.join(', ')}`,
    );
  }
  return value as MlpActivation;
}

function parseHeader(where: string, headerBytes: Uint8Array): { entries: TensorEntry[]; metadata: Record<string, string> } {
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (cause) {
    throw new ValueError(`${where}: the header is not valid UTF-8 JSON (${String(cause)})`, { cause });
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new ValueError(`${where}: the header must be a JSON object of tensors`);
  }
  let metadata: Record<string, string> = {};
  const entries: TensorEntry[] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = parseMetadata(where, info);
      continue;
    }
    entries.push(parseEntry(where, name, info));
  }
  return { entries, metadata };
}

function parseMetadata(where: string, info: unknown): Record<string, string> {
  if (typeof info !== 'object' || info === null || Array.isArray(info)) {
    throw new ValueError(`${where}: __metadata__ must be an object of strings`);
  }
  for (const [key, value] of Object.entries(info)) {
    if (typeof value !== 'string') {
      throw new ValueError(`${where}: __metadata__.${key} must be a string, got ${JSON.stringify(value)}`);
    }
  }
  return info as Record<string, string>;
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function parseEntry(where: string, name: string, info: unknown): TensorEntry {
  if (typeof info !== 'object' || info === null) {
    throw new ValueError(`${where}: tensor '${name}' must be described by { dtype, shape, data_offsets }`);
  }
  const { dtype, shape, data_offsets: offsets } = info as Record<string, unknown>;
  if (dtype !== 'F32') {
    throw new DTypeError(
      `${where}: tensor '${name}' has dtype ${JSON.stringify(dtype)}; only F32 (float32) is supported${where === 'safetensors' ? ': save with model.float()' : ''}`,
    );
  }
  if (!Array.isArray(shape) || !shape.every(isCount)) {
    throw new ShapeError(`${where}: tensor '${name}' has shape ${JSON.stringify(shape)}, not a list of sizes`);
  }
  const [begin, end] = Array.isArray(offsets) && offsets.length === 2 && offsets.every(isCount) ? offsets : [];
  if (begin === undefined || end === undefined || begin > end) {
    throw new ShapeError(`${where}: tensor '${name}' has data_offsets ${JSON.stringify(offsets)}, not [begin, end]`);
  }
  const elements = shape.reduce((a: number, b: number) => a * b, 1);
  if (end - begin !== elements * 4) {
    throw new ShapeError(
      `${where}: tensor '${name}' of shape [${shape.join(', ')}] F32 needs ${elements * 4} bytes, but its data_offsets [${begin}, ${end}] span ${end - begin}`,
    );
  }
  return { name, shape, begin, end };
}

/** The spec's layout rules: tensors inside the buffer, not overlapping, with no holes. */
function checkLayout(where: string, entries: readonly TensorEntry[], dataLength: number): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let previous: TensorEntry | undefined;
  for (const e of sorted) {
    if (e.end > dataLength) {
      throw new ShapeError(
        `${where}: tensor '${e.name}' ends at byte ${e.end} of the data, but the file holds only ${dataLength} data bytes: it is truncated or its header lies`,
      );
    }
    const covered = previous?.end ?? 0;
    if (previous !== undefined && e.begin < covered) {
      throw new ShapeError(
        `${where}: tensor '${e.name}' at bytes [${e.begin}, ${e.end}) overlaps tensor '${previous.name}' at [${previous.begin}, ${previous.end})`,
      );
    }
    if (e.begin > covered) {
      throw new ShapeError(`${where}: the data has a hole at bytes [${covered}, ${e.begin}) before tensor '${e.name}'`);
    }
    previous = e;
  }
  const covered = previous?.end ?? 0;
  if (covered !== dataLength) {
    throw new ShapeError(`${where}: the file has ${dataLength - covered} data bytes after the last tensor that no tensor claims`);
  }
}

function readF32(where: string, bytes: Uint8Array, dataStart: number, entry: TensorEntry): Float32Array {
  const at = bytes.byteOffset + dataStart + entry.begin;
  let out: Float32Array;
  // A copy of the bytes is aligned whatever the file's offset; the DataView path is for big-endian hosts.
  if (LITTLE_ENDIAN) out = new Float32Array(bytes.buffer.slice(at, at + entry.end - entry.begin));
  else {
    const view = new DataView(bytes.buffer, at, entry.end - entry.begin);
    out = new Float32Array((entry.end - entry.begin) / 4);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(4 * i, true);
  }
  for (let i = 0; i < out.length; i++) {
    if (!Number.isFinite(out[i])) {
      throw new ValueError(`${where}: tensor '${entry.name}' holds ${out[i]} at index ${i}; every weight must be finite`);
    }
  }
  return out;
}

/** A Linear layer found in a state_dict: its weight [out, in] and bias [out] tensors. */
interface NamedLinear<T> {
  readonly weight: T;
  readonly bias: T;
  readonly inSize: number;
  readonly outSize: number;
}

/**
 * Finds the Linear layers of an `nn.Sequential` state_dict: '<i>.weight' [out, in] and '<i>.bias'
 * [out] for rising module indices i. We write 0, 2, 4, ... (Linear, activation, Linear, ...);
 * PyTorch heads with parameter-free modules between (Dropout: Linear, ReLU, Dropout, Linear
 * gives 0 and 3) read as well. Checks that every layer has both tensors, that they chain, and
 * that no other tensor is there.
 */
function mlpLayersFromNames<T>(
  tensors: ReadonlyMap<string, T>,
  shapeOf: (tensor: T) => readonly number[],
  format: string,
): NamedLinear<T>[] {
  const modules = new Set<number>();
  const extra: string[] = [];
  for (const name of tensors.keys()) {
    const match = /^(0|[1-9][0-9]*)\.(weight|bias)$/.exec(name);
    if (match === null) extra.push(name);
    else modules.add(Number(match[1]));
  }
  if (modules.size === 0) {
    throw new ShapeError(
      `${format}: no '0.weight' and '0.bias': expected the state_dict of nn.Sequential(Linear, activation, ..., Linear), got tensors ${listNames(tensors.keys())}`,
    );
  }
  if (extra.length > 0) {
    throw new ShapeError(
      `${format}: unexpected tensor(s) ${listNames(extra)}: expected only the '<index>.weight' and '<index>.bias' of the Linear layers of an nn.Sequential`,
    );
  }
  const layers: NamedLinear<T>[] = [];
  let previousName = '';
  for (const module of [...modules].sort((a, b) => a - b)) {
    const weightName = `${module}.weight`;
    const biasName = `${module}.bias`;
    const weight = tensors.get(weightName);
    const bias = tensors.get(biasName);
    if (weight === undefined) throw new ShapeError(`${format}: '${weightName}' is missing (its bias '${biasName}' is there)`);
    if (bias === undefined) {
      throw new ShapeError(`${format}: '${biasName}' is missing: every Linear layer needs a bias (nn.Linear(bias=True))`);
    }
    const wShape = shapeOf(weight);
    const bShape = shapeOf(bias);
    const [outSize, inSize] = wShape;
    if (wShape.length !== 2 || outSize === undefined || inSize === undefined || outSize < 1 || inSize < 1) {
      throw new ShapeError(`${format}: '${weightName}' has shape [${wShape.join(', ')}]; a Linear weight is [out, in]`);
    }
    if (bShape.length !== 1 || bShape[0] !== outSize) {
      throw new ShapeError(`${format}: '${biasName}' has shape [${bShape.join(', ')}], but '${weightName}' [${outSize}, ${inSize}] needs [${outSize}]`);
    }
    const previous = layers[layers.length - 1];
    if (previous !== undefined && previous.outSize !== inSize) {
      throw new ShapeError(
        `${format}: '${weightName}' takes ${inSize} inputs, but the layer before it ('${previousName}') gives ${previous.outSize}: the shapes do not chain`,
      );
    }
    layers.push({ weight, bias, inSize, outSize });
    previousName = weightName;
  }
  return layers;
}

function listNames(names: Iterable<string>): string {
  const all = [...names];
  return all.length === 0 ? '(none)' : all.map((n) => `'${n}'`).join(', ');
}
