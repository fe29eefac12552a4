#!/usr/bin/env node
// npm run mutants [-- --only id,id] [--list] [--tests file,file]
//
// --tests runs the given test files whole on each mutant instead of its own selection (with
// generous test timeouts, so a slow machine is not taken for a kill), and names every test that
// fails; --no-baseline skips the unmutated run of each selection, for a suite known green (e.g. which of the suite's files catch issue 18's planted bug:
// `npm run mutants -- --only wgsl-ce-mean-clamp --tests test/parity.test.ts,test/fixtures.test.ts`).
//
// Plants realistic bugs one at a time (the list below: WGSL, the Wasm kernels' emitters, the
// host layer, training, the exports) and runs, on each, the tests that should catch it. A
// mutant the tests do not fail "survives", and the run fails. Every mutant is applied to a
// temporary copy of the working tree (tracked and untracked files, node_modules linked), never
// to the tree itself: other checkouts share the machine, and an interrupted run leaves nothing
// behind here. Each mutant names the test files (and a -t filter) that must kill it, so a run
// takes a known time: about 15 minutes on a quiet 2-core machine (README, "Mutation testing").
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Each mutant: an exact text in a file (found exactly once) and its replacement, the tests
 * that must fail on it (`tests` files, `filter` a -t pattern), and the bug it stands for.
 */
export const MUTANTS = [
  // --- WGSL ---
  {
    id: 'wgsl-ce-mean-clamp',
    file: 'shaders/cross_entropy.wgsl',
    find: 'return norm[1];',
    replace: 'return max(norm[1], 1.0 / 65535.0);',
    tests: ['test/parity.test.ts'],
    filter: 'variants chosen from the shapes.*crossEntropy ids mean 70000x10',
    why: "the mean's scale clamped: every gradient 7 % too large past 65 535 rows (issue 18's planted bug)",
  },
  {
    id: 'wgsl-ce-mean-off-by-one',
    file: 'shaders/cross_entropy.wgsl',
    find: 'norm[1] = select(1.0 / total, 0.0, total == 0.0);',
    replace: 'norm[1] = select(1.0 / (total + 1.0), 0.0, total == 0.0);',
    tests: ['test/parity.test.ts'],
    filter: 'variants chosen from the shapes.*crossEntropy index mean$',
    why: "a wrong divisor: the mean's denominator one too large",
  },
  {
    id: 'wgsl-softmax-thread-last-column',
    file: 'shaders/softmax.wgsl',
    find: `  s = stats_merge(s, block);
  for (var c = 0u; c < params.cols; c++) {`,
    replace: `  s = stats_merge(s, block);
  for (var c = 0u; c < params.cols - 1u; c++) {`,
    tests: ['test/parity.test.ts'],
    filter: 'a row per invocation.*softmax 4x10$',
    why: "off by one: a row per invocation never writes a row's last column",
  },
  {
    id: 'wgsl-stats-no-rescale',
    file: 'shaders/lib/row_stats.wgsl',
    find: 'carried = a.y * exp(a.x - v);',
    replace: 'carried = a.y;',
    tests: ['test/parity.test.ts'],
    filter: 'variants chosen from the shapes.*softmax 3x4099',
    why: "online softmax: the running sum not rescaled when the max grows",
  },
  {
    id: 'wgsl-folded-grid',
    file: 'shaders/softmax.wgsl',
    find: 'let row = wid.x + wid.y * groups.x;',
    replace: 'let row = wid.x + wid.y * (groups.x + 1u);',
    tests: ['test/webgpu-host.test.ts'],
    filter: 'folded',
    why: 'a folded 2-D grid rebuilt with the wrong stride: a row past the first 65 535 workgroups is skipped',
  },
  {
    id: 'wgsl-gather-off-by-one',
    file: 'shaders/gather_rows.wgsl',
    find: 'var source = params.start + r;',
    replace: 'var source = params.start + r + 1u;',
    tests: ['test/train.test.ts'],
    filter: 'agree with the CPU backend|same seeded run',
    why: "off by one row: each shuffled batch gathers its neighbour's row",
  },
  // --- WebAssembly kernels, as their emitters write them ---
  {
    id: 'wasm-sum-row-tail',
    file: 'src/cpu/wasm/kernels/rows.ts',
    find: `    f.get(cols).i32(3).op('i32.and').if(() => {
      f.get(total);
      body(true);`,
    replace: `    f.get(cols).i32(0).op('i32.and').if(() => {
      f.get(total);
      body(true);`,
    tests: ['test/fixtures.test.ts'],
    filter: 'wasm kernels.*softmax 5x33',
    why: 'a dropped last chunk: a row sum skips the 1-3 columns past its last whole vector',
  },
  {
    id: 'wasm-adam-bias-correction',
    file: 'src/cpu/wasm/kernels/rows.ts',
    find: "f.get(vi).op('f32x4.sqrt').get(c2v).op('f32x4.div').get(epsv).op('f32x4.add');",
    replace: "f.get(vi).op('f32x4.sqrt').get(epsv).op('f32x4.add');",
    tests: ['test/train.test.ts'],
    filter: 'follows torch.optim',
    why: "Adam's second-moment bias correction dropped",
  },
  {
    id: 'wasm-sgd-momentum-not-stored',
    file: 'src/cpu/wasm/kernels/rows.ts',
    find: "at(v).op('f32x4.mul').get(d).op('f32x4.add').tee(vel).mem('v128.store');",
    replace: "at(v).op('f32x4.mul').get(d).op('f32x4.add').set(vel).get(d).mem('v128.store');",
    tests: ['test/train.test.ts'],
    filter: 'follows torch.optim',
    why: 'a stale optimizer state: the momentum buffer keeps only the last gradient',
  },
  {
    id: 'wasm-lce-last-chunk',
    file: 'src/cpu/wasm/linear-cross-entropy.ts',
    find: 'for (let first = 0; first < n; first += chunk) {',
    replace: 'for (let first = 0; first + chunk <= n; first += chunk) {',
    tests: ['test/fixtures.test.ts'],
    filter: 'wasm kernels.*linearCrossEntropy.*chunks',
    why: 'a dropped last chunk of rows in the fused linear cross-entropy',
  },
  {
    id: 'wasm-matmul-bias-skipped',
    file: 'src/cpu/wasm/matmul.ts',
    find: 'if (bias !== null) f32.copyWithin(biasRow >> 2, bias.offset >> 2, (bias.offset >> 2) + n);',
    replace: 'if (bias !== null && n % 8 === 0) f32.copyWithin(biasRow >> 2, bias.offset >> 2, (bias.offset >> 2) + n);',
    tests: ['test/fixtures.test.ts'],
    filter: 'wasm kernels.*matmul.*bias',
    why: 'a skipped bias (here: unless the width is a whole number of panels)',
  },
  // --- the WebGPU host layer ---
  {
    id: 'webgpu-lce-last-chunk',
    file: 'src/webgpu/kernels/linear-cross-entropy.ts',
    find: 'const chunks = Math.max(1, Math.ceil(n / r));',
    replace: 'const chunks = Math.max(1, Math.floor(n / r));',
    tests: ['test/parity.test.ts'],
    filter: 'variants chosen from the shapes.*linearCrossEntropy.*chunks of 2',
    why: 'a dropped last chunk: the rows past the last whole chunk never trained',
  },
  {
    id: 'webgpu-matmul-grid',
    file: 'src/webgpu/kernels/matmul.ts',
    find: '    grid: [Math.ceil(n / TILE), Math.ceil(m / TILE), batch],',
    replace: '    grid: [Math.ceil(n / TILE), Math.floor(m / TILE) || 1, batch],',
    tests: ['test/parity.test.ts'],
    filter: 'tiled matmul.*batched 3x65x67',
    why: 'dispatch math: the last partial tile of rows never dispatched',
  },
  // --- the TypeScript reference (the oracle itself) and the ops' checks ---
  {
    id: 'reference-softmax-backward-sign',
    file: 'src/cpu/softmax.ts',
    find: 'out[o + c] = p[o + c]! * (dp[o + c]! - dot);',
    replace: 'out[o + c] = p[o + c]! * (dp[o + c]! + dot);',
    tests: ['test/fixtures.test.ts'],
    filter: 'reference kernels.*softmaxBackward',
    why: 'a sign error in the float64 oracle itself, caught by the PyTorch fixtures',
  },
  {
    id: 'wasm-lce-gradx-transpose',
    file: 'src/cpu/wasm/linear-cross-entropy.ts',
    find: 'matmul(kernels, gx, dzc, weight, null, linear(r, c, d, false, !plan.transposeWeight));',
    replace: 'matmul(kernels, gx, dzc, weight, null, linear(r, c, d, false, plan.transposeWeight));',
    tests: ['test/fixtures.test.ts'],
    filter: 'wasm kernels.*linearCrossEntropy',
    why: 'a swapped transpose: gradX = dz · W instead of dz · Wᵀ',
  },
  {
    id: 'webgpu-lce-gradx-transpose',
    file: 'src/webgpu/kernels/linear-cross-entropy.ts',
    find: 'linear(rows, c, d, false, !plan.transposeWeight)',
    replace: 'linear(rows, c, d, false, plan.transposeWeight)',
    tests: ['test/parity.test.ts'],
    filter: 'variants chosen from the shapes.*linearCrossEntropy 5x7x11',
    why: 'a swapped transpose: gradX = dz · W instead of dz · Wᵀ',
  },
  {
    id: 'ops-label-check',
    file: 'src/ops/cross-entropy.ts',
    find: 'if ((y < 0 || y >= classes) && y !== ignoreIndex) {',
    replace: 'if ((y < 0 || y > classes) && y !== ignoreIndex) {',
    tests: ['test/errors.test.ts'],
    why: 'an off-by-one range check: label C accepted, read out of bounds',
  },
  // --- training ---
  {
    id: 'train-last-batch-dropped',
    file: 'src/train/fit.ts',
    find: 'const batches = Math.ceil(rows / batchSize);',
    replace: 'const batches = Math.floor(rows / batchSize);',
    tests: ['test/train.test.ts'],
    filter: 'smaller last one',
    why: "a dropped last batch: an epoch's remainder rows never train",
  },
  {
    id: 'train-bias-skipped',
    file: 'src/train/layers.ts',
    find: 'const z = ctx.matmul(h, layer.weight, { bias: layer.bias });',
    replace: 'const z = ctx.matmul(h, layer.weight);',
    tests: ['test/classifier.test.ts'],
    filter: 'finite differences',
    why: "a skipped bias: the last layer's logits without it",
  },
  {
    id: 'train-adam-step-count',
    file: 'src/train/optimizers.ts',
    find: 'this.update(updates, ++this.#steps, guard);',
    replace: 'this.update(updates, this.#steps + 1, guard);',
    tests: ['test/train.test.ts'],
    filter: 'follows torch.optim',
    why: "a stale optimizer state: Adam's step count never advances, so its bias correction stays at step 1",
  },
  {
    id: 'train-validation-split-first-rows',
    file: 'src/train/fit.ts',
    find: 'const held = rows === allRows ? null : ([gatherRows(ctx, x, null, rows, allRows - rows), gatherRows(ctx, y, null, rows, allRows - rows)] as const);',
    replace: 'const held = rows === allRows ? null : ([gatherRows(ctx, x, null, 0, allRows - rows), gatherRows(ctx, y, null, 0, allRows - rows)] as const);',
    tests: ['test/fit-options.test.ts'],
    filter: 'validationSplit',
    why: 'validation taken from the first rows, which also train',
  },
  {
    id: 'train-schedule-cosine-span',
    file: 'src/train/schedules.ts',
    find: 'const span = totalSteps - warmupSteps;',
    replace: 'const span = totalSteps - warmupSteps + 1;',
    tests: ['test/schedules.test.ts'],
    filter: 'torch|PyTorch|cosine',
    why: "off by one in the cosine's length",
  },
  {
    id: 'train-early-stopping-min-delta',
    file: 'src/train/early-stopping.ts',
    find: ': this.monitor === \'valLoss\' ? value < this.#best - this.minDelta',
    replace: ': this.monitor === \'valLoss\' ? value < this.#best + this.minDelta',
    tests: ['test/fit-options.test.ts'],
    filter: 'earlyStopping',
    why: 'minDelta with the wrong sign: a worse epoch counts as an improvement',
  },
  // --- exports ---
  {
    id: 'export-safetensors-no-transpose',
    file: 'src/export/safetensors.ts',
    find: 'data: transpose(layer.weight, inSize, outSize) });',
    replace: 'data: layer.weight });',
    tests: ['test/export-safetensors.test.ts', 'test/export-pytorch.test.ts'],
    why: "a swapped transpose: PyTorch's [out, in] weight written as [in, out]",
  },
  {
    id: 'export-onnx-transb',
    file: 'src/export/onnx.ts',
    find: "[intAttribute('transB', 1)]",
    replace: "[intAttribute('transB', 0)]",
    tests: ['test/export-onnx.test.ts'],
    why: 'a swapped transpose: the Gemm reads the stored [out, in] weight untransposed',
  },
  {
    id: 'export-tfjs-bias-dropped',
    file: 'src/export/tfjs.ts',
    find: 'weightData.set(layer.bias, offset + layer.weight.length);',
    replace: 'weightData.fill(0, offset + layer.weight.length, offset + layer.weight.length + layer.bias.length);',
    tests: ['test/export-tfjs.test.ts'],
    why: 'a skipped bias in the TF.js weights',
  },
];

function parseArgs(argv) {
  const value = (flag) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1].split(',') : null);
  return { only: value('--only'), tests: value('--tests'), list: argv.includes('--list'), baseline: !argv.includes('--no-baseline') };
}

/** A copy of the working tree (what git tracks or would track), node_modules linked in. */
function copyTree() {
  const dir = mkdtempSync(join(tmpdir(), 'webgpu-softmax-mutants-'));
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
  for (const f of files) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    try {
      cpSync(join(ROOT, f), join(dir, f));
    } catch {
      // A file deleted in the tree but still in the index.
    }
  }
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

/** Runs a mutant's tests in `dir`: whether they failed, and how long they took. */
function runTests(dir, mutant, whole = false) {
  // Generous test timeouts: on a loaded machine a slow test must not pass for a kill.
  const args = ['vitest', 'run', ...mutant.tests, '--testTimeout', '600000', ...(whole ? ['--reporter', 'verbose'] : ['--bail', '1', '--reporter', 'dot'])];
  if (mutant.filter !== undefined) args.push('-t', mutant.filter);
  const started = Date.now();
  const r = spawnSync('npx', args, { cwd: dir, encoding: 'utf8', timeout: (whole ? 90 : 20) * 60_000, env: { ...process.env, CI: '1' } });
  const out = `${r.stdout}${r.stderr}`;
  const ran = /Tests\s+.*?(\d+) (passed|failed)/.test(out.replace(/\x1b\[[0-9;]*m/g, ''));
  return { failed: r.status !== 0, ran, timedOut: r.error?.code === 'ETIMEDOUT', seconds: (Date.now() - started) / 1000, out };
}

function main() {
  const { only, tests, list, baseline } = parseArgs(process.argv.slice(2));
  const chosen = only === null ? MUTANTS : MUTANTS.filter((m) => only.includes(m.id));
  // With --tests, each mutant meets those files whole.
  const mutants = tests === null ? chosen : chosen.map(({ filter: _filter, ...m }) => ({ ...m, tests }));
  if (list) {
    for (const m of mutants) console.log(`${m.id.padEnd(36)} ${m.file}: ${m.why}`);
    return;
  }
  const dir = copyTree();
  let survived = 0;
  const started = Date.now();
  try {
    // Each selection must pass unmutated, or a "kill" would mean nothing.
    const selections = new Map();
    for (const m of mutants) selections.set(`${m.tests.join(' ')} -t ${m.filter ?? ''}`, m);
    for (const [key, m] of baseline ? selections : []) {
      const r = runTests(dir, m);
      if (r.failed || !r.ran) {
        console.error(`baseline: ${key} fails (or runs nothing) without any mutant:\n${r.out.slice(-3000)}`);
        process.exitCode = 2;
        return;
      }
      console.log(`baseline ok (${r.seconds.toFixed(0)} s): ${key}`);
    }
    for (const m of mutants) {
      const path = join(dir, m.file);
      const original = readFileSync(path, 'utf8');
      const at = original.indexOf(m.find);
      if (at < 0 || original.indexOf(m.find, at + 1) >= 0) {
        console.error(`${m.id}: the text to mutate is ${at < 0 ? 'not' : 'more than once'} in ${m.file}; update the mutant`);
        process.exitCode = 2;
        return;
      }
      writeFileSync(path, original.slice(0, at) + m.replace + original.slice(at + m.find.length));
      let r;
      try {
        r = runTests(dir, m, tests !== null);
      } finally {
        writeFileSync(path, original);
      }
      if (tests !== null) {
        const failed = [...new Set(r.out.replace(/\x1b\[[0-9;]*m/g, '').split('\n').filter((l) => /^\s*(×|✗|FAIL)\s/.test(l)).map((l) => l.trim()))];
        console.log(`${m.id}: ${failed.length === 0 ? 'no test failed' : `failing:\n  ${failed.join('\n  ')}`}`);
      }
      // A filter that matches nothing also exits non-zero: that is no kill.
      const verdict = !r.ran && !r.timedOut ? 'NO TESTS RAN' : r.timedOut ? 'killed (timed out)' : r.failed ? 'killed' : 'SURVIVED';
      if (!r.failed || verdict === 'NO TESTS RAN') survived++;
      console.log(`${verdict.padEnd(18)} ${m.id.padEnd(36)} ${r.seconds.toFixed(0).padStart(4)} s  ${m.why}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  console.log(`${mutants.length - survived} of ${mutants.length} mutants killed, ${survived} survived, in ${minutes} min`);
  if (survived > 0) process.exitCode = 1;
}

// Imported by test/mutants-list.test.ts for MUTANTS alone; run as a script, it plants them.
if (process.argv[1] === fileURLToPath(import.meta.url)) main();
