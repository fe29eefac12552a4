// Tuning against the rules, and the self-check's cost, in Node on the machine's WebGPU adapter
// (SwiftShader where there is no GPU): `npm run bench:tuning`.
//
// 1. A context tunes every family (ctx.tune); a second context keeps the rules (tune: 'off').
//    Each case then runs on both in alternating rounds, each run timed by ctx.profile (GPU
//    timestamps) or by the wall clock where the adapter has none: tuned ÷ rule per case.
// 2. A fresh context's first training step of a classifier head, whose every pipeline is
//    self-checked against the CPU on its first dispatch: what the probes cost, per pipeline and
//    in all (ctx.tuning().selfCheck), beside the step's own time once warm.
// 3. A first fit epoch against the median epoch (fit readies every kernel before its first step).

import { nodeGpu } from '../cli/node-gpu.js';
import { readFile, writeFile } from 'node:fs/promises';
import { createContext, type Context, type Tensor, type TuningTable } from '../src/index.js';

const ROUNDS = Number(process.env['ROUNDS'] ?? 15);

function seeded(n: number, seed: number, scale = 1): Float32Array {
  let s = seed * 2654435761 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 2 ** 32 - 0.5) * 2 * scale;
  }
  return out;
}

interface Case {
  readonly name: string;
  readonly run: (ctx: Context) => Tensor<'float32'>[];
}

/** The shapes the tuner times (src/webgpu/tuner.ts), and a classifier head's step. */
function cases(): Case[] {
  const t = (ctx: Context, rows: number, cols: number, seed: number, scale = 1) => ctx.tensor(seeded(rows * cols, seed, scale), [rows, cols]);
  const labels = (ctx: Context, rows: number, classes: number) => ctx.tensor(Int32Array.from({ length: rows }, (_, i) => (i * 7919) % classes));
  const memo = new WeakMap<Context, Map<string, Tensor>>();
  const input = <T extends Tensor>(ctx: Context, key: string, make: () => T): T => {
    let m = memo.get(ctx);
    if (m === undefined) memo.set(ctx, (m = new Map()));
    if (!m.has(key)) m.set(key, make());
    return m.get(key) as T;
  };
  return [
    { name: 'matmul 512x256 · 256x10', run: (ctx) => [ctx.matmul(input(ctx, 'a', () => t(ctx, 512, 256, 1)), input(ctx, 'b', () => t(ctx, 256, 10, 2)))] },
    { name: 'matmul (512x256)ᵀ · 512x10', run: (ctx) => [ctx.matmul(input(ctx, 'at', () => t(ctx, 512, 256, 3)), input(ctx, 'bt', () => t(ctx, 512, 10, 4)), { transposeA: true })] },
    { name: 'matmul 512x10 · (256x10)ᵀ', run: (ctx) => [ctx.matmul(input(ctx, 'dz', () => t(ctx, 512, 10, 5)), input(ctx, 'w', () => t(ctx, 256, 10, 6)), { transposeB: true })] },
    { name: 'matmul 256x256 · 256x256', run: (ctx) => [ctx.matmul(input(ctx, 'sq', () => t(ctx, 256, 256, 7)), input(ctx, 'sq2', () => t(ctx, 256, 256, 8)))] },
    ...[10, 1000].map((c) => ({
      name: `crossEntropyWithGrad 512x${c}`,
      run: (ctx: Context) => {
        const { loss, grad } = ctx.crossEntropyWithGrad(input(ctx, `z${c}`, () => t(ctx, 512, c, 9, 4)), input(ctx, `y${c}`, () => labels(ctx, 512, c)));
        return [loss, grad];
      },
    })),
    { name: 'sum 512x10 over rows', run: (ctx) => [ctx.sum(input(ctx, 's', () => t(ctx, 512, 10, 10)), { axis: 0 })] },
  ];
}

/** The run's time (GPU time from timestamps, or the wall clock where there are none) and the kernels that ran. */
async function timeRun(ctx: Context, c: Case): Promise<{ ms: number; kernels: string }> {
  const started = performance.now();
  const profile = await ctx.profile(async () => {
    const outs = c.run(ctx);
    await Promise.all(outs.map((o) => o.read()));
    for (const o of outs) o.dispose();
  });
  const kernels = profile.kernels.map((k) => k.label.split(' ').slice(0, k.label.startsWith('matmul') ? 3 : 2).join(' ')).join(' + ');
  return { ms: profile.source === 'timestamp-query' ? profile.totalMs : performance.now() - started, kernels };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function tunedAgainstRule(): Promise<void> {
  const gpu = await nodeGpu();
  const rule = await createContext({ backend: 'webgpu', gpu, tune: 'off' });
  const adapter = rule.adapter!;
  console.log(`adapter: ${[adapter.vendor, adapter.architecture, adapter.description].filter(Boolean).join(' ')}${adapter.isSoftware ? ' (software)' : ''}`);
  // TUNING_TABLE=file: tune once and store the table there; later runs read it (the README's Node recipe).
  const file = process.env['TUNING_TABLE'];
  const stored = file === undefined ? undefined : await readFile(file, 'utf8').then((t) => JSON.parse(t) as TuningTable, () => undefined);
  const tuned = stored === undefined ? await createContext({ backend: 'webgpu', gpu }) : await createContext({ backend: 'webgpu', gpu, tuning: stored });
  if (stored === undefined) {
    const started = performance.now();
    await tuned.tune({ budgetMs: 600_000 });
    console.log(`ctx.tune(): ${((performance.now() - started) / 1000).toFixed(1)} s`);
    if (file !== undefined) await writeFile(file, JSON.stringify(tuned.tuning(), null, 1));
  } else {
    console.log(`the tuning table read from ${file}: ${tuned.backendReason}`);
  }
  const table = tuned.tuning()!;
  for (const [klass, c] of Object.entries(table.choices)) {
    console.log(`  ${klass.padEnd(26)} ${c.choice.padEnd(22)} ${Object.entries(c.ms).map(([n, ms]) => `${n} ${ms.toFixed(3)}`).join(', ')} ms (${c.source})`);
  }
  console.log('\n| case | rule: kernels | tuned: kernels | rule (ms) | tuned (ms) | tuned ÷ rule |\n|---|---|---|---|---|---|');
  for (const c of cases()) {
    // Both warm: compiled, self-checked.
    const ruleKernels = (await timeRun(rule, c)).kernels;
    const tunedKernels = (await timeRun(tuned, c)).kernels;
    const r: number[] = [];
    const t: number[] = [];
    // Alternating, and alternating which goes first, so drift and order weigh on both alike.
    for (let i = 0; i < ROUNDS; i++) {
      if (i % 2 === 0) {
        r.push((await timeRun(rule, c)).ms);
        t.push((await timeRun(tuned, c)).ms);
      } else {
        t.push((await timeRun(tuned, c)).ms);
        r.push((await timeRun(rule, c)).ms);
      }
    }
    const same = ruleKernels === tunedKernels ? ' (same kernels)' : '';
    console.log(`| ${c.name} | ${ruleKernels} | ${tunedKernels} | ${median(r).toFixed(3)} | ${median(t).toFixed(3)} | ${(median(t) / median(r)).toFixed(2)}${same} |`);
  }
  tuned.destroy();
  rule.destroy();
}

async function selfCheckCost(): Promise<void> {
  const gpu = await nodeGpu();
  const ctx = await createContext({ backend: 'webgpu', gpu });
  const model = ctx.classifier({ features: 784, classes: 10, hidden: [100], optimizer: { type: 'adam', learningRate: 0.001 } });
  const x = ctx.tensor(seeded(128 * 784, 1), [128, 784]);
  const y = ctx.tensor(Int32Array.from({ length: 128 }, (_, i) => i % 10));
  let started = performance.now();
  await model.ready(128);
  const readyMs = performance.now() - started;
  const { pipelines, totalMs, maxMs } = ctx.tuning()!.selfCheck;
  started = performance.now();
  await model.trainStep(x, y).read();
  const firstStep = performance.now() - started;
  const steps: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    started = performance.now();
    await model.trainStep(x, y).read();
    steps.push(performance.now() - started);
  }
  console.log(`\nself-check (784 → 100 relu → 10 head, Adam, batch 128): ${pipelines} pipelines probed, ${totalMs.toFixed(1)} ms in all (${(totalMs / pipelines).toFixed(1)} ms each on average, the slowest ${maxMs.toFixed(1)} ms)`);
  console.log(`  model.ready(): ${readyMs.toFixed(0)} ms (compiling and checking); first step after it ${firstStep.toFixed(1)} ms; median step ${median(steps).toFixed(1)} ms`);
  ctx.destroy();
}

async function firstEpoch(): Promise<void> {
  const gpu = await nodeGpu();
  const ctx = await createContext({ backend: 'webgpu', gpu });
  const rows = 2048;
  const x = ctx.tensor(seeded(rows * 784, 2), [rows, 784]);
  const y = ctx.tensor(Int32Array.from({ length: rows }, (_, i) => i % 10));
  const model = ctx.classifier({ features: 784, classes: 10, hidden: [100], optimizer: { type: 'adam', learningRate: 0.001 } });
  const seconds: number[] = [];
  const started = performance.now();
  let untilFirst = 0;
  await model.fit(x, y, {
    epochs: 5,
    batchSize: 128,
    onEpochEnd: (logs) => {
      seconds.push(logs.seconds);
      if (logs.epoch === 0) untilFirst = (performance.now() - started) / 1000;
    },
  });
  console.log(`\nfit, 784 → 100 → 10, 2048 rows, batch 128: from fit() to the first epoch's end ${untilFirst.toFixed(2)} s; epochs ${seconds.map((s) => s.toFixed(2)).join(', ')} s; first ÷ median epoch ${(seconds[0]! / median(seconds)).toFixed(2)}`);
  ctx.destroy();
}

const only = process.argv[2];
if (only === undefined || only === 'tune') await tunedAgainstRule();
if (only === undefined || only === 'self-check') await selfCheckCost();
if (only === undefined || only === 'first-epoch') await firstEpoch();
