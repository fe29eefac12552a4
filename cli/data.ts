// The bin's readers: CSV through csv-parse (a streaming parser, so a file of any length never
// becomes one string), .npy through npyjs (its header and dtypes) and .npz through fflate
// (zip). A training file is read and checked once, before any training: a CSV's features are
// written to a float32 cache file as they are parsed, and every epoch then streams rows from
// that cache (or straight from a .npy file), a block at a time.

import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, readFile, rm, stat, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, extname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import { parse, type CsvError } from 'csv-parse';
import { unzipSync } from 'fflate';
import { float16ToFloat32, parse as parseNpy } from 'npyjs';
import { LabelCollector } from './labels.js';

/** A bad input file: printed as one line (`file:line:column: what`), exit code 2, nothing written. */
export class DataError extends Error {}

/** Rows of features, read a block at a time. */
export interface RowSource {
  readonly rows: number;
  readonly features: number;
  /** Rows `[start, start + count)`, row-major float32. */
  read(start: number, count: number): Promise<Float32Array>;
  close(): Promise<void>;
}

/** A checked training file: its features (streamed), one class id per row and the class names. */
export interface TrainingData {
  readonly x: RowSource;
  readonly featureNames: readonly string[];
  /** The CSV's label column; null for arrays. */
  readonly labelColumn: string | null;
  readonly labels: Int32Array;
  readonly classNames: readonly string[];
}

export interface ReadOptions {
  /** CSV: the label column's name (default: the last column). */
  readonly label?: string | undefined;
  /** .npy / .npz: the labels file (.npy, or text with one label per line). */
  readonly labels?: string | undefined;
}

/** Reads and checks a training file (.csv, .npy or .npz), failing with a `DataError` naming the fault. */
export async function readTrainingData(path: string, options: ReadOptions): Promise<TrainingData> {
  await mustExist(path);
  const ext = extname(path).toLowerCase();
  if (ext === '.npy' || ext === '.npz') {
    if (options.label !== undefined) throw new DataError(`--label names a CSV column; ${basename(path)} is an array file: give its labels with --labels FILE`);
    return readArrays(path, ext, options.labels);
  }
  if (options.labels !== undefined) throw new DataError(`--labels is for .npy/.npz features; a CSV holds its labels in a column (--label NAME)`);
  return readCsv(path, options.label);
}

async function mustExist(path: string): Promise<void> {
  const info = await stat(path).catch(() => null);
  if (info === null) throw new DataError(`${path}: no such file`);
  if (!info.isFile()) throw new DataError(`${path}: not a file`);
}

// ---------------------------------------------------------------------------------------------
// CSV

/** csv-parse's records with where they ended, so every fault names its line. */
function csvRecords(path: string) {
  // Quoted fields are read as csv-parse reads them; surrounding spaces are trimmed; blank lines are skipped.
  return createReadStream(path).pipe(parse({ bom: true, info: true, trim: true, skip_empty_lines: true }));
}

/** One line for csv-parse's own complaints (ragged rows, unclosed quotes), with line and column. */
function csvFault(path: string, error: unknown, header: readonly string[] | null): DataError {
  const e = error as CsvError & { lines?: number; record?: string[]; column?: number | string };
  if (e.code === 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH' && header !== null && e.record !== undefined) {
    const got = e.record.length;
    return new DataError(`${path}:${e.lines}:${Math.min(got, header.length) + 1}: this row has ${got} fields, the header has ${header.length}`);
  }
  if (typeof e.code === 'string' && e.code.startsWith('CSV_')) {
    return new DataError(`${path}:${e.lines ?? '?'}: ${e.message.replace(/^.*?: /, '').replace(/\.$/, '')}`);
  }
  return new DataError(`${path}: ${(error as Error).message}`);
}

/** A float32 cache file that grows by appended rows, with backpressure. */
class CacheWriter {
  readonly #stream;
  readonly #chunk: Float32Array;
  #filled = 0;

  constructor(readonly path: string) {
    this.#stream = createWriteStream(path);
    this.#chunk = new Float32Array(1 << 16);
  }

  async push(value: number): Promise<void> {
    this.#chunk[this.#filled++] = value;
    if (this.#filled === this.#chunk.length) await this.#flush();
  }

  async #flush(): Promise<void> {
    if (this.#filled === 0) return;
    const ok = this.#stream.write(Buffer.from(this.#chunk.buffer.slice(0, this.#filled * 4)));
    this.#filled = 0;
    if (!ok) await once(this.#stream, 'drain');
  }

  #closed: Promise<void> | null = null;

  /** Flushes and closes the file; the first call does it, later ones wait for it. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.#flush();
      this.#stream.end();
      await once(this.#stream, 'finish');
    })();
    return this.#closed;
  }
}

async function readCsv(path: string, labelName: string | undefined): Promise<TrainingData> {
  const dir = await mkdtemp(join(tmpdir(), 'webgpu-softmax-'));
  const cache = new CacheWriter(join(dir, 'features.f32'));
  const labels = new LabelCollector();
  let header: string[] | null = null;
  let labelIndex = -1;
  let featureNames: string[] = [];
  try {
    try {
      for await (const { record, info } of csvRecords(path) as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
        if (header === null) {
          header = record;
          labelIndex = labelName === undefined ? header.length - 1 : header.indexOf(labelName);
          if (labelIndex < 0) throw new DataError(`${path}:1: no column "${labelName}" for --label; the header has ${header.map((h) => JSON.stringify(h)).join(', ')}`);
          if (header.length < 2) throw new DataError(`${path}:1: the header names one column; a label column and at least one feature column are needed`);
          featureNames = header.filter((_, j) => j !== labelIndex);
          continue;
        }
        for (let j = 0; j < record.length; j++) {
          if (j === labelIndex) continue;
          const field = record[j]!;
          const value = Number(field);
          if (field === '' || !Number.isFinite(value)) {
            const what = field === '' ? 'an empty field' : `${JSON.stringify(field)}, not a finite number,`;
            throw new DataError(`${path}:${info.lines}:${j + 1}: ${what} in feature column "${header[j]}"`);
          }
          await cache.push(value);
        }
        if (record[labelIndex] === '') throw new DataError(`${path}:${info.lines}:${labelIndex + 1}: an empty label in column "${header[labelIndex]}"`);
        labels.add(record[labelIndex]!);
      }
    } catch (error) {
      throw error instanceof DataError ? error : csvFault(path, error, header);
    }
    if (header === null) throw new DataError(`${path}: the file is empty; a CSV needs a header row and data rows`);
    if (labels.rows === 0) throw new DataError(`${path}: a header but no data rows`);
    await cache.close();
    const { ids, names } = labels.finish();
    if (names.length < 2) throw new DataError(`${path}: every label in column "${header[labelIndex]}" is ${JSON.stringify(names[0])}; a classifier needs two classes or more`);
    const x = await fileRows(cache.path, 0, 'f4', ids.length, featureNames.length, async () => rm(dir, { recursive: true, force: true }));
    return { x, featureNames, labelColumn: header[labelIndex]!, labels: ids, classNames: names };
  } catch (error) {
    await cache.close().catch(() => {});
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// .npy / .npz

/** The numeric dtypes we read as features, by numpy's type code (byte order apart). */
const NUMERIC = new Set(['f2', 'f4', 'f8', 'i1', 'u1', 'i2', 'u2', 'i4', 'u4', 'i8', 'u8']);
const ITEM_BYTES: Readonly<Record<string, number>> = { f2: 2, f4: 4, f8: 8, i1: 1, u1: 1, i2: 2, u2: 2, i4: 4, u4: 4, i8: 8, u8: 8 };

interface NpyHeader {
  /** numpy's type code without the byte order: 'f4', 'i8', 'U5'... */
  readonly dtype: string;
  readonly descr: string;
  readonly shape: readonly number[];
  readonly dataOffset: number;
}

/**
 * The header of a .npy file, parsed by npyjs from its first bytes (npyjs reads no further than
 * the header when given only the header). npyjs reads every dtype as little-endian, so the byte
 * order is checked here first.
 */
function npyHeader(name: string, head: Uint8Array, fileBytes: number): NpyHeader {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (head.length < 10 || magic.some((b, i) => head[i] !== b)) throw new DataError(`${name}: not a .npy file (no \\x93NUMPY magic)`);
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const major = head[6]!;
  const headerEnd = major <= 1 ? 10 + view.getUint16(8, true) : 12 + view.getUint32(8, true);
  if (headerEnd > head.length) throw new DataError(`${name}: the .npy header is cut short`);
  const bytes = head.slice(0, headerEnd);
  const text = new TextDecoder('latin1').decode(bytes.subarray(major <= 1 ? 10 : 12));
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(text)?.[1];
  if (descr === undefined) throw new DataError(`${name}: the .npy header has no descr`);
  if (descr.startsWith('>') && descr.slice(1) !== 'i1' && descr.slice(1) !== 'u1') {
    throw new DataError(`${name}: dtype '${descr}' is big-endian; save it little-endian (arr.astype(arr.dtype.newbyteorder('<')))`);
  }
  let parsed;
  try {
    parsed = parseNpy(bytes.buffer);
  } catch (error) {
    throw new DataError(`${name}: ${(error as Error).message}`);
  }
  if (parsed.fortranOrder) throw new DataError(`${name}: the array is in Fortran order; save it with np.save(path, np.ascontiguousarray(arr))`);
  const shape = parsed.shape;
  const dtype = parsed.dtype as string;
  const items = shape.reduce((a, b) => a * b, 1);
  const expected = headerEnd + items * (ITEM_BYTES[dtype] ?? 0);
  if (NUMERIC.has(dtype) && fileBytes !== expected) {
    throw new DataError(`${name}: shape (${shape.join(', ')}) of ${dtype} needs ${expected - headerEnd} bytes of data, the file has ${fileBytes - headerEnd}`);
  }
  return { dtype, descr, shape, dataOffset: headerEnd };
}

function describeDtype(descr: string): string {
  const code = descr.replace(/^[<>|=]/, '');
  const kind = code[0] === 'U' || code[0] === 'S' ? 'strings' : code[0] === 'c' ? 'complex numbers' : code === 'b1' ? 'booleans' : code[0] === 'O' ? 'Python objects' : 'not numbers';
  return `dtype '${descr}' (${kind})`;
}

/** Values of a numeric dtype as float32, from little-endian bytes. */
function toFloat32(dtype: string, bytes: Uint8Array): Float32Array {
  const aligned = bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
  const { buffer, byteOffset, byteLength } = aligned;
  const n = byteLength / ITEM_BYTES[dtype]!;
  switch (dtype) {
    case 'f4':
      return new Float32Array(buffer.slice(byteOffset, byteOffset + byteLength) as ArrayBuffer);
    case 'f2': {
      const u16 = new Uint16Array(buffer, byteOffset, n);
      return Float32Array.from(u16, float16ToFloat32);
    }
    case 'f8':
      return Float32Array.from(new Float64Array(buffer, byteOffset, n));
    case 'i1':
      return Float32Array.from(new Int8Array(buffer, byteOffset, n));
    case 'u1':
      return Float32Array.from(new Uint8Array(buffer, byteOffset, n));
    case 'i2':
      return Float32Array.from(new Int16Array(buffer, byteOffset, n));
    case 'u2':
      return Float32Array.from(new Uint16Array(buffer, byteOffset, n));
    case 'i4':
      return Float32Array.from(new Int32Array(buffer, byteOffset, n));
    case 'u4':
      return Float32Array.from(new Uint32Array(buffer, byteOffset, n));
    case 'i8':
      return Float32Array.from(new BigInt64Array(buffer, byteOffset, n), Number);
    case 'u8':
      return Float32Array.from(new BigUint64Array(buffer, byteOffset, n), Number);
    default:
      throw new Error(`toFloat32: ${dtype}`);
  }
}

/** Rows of a numeric array stored at `offset` in a file, converted block by block. */
async function fileRows(path: string, offset: number, dtype: string, rows: number, features: number, onClose = async () => {}): Promise<RowSource> {
  const handle: FileHandle = await open(path, 'r');
  const rowBytes = features * ITEM_BYTES[dtype]!;
  return {
    rows,
    features,
    async read(start, count) {
      const bytes = new Uint8Array(count * rowBytes);
      const { bytesRead } = await handle.read(bytes, 0, bytes.length, offset + start * rowBytes);
      if (bytesRead !== bytes.length) throw new Error(`${path}: read ${bytesRead} of ${bytes.length} bytes at row ${start}`);
      return toFloat32(dtype, bytes);
    },
    async close() {
      await handle.close();
      await onClose();
    },
  };
}

/** Rows of a numeric array held in memory (an .npz entry). */
function memoryRows(data: Uint8Array, dtype: string, rows: number, features: number): RowSource {
  const rowBytes = features * ITEM_BYTES[dtype]!;
  return {
    rows,
    features,
    read: async (start, count) => toFloat32(dtype, data.subarray(start * rowBytes, (start + count) * rowBytes)),
    close: async () => {},
  };
}

/** Checks a features header: 2-D, numeric. */
function featureShape(name: string, header: NpyHeader): [number, number] {
  if (!NUMERIC.has(header.dtype)) throw new DataError(`${name}: ${describeDtype(header.descr)}; features must be numbers (float32, float64, float16 or integers)`);
  if (header.shape.length !== 2) throw new DataError(`${name}: shape (${header.shape.join(', ')}); features must be 2-D, [rows, features]`);
  const [rows, features] = header.shape as [number, number];
  if (rows === 0 || features === 0) throw new DataError(`${name}: shape (${rows}, ${features}) holds no values`);
  return [rows, features];
}

/** Every value finite, checked block by block before any training. */
async function checkFinite(name: string, x: RowSource): Promise<void> {
  const block = Math.max(1, Math.floor((1 << 22) / x.features));
  for (let start = 0; start < x.rows; start += block) {
    const values = await x.read(start, Math.min(block, x.rows - start));
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      const row = start + Math.floor(bad / x.features);
      throw new DataError(`${name}: x[${row}, ${bad % x.features}] is ${values[bad]}; every feature must be a finite number`);
    }
  }
}

/** The arrays of an .npz, unzipped by fflate (an .npz is a zip of .npy files). */
function npzEntries(path: string, bytes: Uint8Array): Map<string, Uint8Array> {
  try {
    const files = unzipSync(bytes);
    return new Map(Object.entries(files).filter(([name]) => name.endsWith('.npy')).map(([name, data]) => [name.slice(0, -4), data]));
  } catch (error) {
    throw new DataError(`${path}: not a readable .npz (zip) file: ${(error as Error).message}`);
  }
}

/** The first of `names` that the archive holds. */
function pick(entries: Map<string, Uint8Array>, names: readonly string[]): string | undefined {
  return names.find((n) => entries.has(n));
}

/** The features of an .npy or .npz file, and the labels an .npz holds (y, Y, labels or target). */
async function openFeatures(path: string, ext: string, wantLabels: boolean): Promise<{ x: RowSource; labels: LabelCollector | null }> {
  if (ext === '.npy') {
    const handle = await open(path, 'r');
    const head = new Uint8Array(65_536);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    const size = (await handle.stat()).size;
    await handle.close();
    const header = npyHeader(path, head.subarray(0, bytesRead), size);
    const [rows, features] = featureShape(path, header);
    return { x: await fileRows(path, header.dataOffset, header.dtype, rows, features), labels: null };
  }
  if (ext !== '.npz') throw new DataError(`${path}: features must be a .csv, .npy or .npz file`);
  const entries = npzEntries(path, new Uint8Array(await readFile(path)));
  const key = pick(entries, ['x', 'X', 'features', 'data']) ?? (entries.size === 1 ? [...entries.keys()][0] : undefined);
  if (key === undefined) throw new DataError(`${path}: no features array named x, X, features or data among ${[...entries.keys()].join(', ') || 'no arrays'}`);
  const data = entries.get(key)!;
  const name = `${path}[${key}]`;
  const header = npyHeader(name, data, data.length);
  const [rows, features] = featureShape(name, header);
  const x = memoryRows(data.subarray(header.dataOffset), header.dtype, rows, features);
  const labelKey = wantLabels ? pick(entries, ['y', 'Y', 'labels', 'target']) : undefined;
  return { x, labels: labelKey === undefined ? null : npyLabels(`${path}[${labelKey}]`, entries.get(labelKey)!) };
}

async function readArrays(path: string, ext: string, labelsPath: string | undefined): Promise<TrainingData> {
  const opened = await openFeatures(path, ext, labelsPath === undefined);
  const { x } = opened;
  try {
    let labelValues = opened.labels;
    if (labelValues === null) {
      if (labelsPath === undefined) throw new DataError(`${path}: the labels are missing; give them with --labels FILE (.npy, or text with one label per line)`);
      labelValues = await readLabelsFile(labelsPath);
    }
    if (labelValues.rows !== x.rows) throw new DataError(`${labelsPath ?? path}: ${labelValues.rows} labels for ${x.rows} rows of features`);
    await checkFinite(path, x);
    const { ids, names } = labelValues.finish();
    if (names.length < 2) throw new DataError(`${labelsPath ?? path}: every label is ${JSON.stringify(names[0])}; a classifier needs two classes or more`);
    return { x, featureNames: Array.from({ length: x.features }, (_, j) => `x${j}`), labelColumn: null, labels: ids, classNames: names };
  } catch (error) {
    await x.close();
    throw error;
  }
}

/** Labels from a .npy array: integers, strings, booleans or whole-valued floats, 1-D. */
function npyLabels(name: string, bytes: Uint8Array): LabelCollector {
  const header = npyHeader(name, bytes, bytes.length);
  if (header.shape.length !== 1) throw new DataError(`${name}: shape (${header.shape.join(', ')}); labels must be 1-D, one per row`);
  const parsed = parseNpy(bytes.slice().buffer);
  const labels = new LabelCollector();
  const code = header.dtype;
  if (!(NUMERIC.has(code) || code[0] === 'U' || code === 'b1')) throw new DataError(`${name}: ${describeDtype(header.descr)}; labels must be integers, strings or booleans`);
  for (const value of Array.from(parsed.data as unknown as ArrayLike<unknown>)) labels.add(typeof value === 'boolean' ? (value ? 'True' : 'False') : String(value));
  return labels;
}

async function readLabelsFile(path: string): Promise<LabelCollector> {
  await mustExist(path);
  if (extname(path).toLowerCase() === '.npy') return npyLabels(path, new Uint8Array(await readFile(path)));
  const labels = new LabelCollector();
  let line = 0;
  let blankAt = 0;
  for await (const text of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) {
    line++;
    if (text.trim() === '') {
      blankAt ||= line;
      continue;
    }
    if (blankAt !== 0) throw new DataError(`${path}:${blankAt}: a blank line among the labels (one label per line)`);
    labels.add(text);
  }
  if (labels.rows === 0) throw new DataError(`${path}: the labels file is empty`);
  return labels;
}

// ---------------------------------------------------------------------------------------------
// Prediction input

/** Features to predict on, in chunks, with the true labels where the file has them. */
export interface PredictionInput {
  readonly chunks: AsyncIterable<{ readonly x: Float32Array; readonly rows: number; readonly labels: readonly string[] | null }>;
}

/**
 * A CSV to predict on: the model's feature columns by name where the model knows them (any
 * order, extra columns ignored), else every column but `labelColumn`; that column, when
 * present, gives the true labels.
 */
export function csvForPrediction(path: string, features: number, featureNames: readonly string[] | null, labelColumn: string | null, chunkRows: number): PredictionInput {
  async function* chunks() {
    await mustExist(path);
    let picks: number[] | null = null;
    let labelIndex = -1;
    let x = new Float32Array(chunkRows * features);
    let labels: string[] = [];
    let rows = 0;
    let header: string[] | null = null;
    try {
      for await (const { record, info } of csvRecords(path) as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
        if (header === null) {
          header = record;
          labelIndex = labelColumn === null ? -1 : header.indexOf(labelColumn);
          if (featureNames !== null) {
            const missing = featureNames.filter((n) => !header!.includes(n));
            if (missing.length > 0) throw new DataError(`${path}:1: the model's feature columns ${missing.map((m) => JSON.stringify(m)).join(', ')} are not in the header`);
            picks = featureNames.map((n) => header!.indexOf(n));
          } else {
            picks = header.map((_, j) => j).filter((j) => j !== labelIndex);
            if (picks.length !== features) throw new DataError(`${path}:1: ${picks.length} feature columns; the model takes ${features}`);
          }
          continue;
        }
        picks!.forEach((j, k) => {
          const field = record[j]!;
          const value = Number(field);
          if (field === '' || !Number.isFinite(value)) {
            const what = field === '' ? 'an empty field' : `${JSON.stringify(field)}, not a finite number,`;
            throw new DataError(`${path}:${info.lines}:${j + 1}: ${what} in feature column "${header![j]}"`);
          }
          x[rows * features + k] = value;
        });
        if (labelIndex >= 0) labels.push(record[labelIndex]!.trim());
        if (++rows === chunkRows) {
          yield { x, rows, labels: labelIndex >= 0 ? labels : null };
          x = new Float32Array(chunkRows * features);
          labels = [];
          rows = 0;
        }
      }
    } catch (error) {
      throw error instanceof DataError ? error : csvFault(path, error, header);
    }
    if (header === null) throw new DataError(`${path}: the file is empty; a CSV needs a header row and data rows`);
    if (rows > 0) yield { x: x.subarray(0, rows * features), rows, labels: labelIndex >= 0 ? labels : null };
  }
  return { chunks: chunks() };
}

/** An .npy or .npz of features to predict on, in chunks (true labels where an .npz holds them). */
export async function arraysForPrediction(path: string, features: number, chunkRows: number): Promise<PredictionInput> {
  await mustExist(path);
  const { x, labels } = await openFeatures(path, extname(path).toLowerCase(), true);
  try {
    if (x.features !== features) throw new DataError(`${path}: ${x.features} features per row; the model takes ${features}`);
    if (labels !== null && labels.rows !== x.rows) throw new DataError(`${path}: ${labels.rows} labels for ${x.rows} rows of features`);
    await checkFinite(path, x);
  } catch (error) {
    await x.close();
    throw error;
  }
  const truth = labels === null ? null : labels.finish();
  async function* chunks() {
    try {
      for (let start = 0; start < x.rows; start += chunkRows) {
        const rows = Math.min(chunkRows, x.rows - start);
        const ids = truth?.ids.subarray(start, start + rows);
        yield { x: await x.read(start, rows), rows, labels: ids === undefined ? null : Array.from(ids, (id) => truth!.names[id]!) };
      }
    } finally {
      await x.close();
    }
  }
  return { chunks: chunks() };
}
