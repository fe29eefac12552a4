// The numbers the Markdown and the SVG both show, derived one way: throughput per result,
// speed-ups of ours over each contender, and the words that name an environment.

import { rate, type BenchCase } from '../cases.js';
import type { ContenderId } from '../contenders/types.js';
import type { Measurement } from '../measure.js';
import type { CaseResult, EnvironmentResult } from '../results.js';

/** One of ours against one of theirs. */
export interface Comparison {
  readonly ours: ContenderId;
  readonly other: ContenderId;
  /** Column title. */
  readonly label: string;
}

/** GPU against GPU, then each of ours against TensorFlow.js's CPU backends. */
export const COMPARISONS: readonly Comparison[] = [
  { ours: 'ours-webgpu', other: 'tfjs-webgpu', label: 'GPU vs tfjs-webgpu' },
  { ours: 'ours-webgpu', other: 'tfjs-wasm', label: 'GPU vs tfjs-wasm' },
  { ours: 'ours-webgpu', other: 'tfjs-cpu', label: 'GPU vs tfjs-cpu' },
  { ours: 'ours-cpu', other: 'tfjs-cpu', label: 'CPU vs tfjs-cpu' },
  { ours: 'ours-cpu', other: 'tfjs-wasm', label: 'CPU vs tfjs-wasm' },
  { ours: 'ours-cpu', other: 'ours-cpu-reference', label: 'CPU vs our float64 reference' },
  { ours: 'ours-cpu-t2', other: 'ours-cpu-t1', label: 'CPU 2 threads vs 1' },
];

/** A colour per contender (ours in greens, TensorFlow.js in warm and purple tones), colour-blind safe. */
export const COLORS: Readonly<Record<ContenderId, string>> = {
  'ours-webgpu': '#1b7837',
  'ours-cpu': '#7fbf7b',
  'ours-cpu-t1': '#a6dba0',
  'ours-cpu-t2': '#4d9221',
  'ours-cpu-reference': '#5aae61',
  'tfjs-webgpu': '#d95f02',
  'tfjs-wasm': '#7570b3',
  'tfjs-cpu': '#e7298a',
};

export function measurementOf(env: EnvironmentResult, caseId: string, id: ContenderId): Measurement | null {
  return env.results.find((r) => r.caseId === caseId && r.contender === id)?.measurement ?? null;
}

export function resultOf(env: EnvironmentResult, caseId: string, id: ContenderId): CaseResult | undefined {
  return env.results.find((r) => r.caseId === caseId && r.contender === id);
}

/** The case's figure (GFLOP/s, GB/s or ms) at the median, fastest and slowest repetition. */
export interface Figure {
  readonly median: number;
  /** The worse end of the spread (the slowest repetition). */
  readonly worst: number;
  /** The better end (the fastest repetition). */
  readonly best: number;
}

export function figureOf(c: BenchCase, m: Measurement): Figure {
  return { median: rate(c, m.wall.median), worst: rate(c, m.wall.max), best: rate(c, m.wall.min) };
}

/**
 * How many times faster ours is: their median time divided by ours, from steady-state wall
 * times, or from kernel times where both have them. Null where either is missing.
 */
export function speedup(env: EnvironmentResult, caseId: string, cmp: Comparison, basis: 'wall' | 'kernel'): number | null {
  const ours = measurementOf(env, caseId, cmp.ours);
  const other = measurementOf(env, caseId, cmp.other);
  if (ours === null || other === null) return null;
  const a = basis === 'wall' ? ours.wall : ours.kernel;
  const b = basis === 'wall' ? other.wall : other.kernel;
  if (a === null || b === null || !(a.median > 0)) return null;
  return b.median / a.median;
}

/** Three significant figures, without exponent notation for the sizes seen here. */
export function format(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  if (abs >= 0.01) return value.toFixed(3);
  return value.toPrecision(2);
}

export function formatRatio(r: number | null): string {
  return r === null ? '–' : `${format(r)}×`;
}

/** "google swiftshader SwiftShader Device (Subzero), software", or why there is none. */
export function adapterName(env: Pick<EnvironmentResult, 'adapter'>): string {
  const a = env.adapter;
  if (a === null) return 'no WebGPU adapter';
  const name = [a.vendor, a.architecture, a.description || a.device].filter((s) => s !== '').join(' ');
  return `${name}, ${a.isSoftware ? 'SOFTWARE adapter (a CPU emulating a GPU)' : 'hardware adapter'}`;
}

/** One line naming the environment, the adapter and the date: every table carries it. */
export function caption(env: EnvironmentResult): string {
  return `${env.runtime} · adapter: ${adapterName(env)} · ${env.date.slice(0, 16).replace('T', ' ')} UTC`;
}

export const ENVIRONMENT_TITLES: Readonly<Record<EnvironmentResult['environment'], string>> = {
  node: 'Node',
  chromium: 'Headless Chromium',
  browser: 'The benchmark page',
};
