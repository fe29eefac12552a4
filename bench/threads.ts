// `npm run bench:threads`: the CPU backend on 2 threads against 1, side by side in one Node
// process: rounds alternate between the two contexts (and which goes first), so a neighbour's
// load lands on both alike; each case reports the median of the per-round ratios. Also the
// dispatch overhead of one job (waking the workers, claiming, waiting) and the load average.
//
//   node build/bench/threads.js [--rounds 9] [--cases matmul-1024,step-256x512x10000,...]
//   node build/bench/threads.js --calibrate
//
// `--calibrate` prints what the split threshold and cost model of src/cpu/wasm/threads/jobs.ts
// come from: each kind of op's one-thread rate (best of many runs, which a loaded machine
// disturbs least), then 1 and 2 threads on sizes around the threshold, the split forced
// through the estimate each size would get.

import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { loadMnist } from '../datasets/mnist-node.js';
import { instantiateThreadedKernels } from '../src/cpu/wasm/module.js';
import { COST, PARALLEL_NS } from '../src/cpu/wasm/threads/jobs.js';
import { createContext } from 'webgpu-softmax';
import { CASES } from './cases.js';
import { oursContender } from './contenders/ours.js';
import type { Workload } from './contenders/types.js';
import { makeJob } from './inputs.js';

const { values } = parseArgs({ options: { rounds: { type: 'string' }, cases: { type: 'string' }, calibrate: { type: 'boolean' } } });
const rounds = Number(values.rounds ?? 9);
const ids = (values.cases ?? 'matmul-1024,step-256x512x10000,step-1024x784x10,mnist-epoch').split(',');

/** Milliseconds of one `run` (after a warm-up), the median of `reps`. */
async function time(w: Workload, reps: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await w.run();
    await w.sync();
    samples.push(performance.now() - t0);
  }
  return median(samples);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** Microseconds per dispatch of an empty job (one chunk per thread, no calls), over 2000 of them. */
async function dispatchOverhead(threads: number): Promise<number> {
  const kernels = (await instantiateThreadedKernels(threads))!;
  const pool = kernels.threads.pool!;
  const chunks = threads;
  const job = kernels.heap.alloc(64);
  new Int32Array(kernels.heap.memory.buffer, job, chunks + 2).fill(0).set([chunks], 0);
  for (let i = 0; i < 200; i++) pool.dispatch(job, chunks, 'empty');
  const t0 = performance.now();
  for (let i = 0; i < 2000; i++) pool.dispatch(job, chunks, 'empty');
  const us = ((performance.now() - t0) / 2000) * 1000;
  pool.destroy();
  return us;
}

const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');
console.log(`load average before: ${load()}`);
if (values.calibrate === true) {
  await calibrate();
  process.exit(0);
}

/** Microseconds of `op`'s best run of `n`. */
function best(op: () => { dispose(): void }, n: number): number {
  let least = Infinity;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const t = op();
    least = Math.min(least, performance.now() - t0);
    t.dispose();
  }
  return least * 1000;
}

async function calibrate(): Promise<void> {
  const [c1, c2] = [await createContext({ backend: 'cpu', threads: 1 }), await createContext({ backend: 'cpu', threads: 2 })];
  const data = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i));
  const a = c1.tensor(data(256 * 256), [256, 256]);
  const z = c1.tensor(data(1000 * 1000), [1000, 1000]);
  const rates = {
    flop: best(() => c1.matmul(a, a), 50) / (2 * 256 ** 3),
    rowElement: best(() => c1.softmax(z), 30) / 1e6,
    element: best(() => c1.sum(z, { axis: 0 }), 30) / 1e6,
  };
  console.log(`one thread, ns per unit: ${Object.entries(rates).map(([k, v]) => `${k} ${(v * 1000).toFixed(3)}`).join(', ')} (COST in jobs.ts: ${JSON.stringify(COST)})`);
  for (const [m, k, n] of [[64, 256, 64], [64, 512, 64], [128, 512, 128], [128, 1024, 128], [256, 1024, 128], [256, 1024, 256]] as const) {
    const [t1, t2] = [c1, c2].map((c) => {
      const [x, w] = [c.tensor(data(m * k), [m, k]), c.tensor(data(k * n), [k, n])];
      return best(() => c.matmul(x, w), 200);
    }) as [number, number];
    console.log(`matmul ${m}x${k}x${n}: estimate ${((2 * m * k * n * COST.flop) / 1000).toFixed(0)} µs; 1 thread ${t1.toFixed(0)} µs, 2 threads ${t2.toFixed(0)} µs, ${(t1 / t2).toFixed(2)}×`);
  }
  for (const rows of [50, 100, 200, 400, 800]) {
    const [t1, t2] = [c1, c2].map((c) => {
      const zt = c.tensor(data(rows * 1000), [rows, 1000]);
      return best(() => c.softmax(zt), 200);
    }) as [number, number];
    console.log(`softmax ${rows}x1000: estimate ${((rows * 1000 * COST.rowElement) / 1000).toFixed(0)} µs; 1 thread ${t1.toFixed(0)} µs, 2 threads ${t2.toFixed(0)} µs, ${(t1 / t2).toFixed(2)}×`);
  }
  console.log(`split from an estimate of ${PARALLEL_NS / 1000} µs; load ${load()}`);
  c1.destroy();
  c2.destroy();
}
for (const threads of [2, 3]) console.log(`dispatch of an empty job on ${threads} threads: ${(await dispatchOverhead(threads)).toFixed(1)} µs`);

const one = await oursContender('cpu', undefined, 1);
const two = await oursContender('cpu', undefined, 2);
for (const id of ids) {
  const c = CASES.find((x) => x.id === id);
  if (c === undefined) throw new Error(`no case ${id}`);
  const job = await makeJob(c, loadMnist);
  const [w1, w2] = [await one.prepare(job), await two.prepare(job)];
  await time(w1, 2);
  await time(w2, 2);
  const reps = c.kind === 'epoch' ? 1 : 3;
  const t1: number[] = [];
  const t2: number[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    // Alternate which goes first, so neither always follows the other's cache state.
    let a: number;
    let b: number;
    if (r % 2 === 0) {
      a = await time(w1, reps);
      b = await time(w2, reps);
    } else {
      b = await time(w2, reps);
      a = await time(w1, reps);
    }
    t1.push(a);
    t2.push(b);
    ratios.push(a / b);
  }
  const flops = c.kind === 'matmul' ? 2 * c.m * c.k * c.n : null;
  const rate = (ms: number) => (flops === null ? '' : ` (${(flops / ms / 1e6).toFixed(1)} GFLOP/s)`);
  console.log(
    `${c.title}: 1 thread ${median(t1).toFixed(2)} ms${rate(median(t1))}, 2 threads ${median(t2).toFixed(2)} ms${rate(median(t2))}; ` +
      `t1 ÷ t2 per round: median ${median(ratios).toFixed(2)}× (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}), load ${load()}`,
  );
  w1.dispose();
  w2.dispose();
}
one.destroy();
two.destroy();
