import { execFileSync, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { zipSync } from 'fflate';
import { dump } from 'npyjs';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareCodePoints, LabelCollector } from '../cli/labels.js';

/**
 * The `webgpu-softmax` bin as users get it: the package packed by `npm pack` (from the dist/
 * that `npm test` builds first), installed into an empty project, and run there as
 * `node_modules/.bin/webgpu-softmax` on files this test writes, good and bad.
 */

const root = fileURLToPath(new URL('..', import.meta.url));
let app = '';

function bin(...argv: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(join(app, 'node_modules/.bin/webgpu-softmax'), argv, { cwd: app, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Three blobs in two dimensions, well apart: any working classifier gets them all right. */
function blobs(rows: number, seed = 1): { x: number[][]; y: number[] } {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5;
  const centers = [[4, 0], [-4, 4], [0, -4]];
  const x: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < rows; i++) {
    const c = i % 3;
    x.push([centers[c]![0]! + rand(), centers[c]![1]! + rand()]);
    y.push(c);
  }
  return { x, y };
}

function csv(header: string[], rows: (string | number)[][]): string {
  return `${header.join(',')}\n${rows.map((r) => r.join(',')).join('\n')}\n`;
}

function npy(values: number[] | string[], shape: number[], dtype?: 'f8' | 'f4' | 'i8' | 'i4'): Uint8Array {
  const typed = dtype === 'f8' ? Float64Array.from(values as number[]) : dtype === 'i8' ? BigInt64Array.from((values as number[]).map(BigInt)) : dtype === 'i4' ? Int32Array.from(values as number[]) : dtype === 'f4' ? Float32Array.from(values as number[]) : (values as string[]);
  return new Uint8Array(dump(typed, shape));
}

const NAMES = ['zebra', 'Ant', 'moth']; // LabelEncoder's order: Ant, moth, zebra (code points: 'A' < 'm' < 'z')

beforeAll(() => {
  app = mkdtempSync(join(tmpdir(), 'webgpu-softmax-bin-'));
  const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', app], { cwd: root, encoding: 'utf8' })) as [{ filename: string }];
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  const install = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', `./${packed[0].filename}`], { cwd: app, encoding: 'utf8', timeout: 180_000 });
  if (install.status !== 0) throw new Error(`npm install of the tarball failed:\n${install.stdout}${install.stderr}`);
  const { x, y } = blobs(300);
  writeFileSync(join(app, 'blobs.csv'), csv(['width', 'height', 'animal'], x.map((r, i) => [...r, NAMES[y[i]!]!])));
  // The label column first, numeric labels whose string order differs from their numeric order.
  writeFileSync(join(app, 'numeric.csv'), csv(['size', 'a', 'b'], x.map((r, i) => [[10, 9, 8][y[i]!]!, ...r])));
  writeFileSync(join(app, 'x.npy'), npy(x.flat(), [x.length, 2], 'f8'));
  writeFileSync(join(app, 'y.npy'), npy(y.map((c) => c * 7), [y.length], 'i8'));
  writeFileSync(join(app, 'y.txt'), `${y.map((c) => NAMES[c]).join('\n')}\n`);
  writeFileSync(join(app, 'xy.npz'), zipSync({ 'x.npy': npy(x.flat(), [x.length, 2], 'f4'), 'y.npy': npy(y, [y.length], 'i4') }));
}, 240_000);

afterAll(() => {
  if (app !== '') rmSync(app, { recursive: true, force: true });
});

describe('LabelEncoder order', () => {
  const encode = (values: string[]) => {
    const c = new LabelCollector();
    for (const v of values) c.add(v);
    return c.finish();
  };

  it('sorts strings by code point and numbers by value, as scikit-learn does', () => {
    expect(encode(['b', 'a', 'c', 'a'])).toEqual({ ids: Int32Array.from([1, 0, 2, 0]), names: ['a', 'b', 'c'] });
    expect(encode(['10', '9', '8', '10'])).toEqual({ ids: Int32Array.from([2, 1, 0, 2]), names: ['8', '9', '10'] });
    // "1" and "1.0" are one number, as pandas reads them; a non-number makes every label a string.
    expect(encode(['1', '1.0', '-2'])).toEqual({ ids: Int32Array.from([1, 1, 0]), names: ['-2', '1'] });
    expect(encode(['10', '9', 'x'])).toEqual({ ids: Int32Array.from([0, 1, 2]), names: ['10', '9', 'x'] });
    expect(['é', 'z', '😀', 'ｚ'].sort(compareCodePoints)).toEqual(['z', 'é', 'ｚ', '😀']);
  });
});

describe('the installed bin', () => {
  it('prints its usage for --help and for each command, and refuses an unknown command', () => {
    const help = bin('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: webgpu-softmax <command>/);
    for (const command of ['train', 'predict', 'bench']) expect(bin(command, '--help').stdout).toMatch(new RegExp(`^Usage: webgpu-softmax ${command}`));
    const bad = bin('fit', 'x.csv');
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split('\n')).toEqual(['webgpu-softmax: unknown command "fit"; the commands are train, predict and bench (webgpu-softmax --help lists the commands)']);
  });

  it('trains on a CSV, says which backend and why, prints every epoch and a confusion matrix in LabelEncoder order, and saves the names', () => {
    const r = bin('train', 'blobs.csv', '--epochs', '8', '--learning-rate', '0.1', '--out', 'blobs.json', '--validation-split', '0.2');
    expect(r.status, r.stderr).toBe(0);
    const out = r.stdout;
    expect(out).toContain('data: blobs.csv: 300 rows, 2 features (width, height), 3 classes (Ant, moth, zebra) from column "animal"');
    // No `webgpu` package in this app: the CPU backend, and the reason.
    expect(out).toMatch(/^backend: cpu \(WebGPU in Node needs Dawn's bindings, the optional `webgpu` package/m);
    expect(out.match(/^epoch +\d+\/8 +loss \d\.\d{4} +acc \d\.\d{4} +val loss \d\.\d{4} +val acc \d\.\d{4}/gm)).toHaveLength(8);
    const accuracy = /^validation accuracy: (\d\.\d{4}) \((\d+) of (\d+) rows\)$/m.exec(out)!;
    expect(Number(accuracy[1])).toBe(1);
    const matrix = out.slice(out.indexOf('true \\ predicted')).split('\n').slice(0, 4).map((l) => l.trim().split(/\s{2,}/));
    expect(matrix[0]).toEqual(['true \\ predicted', 'Ant', 'moth', 'zebra']);
    const counts = matrix.slice(1).map((row) => row.slice(1).map(Number));
    expect(counts.flat().reduce((a, b) => a + b)).toBe(Number(accuracy[3]));
    expect(counts.every((row, t) => row.every((n, p) => (t === p ? n > 0 : n === 0)))).toBe(true);
    const doc = JSON.parse(readFileSync(join(app, 'blobs.json'), 'utf8')) as { format: string; classNames: string[]; featureNames: string[]; labelColumn: string };
    expect([doc.format, doc.classNames, doc.featureNames, doc.labelColumn]).toEqual(['webgpu-softmax/classifier', ['Ant', 'moth', 'zebra'], ['width', 'height'], 'animal']);
  });

  it('saves ONNX that onnxruntime runs and safetensors with the names in their metadata; predict names the classes from each', async () => {
    for (const format of ['onnx', 'safetensors', 'json']) {
      const train = bin('train', 'blobs.csv', '--model', 'mlp', '--hidden', '8', '--epochs', '10', '--learning-rate', '0.05', '--out', `m.${format}`, '--validation-split', '0');
      expect(train.status, train.stderr).toBe(0);
      expect(train.stdout).toContain('training accuracy: 1.0000 (300 of 300 rows)');
      const predict = bin('predict', `m.${format}`, 'blobs.csv', '--top-k', '2', '--out', `p-${format}.csv`);
      expect(predict.status, predict.stderr).toBe(0);
      expect(predict.stdout).toBe('');
      expect(predict.stderr).toContain('accuracy against the file\'s labels: 1.0000 (300 of 300 rows)');
      const lines = readFileSync(join(app, `p-${format}.csv`), 'utf8').trim().split('\n');
      expect(lines[0]).toBe('label_1,probability_1,label_2,probability_2');
      expect(lines).toHaveLength(301);
      expect(lines[1]).toMatch(/^zebra,(0\.9\d+|1\.0+),(Ant|moth),\d/);
    }
    const session = await ort.InferenceSession.create(readFileSync(join(app, 'm.onnx')));
    const { probabilities } = await session.run({ input: new ort.Tensor('float32', Float32Array.from([4, 0, -4, 4]), [2, 2]) });
    const p = probabilities!.data as Float32Array;
    expect(p[2]).toBeGreaterThan(0.9); // zebra is class 2
    expect(p[3]).toBeGreaterThan(0.9); // Ant is class 0
    const st = readFileSync(join(app, 'm.safetensors'));
    const header = JSON.parse(st.subarray(8, 8 + Number(st.readBigUInt64LE(0))).toString()) as { __metadata__: Record<string, string> };
    expect(header.__metadata__).toEqual({ activation: 'relu', labels: '["Ant","moth","zebra"]', feature_names: '["width","height"]', label_column: 'animal' });
    const onnxText = readFileSync(join(app, 'm.onnx')).toString('latin1');
    expect(onnxText).toContain('["Ant","moth","zebra"]');
  });

  it('saves a checkpoint that predict reads and ctx.restore trains on from', () => {
    for (const out of ['m.ckpt', 'checkpoint']) {
      const train = bin('train', 'blobs.csv', '--model', 'mlp', '--hidden', '8', '--epochs', '10', '--learning-rate', '0.05', '--out', out, '--validation-split', '0');
      expect(train.status, train.stderr).toBe(0);
      const predict = bin('predict', out, 'blobs.csv');
      expect(predict.status, predict.stderr).toBe(0);
      expect(predict.stderr).toContain("accuracy against the file's labels: 1.0000 (300 of 300 rows)");
      expect(predict.stdout.split('\n')[1]).toMatch(/^zebra,/);
    }
    // The library restores the bin's checkpoint with Adam's state and goes on from epoch 10.
    const script = [
      "import { readFileSync } from 'node:fs';",
      "import { createContext } from 'webgpu-softmax';",
      "const ctx = await createContext({ backend: 'cpu' });",
      "const model = await ctx.restore(new Uint8Array(readFileSync('m.ckpt')));",
      'const x = ctx.tensor(new Float32Array([4, 0, -4, 4, 0, -4]), [3, 2]);',
      'const y = ctx.tensor(new Int32Array([2, 0, 1]));',
      'const history = await model.fit(x, y, { epochs: 11, initialEpoch: 10 });',
      'console.log(model.constructor.name, model.hidden.join(), history.loss.length, history.accuracy[0]);',
    ].join('\n');
    writeFileSync(join(app, 'resume.mjs'), script);
    const r = spawnSync('node', ['resume.mjs'], { cwd: app, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('Classifier 8 1 1');
  });

  it('prints predictions to stdout, labels numeric classes by value, and reads the label column wherever it is', () => {
    const train = bin('train', 'numeric.csv', '--label', 'size', '--epochs', '8', '--learning-rate', '0.1', '--out', 'numeric.onnx');
    expect(train.status, train.stderr).toBe(0);
    expect(train.stdout).toContain('3 classes (8, 9, 10) from column "size"');
    const predict = bin('predict', 'numeric.onnx', 'numeric.csv');
    expect(predict.status, predict.stderr).toBe(0);
    const lines = predict.stdout.trim().split('\n');
    expect(lines[0]).toBe('label,probability');
    expect(lines.slice(1, 4).map((l) => l.split(',')[0])).toEqual(['10', '9', '8']);
  });

  it('trains on .npy features with a .npy or text labels file, and on an .npz holding both', () => {
    const fromNpy = bin('train', 'x.npy', '--labels', 'y.npy', '--epochs', '8', '--learning-rate', '0.1', '--out', 'npy.json');
    expect(fromNpy.status, fromNpy.stderr).toBe(0);
    expect(fromNpy.stdout).toContain('data: x.npy: 300 rows, 2 features, 3 classes (0, 7, 14) from y.npy');
    expect(fromNpy.stdout).toContain('validation accuracy: 1.0000');
    const fromText = bin('train', 'x.npy', '--labels', 'y.txt', '--epochs', '8', '--learning-rate', '0.1', '--out', 'txt.json');
    expect(fromText.stdout).toContain('3 classes (Ant, moth, zebra) from y.txt');
    const fromNpz = bin('train', 'xy.npz', '--epochs', '8', '--learning-rate', '0.1', '--out', 'npz.safetensors');
    expect(fromNpz.status, fromNpz.stderr).toBe(0);
    expect(fromNpz.stdout).toContain('3 classes (0, 1, 2) from the archive');
    const predict = bin('predict', 'npz.safetensors', 'xy.npz');
    expect(predict.status, predict.stderr).toBe(0);
    expect(predict.stderr).toContain("accuracy against the file's labels: 1.0000 (300 of 300 rows)");
    const fromNpyPredict = bin('predict', 'npy.json', 'x.npy', '--top-k', '3');
    expect(fromNpyPredict.stdout.split('\n')[1]).toMatch(/^0,/);
  });

  it('ends a bad file with one line naming the fault (line and column for a CSV), exit code 2, and writes nothing', () => {
    const files: Record<string, string | Uint8Array> = {
      'ragged.csv': 'a,b,label\n1,2,x\n3,y\n',
      'text.csv': 'a,b,label\n1,2,x\n3,four,y\n',
      'empty.csv': '',
      'header-only.csv': 'a,b,label\n',
      'one-class.csv': 'a,label\n1,x\n2,x\n',
      'strings.npy': npy(['a', 'b'], [2]),
      'flat.npy': npy([1, 2, 3], [3], 'f4'),
      'short-labels.txt': 'a\nb\n',
      'not-npy.npy': 'just text',
      'bad-predict.csv': 'height,width\n1,2\n3,x\n',
    };
    for (const [name, content] of Object.entries(files)) writeFileSync(join(app, name), content);
    const cases: [string[], string][] = [
      [['train', 'ragged.csv'], 'ragged.csv:3:3: this row has 2 fields, the header has 3'],
      [['train', 'text.csv'], 'text.csv:3:2: "four", not a finite number, in feature column "b"'],
      [['train', 'empty.csv'], 'empty.csv: the file is empty; a CSV needs a header row and data rows'],
      [['train', 'header-only.csv'], 'header-only.csv: a header but no data rows'],
      [['train', 'one-class.csv'], 'one-class.csv: every label in column "label" is "x"; a classifier needs two classes or more'],
      [['train', 'blobs.csv', '--label', 'colour'], 'blobs.csv:1: no column "colour" for --label; the header has "width", "height", "animal"'],
      [['train', 'strings.npy', '--labels', 'y.npy'], "strings.npy: dtype '<U1' (strings); features must be numbers (float32, float64, float16 or integers)"],
      [['train', 'flat.npy', '--labels', 'y.npy'], 'flat.npy: shape (3); features must be 2-D, [rows, features]'],
      [['train', 'x.npy', '--labels', 'short-labels.txt'], 'short-labels.txt: 2 labels for 300 rows of features'],
      [['train', 'x.npy'], 'x.npy: the labels are missing; give them with --labels FILE (.npy, or text with one label per line)'],
      [['train', 'not-npy.npy', '--labels', 'y.npy'], 'not-npy.npy: not a .npy file (no \\x93NUMPY magic)'],
      [['train', 'missing.csv'], 'missing.csv: no such file'],
      [['predict', 'blobs.json', 'bad-predict.csv'], 'bad-predict.csv:3:2: "x", not a finite number, in feature column "width"'],
      [['predict', 'blobs.json', 'text.csv'], 'text.csv:1: the model\'s feature columns "width", "height" are not in the header'],
    ];
    for (const [argv, message] of cases) {
      const out = argv[0] === 'train' ? 'never.onnx' : 'never.csv';
      const r = bin(...argv, '--out', out);
      expect(r.status, `${argv.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr.trim().split('\n'), argv.join(' ')).toEqual([`webgpu-softmax: ${message}`]);
      expect(existsSync(join(app, out)), argv.join(' ')).toBe(false);
    }
  });

  it('refuses a bad command line before reading anything', () => {
    const cases: [string[], string][] = [
      [['train'], 'train needs DATA'],
      [['train', 'blobs.csv', '--epochs', '0'], '--epochs must be a positive integer, got "0"'],
      [['train', 'blobs.csv', '--validation-split', '1'], '--validation-split must be a number in [0, 1), got "1"'],
      [['train', 'blobs.csv', '--hidden', '10'], '--hidden needs --model mlp'],
      [['train', 'blobs.csv', '--out', 'model.pt'], '--out must end in .onnx, .safetensors, .json or .ckpt, got "model.pt"'],
      [['train', 'blobs.csv', '--out', 'no/such/dir/m.onnx'], `--out no/such/dir/m.onnx: the folder ${join(app, 'no/such/dir')} does not exist`],
      [['train', 'blobs.csv', '--bogus'], "Unknown option '--bogus'"],
      [['predict', 'm.onnx'], 'predict needs MODEL and DATA'],
      [['predict', 'm.onnx', 'blobs.csv', 'extra'], 'unexpected argument "extra"'],
      [['predict', 'm.onnx', 'blobs.csv', '--top-k', '4'], '--top-k 4: the model has 3 classes'],
    ];
    for (const [argv, message] of cases) {
      const r = bin(...argv);
      expect(r.status, argv.join(' ')).toBe(2);
      expect(r.stderr.trim(), argv.join(' ')).toBe(`webgpu-softmax: ${message} (webgpu-softmax --help lists the commands)`);
    }
  });

  it('streams a million-row CSV through fitDataset in a 48 MB heap (the file is 22 MB; as one string and its split rows it would not fit)', async () => {
    const out = createWriteStream(join(app, 'million.csv'));
    out.write('a,b,c,d,label\n');
    let text = '';
    for (let i = 0; i < 1_000_000; i++) {
      const c = i % 3;
      text += `${c * 2 + ((i * 7919) % 1000) / 1000},${((i * 104729) % 1000) / 1000},${i % 7},${-c + ((i * 31) % 1000) / 1000},${'xyz'[c]}\n`;
      if (text.length > 1 << 20) {
        if (!out.write(text)) await once(out, 'drain');
        text = '';
      }
    }
    out.end(text);
    await once(out, 'finish');
    const r = spawnSync(process.execPath, ['--max-old-space-size=48', join(app, 'node_modules/.bin/webgpu-softmax'), 'train', 'million.csv', '--epochs', '1', '--batch-size', '1024', '--out', 'million.json'], {
      cwd: app,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('data: million.csv: 1000000 rows, 4 features (a, b, c, d), 3 classes (x, y, z)');
    const [, valRows] = /split: (\d+) rows train, (\d+) validate/.exec(r.stdout)!.slice(1);
    expect(Math.abs(Number(valRows) - 100_000)).toBeLessThan(1500);
    expect(Number(/validation accuracy: (\d\.\d+)/.exec(r.stdout)![1])).toBeGreaterThan(0.9);
  }, 120_000);

  it('benchmarks this machine without Dawn or TF.js installed: the CPU backend alone, saying what is left out, and saves the report', () => {
    const r = bin('bench', '--quick', '--cases', 'softmax-4096x10', '--out', 'report');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("bench: WebGPU in Node needs Dawn's bindings, the optional `webgpu` package (npm install webgpu); WebGPU is left out");
    expect(r.stdout).toContain('tfjs-wasm: UNAVAILABLE: TensorFlow.js is not installed (npm install @tensorflow/tfjs @tensorflow/tfjs-backend-wasm @tensorflow/tfjs-backend-webgpu)');
    expect(r.stdout).toMatch(/^\| softmax 4096×10 \| GB\/s ↑ \| \*\*[\d.]+\*\* \([\d.]+–[\d.]+\) \| \*\*[\d.]+\*\*/m);
    const written = [...r.stdout.matchAll(/^bench: wrote (.+)$/gm)].map((m) => m[1]!);
    expect(written.map((p) => p.slice(p.lastIndexOf('.')))).toEqual(['.md', '.json', '.svg']);
    const report = JSON.parse(readFileSync(written[1]!, 'utf8')) as { format: string; environments: { results: { contender: string; measurement: unknown }[] }[] };
    expect(report.format).toBe('webgpu-softmax/bench');
    expect(report.environments[0]!.results.map((x) => x.contender)).toEqual(['ours-cpu', 'ours-cpu-reference']);
    expect(readFileSync(written[2]!, 'utf8')).toMatch(/^<svg /);
  });

  it("trains on WebGPU through Dawn's webgpu package once the app installs it", () => {
    mkdirSync(join(app, 'node_modules'), { recursive: true });
    symlinkSync(join(root, 'node_modules/webgpu'), join(app, 'node_modules/webgpu'));
    const r = bin('train', 'blobs.csv', '--backend', 'webgpu', '--epochs', '4', '--learning-rate', '0.1', '--out', 'gpu.onnx');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^backend: webgpu \(backend 'webgpu' was asked for\); adapter: .+/m);
    expect(r.stdout).toContain('validation accuracy: 1.0000');
  });
});
