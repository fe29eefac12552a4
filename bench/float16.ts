// float16 storage against float32, side by side in one run (issue 14 §3), on WebGPU and on the
// CPU backend (WebAssembly):
//
//   npm run bench:float16 [-- --reps 5 --backends webgpu,cpu --cases fit-epoch-8000x784x10,...]
//
// - `fit` epoch: a softmax regression over x [8000, 784] (MNIST's shape, uniform pixels in
//   [0, 1)), batch 128, SGD: time per epoch, and the context's peakBytes over one epoch from a
//   fresh context, where x (25 MB as float32) dominates.
// - the fused linearCrossEntropy(WithGrad) on float16 x: time per call and peakBytes (with the
//   gradients, the float32 gradX is as large as x as float32; the loss alone shows x's share).
// Each pair alternates float16 and float32 runs, after a warm-up of each, and reports the medians.

import { writeFile, mkdir } from 'node:fs/promises';
import { parseOptions, parseOrExit } from '../cli/args.js';
import { nodeGpu } from '../cli/node-gpu.js';
import { createContext, type Context, type Tensor } from 'webgpu-softmax';

type Backend = 'webgpu' | 'cpu';
type Dtype = 'float32' | 'float16';

const { reps, backends, only } = parseOrExit('bench/float16', () => {
  const args = parseOptions(process.argv.slice(2), { reps: { type: 'string' }, backends: { type: 'string' }, cases: { type: 'string' } });
  return {
    reps: Number(args.reps ?? 5),
    backends: (args.backends ?? 'webgpu,cpu').split(',') as Backend[],
    only: args.cases?.split(',') ?? null,
  };
});

function uniform(length: number, low: number, high: number, seed: number): Float32Array {
  let state = seed >>> 0;
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = low + (high - low) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  }
  return out;
}

const ids = (n: number, classes: number, seed: number) => Int32Array.from(uniform(n, 0, classes, seed), Math.floor);

async function open(backend: Backend): Promise<Context> {
  return backend === 'webgpu' ? createContext({ backend: 'webgpu', gpu: await nodeGpu() }) : createContext({ backend: 'cpu', cpu: 'wasm' });
}

const tensorOf = (ctx: Context, data: Float32Array, shape: number[], dtype: Dtype): Tensor<'float32'> | Tensor<'float16'> =>
  dtype === 'float16' ? ctx.tensor(data, shape, 'float16') : ctx.tensor(data, shape);

interface Workload {
  /** One timed iteration; resolves when its results are read back. */
  run(): Promise<void>;
  dispose(): void;
}

interface Case {
  readonly id: string;
  readonly title: string;
  make(ctx: Context, dtype: Dtype): Workload;
}

const EPOCH = { rows: 8000, features: 784, classes: 10, batch: 128 };
const epochX = uniform(EPOCH.rows * EPOCH.features, 0, 1, 1);
const epochY = ids(EPOCH.rows, EPOCH.classes, 2);

function fitEpoch(): Case {
  return {
    id: 'fit-epoch-8000x784x10',
    title: `fit epoch ${EPOCH.rows}×${EPOCH.features}→${EPOCH.classes}, batch ${EPOCH.batch}`,
    make(ctx, dtype) {
      const x = tensorOf(ctx, epochX, [EPOCH.rows, EPOCH.features], dtype);
      const y = ctx.tensor(epochY);
      const model = ctx.softmaxRegression({ features: EPOCH.features, classes: EPOCH.classes, seed: 1, optimizer: { type: 'sgd', learningRate: 0.5 } });
      return {
        run: async () => {
          await model.fit(x, y, { epochs: 1, batchSize: EPOCH.batch });
        },
        dispose: () => {
          model.dispose();
          x.dispose();
          y.dispose();
        },
      };
    },
  };
}

function fusedLinearCe(rows: number, features: number, classes: number, withGrad: boolean): Case {
  const x = uniform(rows * features, -1, 1, 3);
  const scale = 2 / Math.sqrt(features);
  const w = uniform(features * classes, -scale, scale, 4);
  const b = uniform(classes, -1, 1, 5);
  const y = ids(rows, classes, 6);
  return {
    id: `lce-fused${withGrad ? '' : '-loss'}-${rows}x${features}x${classes}`,
    title: `fused linear CE${withGrad ? ' + grads' : ', loss only'} ${rows}×${features}→${classes}`,
    make(ctx, dtype) {
      const xt = tensorOf(ctx, x, [rows, features], dtype);
      const wt = ctx.tensor(w, [features, classes]);
      const bt = ctx.tensor(b, [classes]);
      const yt = ctx.tensor(y);
      return {
        run: async () => {
          if (!withGrad) {
            const loss = ctx.linearCrossEntropy(xt, wt, yt, { bias: bt });
            await loss.read();
            loss.dispose();
            return;
          }
          const r = ctx.linearCrossEntropyWithGrad(xt, wt, yt, { bias: bt });
          await r.loss.read();
          for (const t of [r.loss, r.gradX, r.gradWeight, r.gradBias]) t?.dispose();
        },
        dispose: () => {
          for (const t of [xt, wt, bt, yt]) t.dispose();
        },
      };
    },
  };
}

const CASES: readonly Case[] = [fitEpoch(), fusedLinearCe(1024, 256, 1000, true), fusedLinearCe(4096, 512, 100, true), fusedLinearCe(4096, 512, 100, false)];

const median = (v: readonly number[]) => {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** The peak bytes of one iteration on a context of its own (a shared one would count the other dtype's pooled buffers). */
async function peakOf(backend: Backend, c: Case, dtype: Dtype): Promise<number> {
  const ctx = await open(backend);
  try {
    const w = c.make(ctx, dtype);
    await w.run();
    const peak = ctx.memory().peakBytes;
    w.dispose();
    return peak;
  } finally {
    ctx.destroy();
  }
}

interface Row {
  readonly backend: Backend;
  readonly adapter: string;
  readonly case: string;
  readonly title: string;
  readonly ms: Record<Dtype, number>;
  readonly peakBytes: Record<Dtype, number>;
}

const rows: Row[] = [];
for (const backend of backends) {
  for (const c of CASES.filter((k) => only === null || only.includes(k.id))) {
    const peakBytes = { float32: await peakOf(backend, c, 'float32'), float16: await peakOf(backend, c, 'float16') };
    const ctx = await open(backend);
    const adapter = ctx.adapter === null ? 'cpu' : `${ctx.adapter.vendor} ${ctx.adapter.architecture}`.trim();
    const work = { float32: c.make(ctx, 'float32'), float16: c.make(ctx, 'float16') };
    const times: Record<Dtype, number[]> = { float32: [], float16: [] };
    await work.float32.run();
    await work.float16.run();
    for (let i = 0; i < reps; i++) {
      // Alternate which goes first, so a drift in the machine's load falls on both alike.
      for (const dtype of i % 2 === 0 ? (['float16', 'float32'] as const) : (['float32', 'float16'] as const)) {
        const start = performance.now();
        await work[dtype].run();
        times[dtype].push(performance.now() - start);
      }
    }
    work.float32.dispose();
    work.float16.dispose();
    ctx.destroy();
    const row: Row = { backend, adapter, case: c.id, title: c.title, ms: { float32: median(times.float32), float16: median(times.float16) }, peakBytes };
    rows.push(row);
    console.error(`${backend} ${c.id}: ${row.ms.float16.toFixed(1)} / ${row.ms.float32.toFixed(1)} ms, peak ${peakBytes.float16} / ${peakBytes.float32} bytes`);
  }
}

/**
 * The one kernel a float16 epoch changes, timed by the device (timestamp-query on WebGPU, wall
 * time per op on the CPU): the gather of each batch's x, widening or copying. Whole-epoch wall
 * times on a shared machine swing more than the difference; this isolates it.
 */
async function gatherTimes(backend: Backend): Promise<Record<Dtype, number> | null> {
  const ctx = await open(backend);
  try {
    const out = { float32: 0, float16: 0 };
    for (const dtype of ['float32', 'float16'] as const) {
      const w = fitEpoch().make(ctx, dtype);
      await w.run();
      const profile = await ctx.profile(() => w.run());
      w.dispose();
      if (profile.source === 'unavailable') return null;
      const gathers = profile.kernels.filter((k) => k.label.startsWith('gatherRows') && k.label.endsWith(`x${EPOCH.features}`));
      out[dtype] = median(gathers.map((k) => k.ms));
    }
    return out;
  } finally {
    ctx.destroy();
  }
}

const gathers: Partial<Record<Backend, Record<Dtype, number> | null>> = {};
for (const backend of backends) if (only === null || only.includes('fit-epoch-8000x784x10')) gathers[backend] = await gatherTimes(backend);

const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
const lines = [
  `| backend | case | ms float16 / float32 | time ÷ | peak MiB float16 / float32 | peakBytes ÷ |`,
  '|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.backend} (${r.adapter}) | ${r.title} | ${r.ms.float16.toFixed(1)} / ${r.ms.float32.toFixed(1)} | ${(r.ms.float16 / r.ms.float32).toFixed(2)} | ${mb(r.peakBytes.float16)} / ${mb(r.peakBytes.float32)} | ${(r.peakBytes.float16 / r.peakBytes.float32).toFixed(2)} |`,
  ),
];
for (const [backend, g] of Object.entries(gathers)) {
  lines.push(g === null || g === undefined ? `\n${backend}: no kernel times` : `\n${backend}: the batch gather of x [${EPOCH.batch}, ${EPOCH.features}], median per step: float16 ${g.float16.toFixed(3)} ms, float32 ${g.float32.toFixed(3)} ms (÷ ${(g.float16 / g.float32).toFixed(2)})`);
}
console.log(lines.join('\n'));
await mkdir('bench/results', { recursive: true });
const file = `bench/results/${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}-float16.json`;
await writeFile(file, JSON.stringify({ reps, rows, gathers }, null, 2));
console.error(`wrote ${file}`);
