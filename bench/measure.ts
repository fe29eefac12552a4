// How one workload is timed. Library-agnostic: it sees only run/sync/kernelTime.
//
// 1. Warm-up: single iterations, each synced, until pipelines are compiled and the JIT has
//    settled (at least two, unless one alone blows the budget).
// 2. Steady state: `reps` repetitions of R iterations queued back to back with ONE sync at the
//    end, divided by R. R is chosen from the warm-up so a repetition lasts about `targetRepMs`,
//    which amortises the final readback without reading back inside the loop.
// 3. Kernel time: a few single iterations under the contender's own profiler, separately,
//    because profiling changes how work is submitted (a pass and timestamps per kernel).

import { messageOf, type KernelSource, type Workload } from './contenders/types.js';

export interface Settings {
  readonly mode: 'quick' | 'full';
  /** How long one timed repetition (R iterations) should last. */
  readonly targetRepMs: number;
  /** Rough time allowed for the timed repetitions of one workload; `minReps` wins over it. */
  readonly budgetMs: number;
  readonly minReps: number;
  readonly maxReps: number;
  /** Upper bound on R. */
  readonly maxIterations: number;
  readonly maxKernelSamples: number;
  /** Upper bound on warm-up iterations. */
  readonly maxWarmups: number;
}

export const SETTINGS: Readonly<Record<'quick' | 'full', Settings>> = {
  quick: { mode: 'quick', targetRepMs: 150, budgetMs: 1500, minReps: 3, maxReps: 5, maxIterations: 32, maxKernelSamples: 2, maxWarmups: 5 },
  // Three repetitions at least even where one iteration takes half a minute (tfjs-cpu on the
  // 10 000-class step); fast workloads get up to eleven within the budget.
  full: { mode: 'full', targetRepMs: 400, budgetMs: 6000, minReps: 3, maxReps: 11, maxIterations: 64, maxKernelSamples: 5, maxWarmups: 10 },
};

/** Median, quartiles and extremes of a sample. */
export interface Summary {
  readonly n: number;
  readonly median: number;
  readonly q1: number;
  readonly q3: number;
  readonly min: number;
  readonly max: number;
}

export interface Measurement {
  /** Iterations queued per repetition (R). */
  readonly iterations: number;
  readonly reps: number;
  /** Milliseconds per iteration, one sample per repetition. */
  readonly wallSamples: readonly number[];
  readonly wall: Summary;
  readonly kernelSamples: readonly number[];
  /** Null where the contender has no kernel timer (e.g. no `timestamp-query`). */
  readonly kernel: Summary | null;
  readonly kernelSource: KernelSource;
  /** Why the profiler gave no kernel time, when it threw. */
  readonly kernelError: string | null;
  /** The first, cold iteration (pipeline compilation, uploads, JIT), for the curious. */
  readonly firstMs: number;
  readonly warmups: number;
}

/** Linear-interpolated quantile of sorted values. */
function quantile(sorted: readonly number[], q: number): number {
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new RangeError('summarize: no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    n: sorted.length,
    median: quantile(sorted, 0.5),
    q1: quantile(sorted, 0.25),
    q3: quantile(sorted, 0.75),
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
  };
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}

async function once(w: Workload): Promise<number> {
  const start = performance.now();
  await w.run();
  await w.sync();
  return performance.now() - start;
}

export async function measure(w: Workload, s: Settings): Promise<Measurement> {
  const firstMs = await once(w);
  let estimate = firstMs;
  let warmups = 1;
  let warmupMs = firstMs;
  // A second run at least (the first compiles); more while they are cheap, so the JIT settles.
  while (warmups < s.maxWarmups && firstMs < s.budgetMs && (warmups < 2 || warmupMs < s.targetRepMs)) {
    estimate = await once(w);
    warmupMs += estimate;
    warmups++;
  }

  const iterations = clamp(Math.round(s.targetRepMs / estimate), 1, s.maxIterations);
  const reps = clamp(Math.floor(s.budgetMs / (iterations * estimate)), s.minReps, s.maxReps);
  const wallSamples: number[] = [];
  for (let rep = 0; rep < reps; rep++) {
    const start = performance.now();
    for (let i = 0; i < iterations; i++) await w.run();
    await w.sync();
    wallSamples.push((performance.now() - start) / iterations);
  }

  const kernelRuns = clamp(Math.floor(s.budgetMs / 2 / estimate), 1, s.maxKernelSamples);
  const kernelSamples: number[] = [];
  let kernelSource: KernelSource = 'unavailable';
  let kernelError: string | null = null;
  try {
    for (let i = 0; i < kernelRuns; i++) {
      const t = await w.kernelTime();
      kernelSource = t.source;
      if (t.ms !== null) kernelSamples.push(t.ms);
    }
    await w.sync();
  } catch (error) {
    // A profiler that fails must not cost the wall times already measured.
    kernelError = messageOf(error);
  }

  return {
    iterations,
    reps,
    wallSamples,
    wall: summarize(wallSamples),
    kernelSamples,
    kernel: kernelSamples.length === 0 ? null : summarize(kernelSamples),
    kernelSource,
    kernelError,
    firstMs,
    warmups,
  };
}
