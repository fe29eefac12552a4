// The bin's model files: the format from the --out extension, and the class names (and the CSV's
// feature and label columns) saved beside the weights, where each format keeps such things:
// ONNX metadata_props, safetensors __metadata__, and top-level fields of the JSON document.

import { readFile, writeFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import type { Classifier, ClassifierJSON, Context, SoftmaxRegression } from 'webgpu-softmax';
import { DataError } from './data.js';
import { UsageError } from './args.js';

export type ModelFormat = 'onnx' | 'safetensors' | 'json' | 'checkpoint';

/** What the bin saves beside the weights, and reads back to name its predictions. */
export interface ModelLabels {
  /** Class names in class-id order. */
  readonly classNames: readonly string[];
  /** The features' names (the CSV's columns; x0, x1... for arrays). */
  readonly featureNames: readonly string[] | null;
  /** The CSV's label column, if it was trained on one. */
  readonly labelColumn: string | null;
}

/** The metadata keys, the same in ONNX and safetensors (string values; lists as JSON). */
const KEYS = { classNames: 'labels', featureNames: 'feature_names', labelColumn: 'label_column' } as const;

/** The format an --out path asks for, from its extension; a `UsageError` for anything else. */
export function formatOf(path: string): ModelFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.onnx') return 'onnx';
  if (ext === '.safetensors') return 'safetensors';
  if (ext === '.json') return 'json';
  if (isCheckpoint(path)) return 'checkpoint';
  throw new UsageError(`--out must end in .onnx, .safetensors, .json or .ckpt, got ${JSON.stringify(path)}`);
}

/** A checkpoint's path: `.ckpt`, or a file named `checkpoint`. */
function isCheckpoint(path: string): boolean {
  return extname(path).toLowerCase() === '.ckpt' || basename(path) === 'checkpoint';
}

export async function saveModel(model: Classifier, path: string, format: ModelFormat, labels: ModelLabels): Promise<void> {
  const metadata: Record<string, string> = { [KEYS.classNames]: JSON.stringify(labels.classNames) };
  if (labels.featureNames !== null) metadata[KEYS.featureNames] = JSON.stringify(labels.featureNames);
  if (labels.labelColumn !== null) metadata[KEYS.labelColumn] = labels.labelColumn;
  let bytes: Uint8Array;
  if (format === 'onnx') bytes = withOnnxMetadata(await model.export('onnx'), metadata);
  else if (format === 'safetensors') bytes = withSafetensorsMetadata(await model.export('safetensors'), metadata);
  // A checkpoint is safetensors too, and `ctx.restore` reads only its own metadata keys.
  else if (format === 'checkpoint') bytes = withSafetensorsMetadata(await model.checkpoint(), metadata);
  else {
    await model.getWeights();
    const doc = { ...model.toJSON(), classNames: labels.classNames, featureNames: labels.featureNames, labelColumn: labels.labelColumn };
    bytes = new TextEncoder().encode(`${JSON.stringify(doc)}\n`);
  }
  await writeFile(path, bytes);
}

/**
 * ONNX's ModelProto with `metadata_props` entries (field 14, StringStringEntryProto { key = 1,
 * value = 2 }) appended: a protobuf message may carry its fields in any order, and repeated
 * fields add up, so appending is a valid encoding of the same model plus the entries.
 */
function withOnnxMetadata(model: Uint8Array, metadata: Record<string, string>): Uint8Array {
  const writer = new BinaryWriter();
  writer.raw(model);
  for (const [key, value] of Object.entries(metadata)) {
    writer.tag(14, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string(key).tag(2, WireType.LengthDelimited).string(value).join();
  }
  return writer.finish();
}

function onnxMetadata(model: Uint8Array): Record<string, string> {
  const reader = new BinaryReader(model);
  const out: Record<string, string> = {};
  while (reader.pos < reader.len) {
    const [field, wire] = reader.tag();
    if (field !== 14 || wire !== WireType.LengthDelimited) {
      reader.skip(wire);
      continue;
    }
    const entry = new BinaryReader(reader.bytes());
    let key = '';
    let value = '';
    while (entry.pos < entry.len) {
      const [f, w] = entry.tag();
      if (f === 1) key = entry.string();
      else if (f === 2) value = entry.string();
      else entry.skip(w);
    }
    out[key] = value;
  }
  return out;
}

/** safetensors with keys added to `__metadata__`: the JSON header rewritten, padded to 8 bytes again. */
function withSafetensorsMetadata(file: Uint8Array, metadata: Record<string, string>): Uint8Array {
  const { header, data } = safetensorsParts(file);
  header['__metadata__'] = { ...(header['__metadata__'] as Record<string, string> | undefined), ...metadata };
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (new TextEncoder().encode(json).length % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  out.set(data, 8 + headerBytes.length);
  return out;
}

function safetensorsParts(file: Uint8Array): { header: Record<string, unknown>; data: Uint8Array } {
  const length = Number(new DataView(file.buffer, file.byteOffset, file.byteLength).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + length))) as Record<string, unknown>;
  return { header, data: file.subarray(8 + length) };
}

/** A model file the bin (or the library) wrote, with its labels: from the metadata where present, else class ids. */
export async function loadModel(ctx: Context, path: string): Promise<{ model: Classifier | SoftmaxRegression; labels: ModelLabels }> {
  const bytes = new Uint8Array(await readFile(path).catch(() => {
    throw new DataError(`${path}: no such file`);
  }));
  const ext = extname(path).toLowerCase();
  let model: Classifier | SoftmaxRegression;
  let meta: Record<string, unknown>;
  try {
    if (ext === '.onnx') {
      model = await ctx.importClassifier(bytes, { format: 'onnx' });
      meta = onnxMetadata(bytes);
    } else if (ext === '.safetensors') {
      model = await ctx.importClassifier(bytes, { format: 'safetensors' });
      meta = (safetensorsParts(bytes).header['__metadata__'] ?? {}) as Record<string, string>;
    } else if (isCheckpoint(path)) {
      model = await ctx.restore(bytes);
      meta = (safetensorsParts(bytes).header['__metadata__'] ?? {}) as Record<string, string>;
    } else if (ext === '.json') {
      const doc = JSON.parse(new TextDecoder().decode(bytes)) as ClassifierJSON & { classNames?: unknown; featureNames?: unknown; labelColumn?: unknown };
      const { classNames, featureNames, labelColumn, ...json } = doc;
      model = ctx.loadClassifier(json);
      meta = { [KEYS.classNames]: classNames, [KEYS.featureNames]: featureNames, [KEYS.labelColumn]: labelColumn };
    } else {
      throw new DataError(`${path}: a model must be a .onnx, .safetensors, .json or .ckpt file`);
    }
  } catch (error) {
    throw error instanceof DataError ? error : new DataError(`${path}: ${(error as Error).message}`);
  }
  const list = (value: unknown): string[] | null => {
    const parsed = typeof value === 'string' ? (JSON.parse(value) as unknown) : value;
    return Array.isArray(parsed) && parsed.every((v) => typeof v === 'string') ? parsed : null;
  };
  let classNames = list(meta[KEYS.classNames]);
  if (classNames !== null && classNames.length !== model.classes) {
    throw new DataError(`${path}: ${classNames.length} class names for a model of ${model.classes} classes`);
  }
  classNames ??= Array.from({ length: model.classes }, (_, c) => String(c));
  let featureNames = list(meta[KEYS.featureNames]);
  if (featureNames !== null && featureNames.length !== model.features) featureNames = null;
  const labelColumn = typeof meta[KEYS.labelColumn] === 'string' ? (meta[KEYS.labelColumn] as string) : null;
  return { model, labels: { classNames, featureNames, labelColumn } };
}
