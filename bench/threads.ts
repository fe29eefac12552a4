// `npm run bench:threads`: the CPU backend on 2 threads against 1, side by side in one Node
// process: rounds alternate between the two contexts (and which goes first), so a neighbour's
// load lands on both alike; each case reports the median of the per-round ratios. Also the
// dispatch overhead of one job (waking the workers, claiming, waiting) and the load average.
//
//   node build/bench/threads.js [--rounds 9] [--cases matmul-1024,step-256x512x10000,...]

import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { loadMnist } from '../datasets/mnist-node.js';
import { instantiateThreadedKernels } from '../src/cpu/wasm/module.js';
import { CASES } from './cases.js';
import { oursContender } from './contenders/ours.js';
import type { Workload } from './contenders/types.js';
import { makeJob } from './inputs.js';

const { values } = parseArgs({ options: { rounds: { type: 'string' }, cases: { type: 'string' } } });
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
