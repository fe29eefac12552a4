// The shape of what a run produces: what the Node child and the browser page hand back, and
// what bench/results/*.json holds. Plain data, so it crosses process and page boundaries as JSON.

import type { AdapterReport } from 'webgpu-softmax';
import type { BenchCase } from './cases.js';
import type { ContenderId, KernelSource } from './contenders/types.js';
import type { Measurement, Settings } from './measure.js';

/** `browser`: the benchmark page on a visitor's own machine (any browser); `chromium`: headless, driven by `npm run bench`. */
export type EnvironmentName = 'node' | 'chromium' | 'browser';

export interface ContenderInfo {
  readonly id: ContenderId;
  readonly description: string;
  readonly kernelSource: KernelSource;
}

export interface CaseResult {
  readonly caseId: string;
  readonly contender: ContenderId;
  readonly measurement: Measurement | null;
  /** Why there is no measurement (an error thrown by the contender), else null. */
  readonly error: string | null;
  /** `Workload.peakBytes` after the measurement; null where the contender cannot tell. */
  readonly peakBytes?: number | null;
}

export interface EnvironmentResult {
  readonly environment: EnvironmentName;
  /** "Node v20.20.2 (webgpu 0.6.2, Dawn)" or "Chromium 156.0.8078.79 (headless)". */
  readonly runtime: string;
  readonly userAgent: string | null;
  /** ISO date-time at which the environment started. */
  readonly date: string;
  readonly cpuCores: number;
  /** The WebGPU adapter as this library reports it (`ctx.adapter`). */
  readonly adapter: AdapterReport | null;
  readonly contenders: readonly ContenderInfo[];
  /** Contenders that could not start at all. */
  readonly unavailable: readonly { readonly id: ContenderId; readonly error: string }[];
  readonly results: readonly CaseResult[];
  readonly seconds: number;
}

export interface BenchReport {
  readonly format: 'webgpu-softmax/bench';
  readonly version: 1;
  readonly date: string;
  readonly mode: 'quick' | 'full';
  readonly command: string;
  readonly settings: Settings;
  readonly host: { readonly os: string; readonly cpu: string; readonly cores: number };
  readonly cases: readonly BenchCase[];
  readonly environments: readonly EnvironmentResult[];
  /** Environments that failed as a whole (no browser, a crashed child), with the reason. */
  readonly missing: readonly { readonly environment: EnvironmentName; readonly error: string }[];
  readonly seconds: number;
}

/** What the harness asks of an environment: the same in the Node child and in the page. */
export interface EnvironmentRequest {
  readonly settings: Settings;
  readonly caseIds: readonly string[];
  /** The contenders to open; all of them when empty. */
  readonly contenderIds: readonly ContenderId[];
}

/** The page's entry point, at `window[PAGE_API]`. */
export interface PageApi {
  run(request: EnvironmentRequest): Promise<EnvironmentResult>;
}

export const PAGE_API = 'webgpuSoftmaxBench';
