// What the non-finite guard costs per training step, on each backend: the same model steps
// with no guard (as a bare `trainStep`), under `nonFinite: 'error'` (fit's default: one check
// dispatch per layer, the optimizers reading the mark) and under `'skip'` (also a scratch
// metrics accumulator and a commit dispatch), interleaved round by round in one run, so the
// ratios are side by side on this noisy shared machine. The data is finite: the guard never
// fires, which is what it costs a run that never needs it.
//
//   vite build --config bench/vite.config.ts && node build/bench/guard.js [--steps 20] [--rounds 5] [--only webgpu|cpu]

import { parseArgs } from 'node:util';
import { nodeGpu } from '../cli/node-gpu.js';
import { createContext, type Context, type Tensor } from '../src/index.js';
import { layerShapes, linearInit } from '../src/train/layers.js';
import { Model } from '../src/train/model.js';
import { NonFiniteGuard } from '../src/train/non-finite.js';
import type { NonFiniteMode } from '../src/train/options.js';
import { resolveOptions } from '../src/train/resolve-options.js';
import { step } from '../src/train/step.js';
import { Random } from '../src/train/random.js';

const { values: args } = parseArgs({
  options: { steps: { type: 'string', default: '20' }, rounds: { type: 'string', default: '5' }, only: { type: 'string' } },
});
const STEPS = Number(args.steps);
const ROUNDS = Number(args.rounds);

interface Case {
  readonly name: string;
  readonly features: number;
  readonly hidden: readonly number[];
  readonly classes: number;
  readonly batch: number;
}

const CASES: readonly Case[] = [
  { name: 'regression 784→10, batch 128', features: 784, hidden: [], classes: 10, batch: 128 },
  { name: 'classifier 784→128→10, batch 128', features: 784, hidden: [128], classes: 10, batch: 128 },
  { name: 'head 256→2048, batch 32', features: 256, hidden: [], classes: 2048, batch: 32 },
];

type Variant = 'none' | NonFiniteMode;
const VARIANTS: readonly Variant[] = ['none', 'error', 'skip'];

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Milliseconds per step of `variant`, STEPS steps submitted one by one as `fit` does, then synchronised. */
async function timeSteps(ctx: Context, model: Model, x: Tensor<'float32'>, y: Tensor<'int32'>, variant: Variant): Promise<number> {
  const metrics = ctx.tensor(new Float32Array(4));
  const guard = variant === 'none' ? null : new NonFiniteGuard(ctx, variant);
  const started = performance.now();
  for (let s = 0; s < STEPS; s++) {
    step(model, x, y, metrics, guard).dispose();
    await ctx.flush();
  }
  await metrics.read();
  const ms = (performance.now() - started) / STEPS;
  metrics.dispose();
  guard?.dispose();
  return ms;
}


/**
 * The share of a guarded step's kernel time (GPU timestamps on WebGPU, each op's wall time on
 * the CPU) spent in the guard's own kernels: less noisy than wall time on a loaded machine.
 */
async function guardShare(ctx: Context, model: Model, x: Tensor<'float32'>, y: Tensor<'int32'>, mode: NonFiniteMode): Promise<number> {
  const metrics = ctx.tensor(new Float32Array(4));
  const guard = new NonFiniteGuard(ctx, mode);
  const { kernels, totalMs } = await ctx.profile(async () => {
    for (let s = 0; s < STEPS; s++) step(model, x, y, metrics, guard).dispose();
    await metrics.read();
  });
  metrics.dispose();
  guard.dispose();
  const own = kernels.filter((k) => k.label.startsWith('checkFinite') || k.label.startsWith('commitMetrics')).reduce((sum, k) => sum + k.ms, 0);
  return own / totalMs;
}

async function bench(label: string, ctx: Context, cases: readonly Case[]): Promise<void> {
  for (const c of cases) {
    const random = new Random(1);
    const shapes = layerShapes(c.features, c.hidden, c.classes);
    const model = new Model(ctx, resolveOptions({ features: c.features, classes: c.classes, optimizer: { type: 'adam', learningRate: 1e-3 } }), {
      kind: c.hidden.length === 0 ? 'softmax-regression' : 'classifier',
      hidden: c.hidden,
      activation: 'relu',
      init: (r) => shapes.map(([i, o]) => linearInit(r, i, o)),
    });
    const x = ctx.tensor(Float32Array.from({ length: c.batch * c.features }, () => random.uniform(-1, 1)), [c.batch, c.features]);
    const y = ctx.tensor(Int32Array.from({ length: c.batch }, () => Math.floor(random.next() * c.classes)));
    for (const v of VARIANTS) await timeSteps(ctx, model, x, y, v);
    const times = new Map<Variant, number[]>(VARIANTS.map((v) => [v, []]));
    for (let r = 0; r < ROUNDS; r++) {
      // Each round starts with a different variant, so drift in the machine's load spreads evenly.
      for (let k = 0; k < VARIANTS.length; k++) {
        const v = VARIANTS[(r + k) % VARIANTS.length]!;
        times.get(v)!.push(await timeSteps(ctx, model, x, y, v));
      }
    }
    const none = median(times.get('none')!);
    const shares = [];
    for (const v of ['error', 'skip'] as const) shares.push(`${v} ${(100 * (await guardShare(ctx, model, x, y, v))).toFixed(1)}%`);
    const cells = VARIANTS.map((v) => {
      const m = median(times.get(v)!);
      return `${v} ${m.toFixed(3)} ms${v === 'none' ? '' : ` (${((m / none - 1) * 100).toFixed(1)}%)`}`;
    });
    console.log(`| ${label} | ${c.name} | ${cells.join(' | ')} | ${shares.join(', ')} |`);
    x.dispose();
    y.dispose();
    model.dispose();
  }
}

console.log(`steps per sample ${STEPS}, rounds ${ROUNDS}, medians; % is the cost over no guard`);
console.log('| backend | case | no guard | nonFinite: error | nonFinite: skip | guard kernels\' share of the step\'s kernel time |');
console.log('|---|---|---|---|---|---|');
if (args.only !== 'cpu') {
  const gpu = await createContext({ backend: 'webgpu', gpu: await nodeGpu() });
  await bench(`webgpu (${gpu.adapter?.architecture || gpu.adapter?.description || 'adapter'})`, gpu, CASES);
  gpu.destroy();
}
if (args.only === 'webgpu') process.exit(0);
const wasm = await createContext({ backend: 'cpu', cpu: 'wasm' });
await bench('cpu (wasm)', wasm, CASES);
wasm.destroy();
const reference = await createContext({ backend: 'cpu', cpu: 'reference' });
await bench('cpu (reference)', reference, CASES.slice(0, 2));
reference.destroy();
