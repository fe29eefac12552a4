import type { KernelSpec } from './pipeline-cache.js';

/** Device resources a candidate's pipeline needs; one beyond the device's limits is never compiled. */
export interface Needs {
  /** Bytes of `var<workgroup>` the entry point uses. */
  readonly workgroupBytes: number;
  /** Invocations per workgroup. */
  readonly invocations: number;
}

/**
 * A small run of one pipeline on seeded data, with what the CPU backend computes for it. The
 * self-check dispatches the pipeline on `buffers` and compares what it wrote with `expected`.
 */
export interface Probe {
  /** Each binding's initial contents, by binding index; null at the uniform binding. */
  readonly buffers: readonly (Float32Array | Int32Array | null)[];
  readonly uniforms: ArrayBuffer;
  readonly grid: readonly [number, number, number];
  /** What the CPU backend says each written binding must hold afterwards, by binding index. */
  readonly expected: ReadonlyMap<number, Float32Array>;
}

/**
 * One way to run a dispatch: a pipeline and its grid. A dispatch lists its candidates best
 * first (the rule's choice, then the others, ending with one that needs no workgroup memory or
 * barriers); the first that compiles and passes its self-check runs.
 */
export interface Candidate {
  /** The family and variant, e.g. `'matmul/tiled'`: what tuning tables and reports name. */
  readonly name: string;
  /** The dispatch's label with this candidate (profiles show it). */
  readonly label: string;
  readonly spec: KernelSpec;
  readonly grid: readonly [number, number, number];
  readonly needs: Needs;
  /** A probe of this pipeline, where its family has one; made only when it is checked. */
  readonly probe?: () => Probe;
}

/** Why a candidate is not used. */
export interface Rejection {
  readonly name: string;
  /** The pipeline: module, entry point and constants. */
  readonly pipeline: string;
  readonly stage: 'limits' | 'compile' | 'self-check';
  readonly reason: string;
}

/** The reason `needs` exceeds `limits`, or null when it fits. */
export function beyondLimits(needs: Needs, limits: GPUSupportedLimits): string | null {
  if (needs.workgroupBytes > limits.maxComputeWorkgroupStorageSize) {
    return `needs ${needs.workgroupBytes} bytes of workgroup storage; the device allows ${limits.maxComputeWorkgroupStorageSize}`;
  }
  if (needs.invocations > limits.maxComputeInvocationsPerWorkgroup) {
    return `needs ${needs.invocations} invocations per workgroup; the device allows ${limits.maxComputeInvocationsPerWorkgroup}`;
  }
  return null;
}

/** Seeded values in [-1, 1) (xorshift), so probes are the same on every run. */
export function seeded(count: number, seed: number): Float32Array {
  let s = (seed * 2654435761) >>> 0 || 1;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}
