// PyTorch's side of the export tests. test/fixtures/export/generate.py (PyTorch with the
// safetensors package) loads the files this test commits under test/fixtures/export/ and writes
// what PyTorch makes of them, and files PyTorch itself wrote, into expected.json.
//
// Regenerate, after a deliberate change of the writers:
//   WRITE_EXPORT_FIXTURES=1 npx vitest run test/export-pytorch.test.ts
//   PYTHONPATH=<safetensors wheel dir> /usr/bin/python3 test/fixtures/export/generate.py
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { readOnnx, readSafetensors, writeOnnx, writeSafetensors, type MlpActivation } from '../src/export/index.js';
import { EXPORT_CASES, EXPORT_INPUT, exportCase, forward64, maxAbsDiff } from './helpers/mlp.js';

const DIR = fileURLToPath(new URL('./fixtures/export/', import.meta.url));
const WRITE = process.env['WRITE_EXPORT_FIXTURES'] === '1';
const read = (name: string) => new Uint8Array(readFileSync(DIR + name));

interface Expected {
  input: { rows: number; features: number; data: number[] };
  ours: Record<string, { probabilities: number[]; resaved_identical: boolean }>;
  torch: Record<string, { activation: MlpActivation; metadata: boolean; logits: number[]; probabilities: number[] }>;
}

/** Our writers' files for each case, and the input rows, as committed under test/fixtures/export/. */
function fixtureFiles(): Record<string, Uint8Array> {
  const files: Record<string, Uint8Array> = {};
  for (const c of EXPORT_CASES) {
    const desc = exportCase(c);
    files[`${c.name}.safetensors`] = writeSafetensors(desc);
    files[`${c.name}.onnx`] = writeOnnx(desc);
  }
  const json = JSON.stringify({ rows: EXPORT_INPUT.rows, features: EXPORT_INPUT.features, data: [...EXPORT_INPUT.data] });
  files['input.json'] = new TextEncoder().encode(json + '\n');
  return files;
}

// Writing the fixtures and comparing them with what was just written would prove nothing: a
// writing run writes, says what changed, and checks nothing else (expected.json is stale
// until generate.py has run again).
describe.runIf(WRITE)('WRITE_EXPORT_FIXTURES=1: rewrites the committed fixtures', () => {
  it('writes each file, and says which changed', () => {
    const changed: string[] = [];
    for (const [name, bytes] of Object.entries(fixtureFiles())) {
      if (!existsSync(DIR + name) || !Buffer.from(bytes).equals(read(name))) changed.push(name);
      writeFileSync(DIR + name, bytes);
    }
    console.log(changed.length === 0 ? 'export fixtures: nothing changed' : `export fixtures rewritten: ${changed.join(', ')}; now run generate.py`);
  });
});

describe.skipIf(WRITE)('our writers still produce the committed fixture bytes that PyTorch read', () => {
  const files = fixtureFiles();
  it.each(Object.keys(files))('%s', (name) => {
    expect(Buffer.from(files[name]!).equals(read(name)), `${name} differs from the committed file`).toBe(true);
  });
});

/** The models generate.py trains in PyTorch and saves with safetensors and torch.onnx.export. */
const TORCH_CASES = ['torch-relu', 'torch-gelu', 'torch-tanh', 'torch-linear', 'torch-dropout'];
const expectedFile = () => JSON.parse(readFileSync(DIR + 'expected.json', 'utf8')) as Expected;

describe.skipIf(WRITE)('PyTorch reads our safetensors (load_state_dict strict=True)', () => {
  it.each(EXPORT_CASES)('$name: PyTorch predicts as our float64 reference, and save_file writes the same bytes', (c) => {
    const got = expectedFile().ours[c.name]!;
    const { probabilities } = forward64(exportCase(c), EXPORT_INPUT.data, EXPORT_INPUT.rows);
    expect(got.probabilities).toHaveLength(probabilities.length);
    // Both sides compute in float64 from the same float32 weights: they agree to rounding.
    expect(maxAbsDiff(got.probabilities, probabilities)).toBeLessThan(1e-12);
    expect(got.resaved_identical).toBe(true);
  });
});

describe.skipIf(WRITE)("we read PyTorch's files and predict as PyTorch does", () => {
  const x = EXPORT_INPUT.data;
  const rows = EXPORT_INPUT.rows;
  it.each(TORCH_CASES)('%s.safetensors', (name) => {
    const t = expectedFile().torch[name]!;
    const options = t.metadata ? {} : { activation: t.activation };
    const desc = readSafetensors(read(`${name}.safetensors`), options);
    expect(desc.activation).toBe(t.activation);
    const ours = forward64(desc, x, rows);
    // float64 on both sides (PyTorch's model.double()), so only rounding separates them.
    expect(maxAbsDiff(ours.probabilities, t.probabilities)).toBeLessThan(1e-12);
    expect(maxAbsDiff(ours.logits, t.logits)).toBeLessThan(1e-12);
  });

  it.each(TORCH_CASES)('%s.onnx (torch.onnx.export): read by us, and our re-export run by onnxruntime', async (name) => {
    const t = expectedFile().torch[name]!;
    const desc = readOnnx(read(`${name}.onnx`));
    expect(desc.activation).toBe(t.activation);
    expect(desc).toEqual(readSafetensors(read(`${name}.safetensors`), { activation: t.activation }));
    const session = await ort.InferenceSession.create(writeOnnx(desc));
    const out = await session.run({ input: new ort.Tensor('float32', x, [rows, desc.features]) });
    await session.release();
    expect(maxAbsDiff(out['probabilities']!.data as Float32Array, t.probabilities)).toBeLessThan(1e-5);
  });
});
