// What the harness needs from a library under test. Each contender turns a job into a workload;
// measure.ts times workloads and knows nothing about any library.

import type { Job } from '../inputs.js';

export type ContenderId =
  | 'ours-webgpu'
  | 'ours-cpu'
  | 'ours-cpu-t1'
  | 'ours-cpu-t2'
  | 'ours-cpu-reference'
  | 'tfjs-webgpu'
  | 'tfjs-wasm'
  | 'tfjs-cpu';

/**
 * Report order: ours first, then TensorFlow.js from GPU to plain JavaScript. `ours-cpu` runs
 * the default thread count (`threads: 'auto'`); `ours-cpu-t1` and `-t2` pin 1 and 2 threads.
 */
export const CONTENDER_IDS: readonly ContenderId[] = [
  'ours-webgpu',
  'ours-cpu',
  'ours-cpu-t1',
  'ours-cpu-t2',
  'ours-cpu-reference',
  'tfjs-webgpu',
  'tfjs-wasm',
  'tfjs-cpu',
];

/** Where a kernel time came from: GPU timestamps, or the backend's own per-op wall clock on a CPU. */
export type KernelSource = 'timestamp-query' | 'wall-clock' | 'unavailable';

export interface KernelTime {
  /** The summed kernel time of one iteration; null where the contender cannot tell. */
  readonly ms: number | null;
  readonly source: KernelSource;
}

/** One case, ready to run on one contender, its inputs already uploaded. */
export interface Workload {
  /**
   * Queues one iteration and returns without waiting for the device (a WebGPU contender only
   * records and submits; a CPU contender has finished by then). Never reads a result back.
   */
  run(): void | Promise<void>;
  /** Waits until everything queued so far has finished, with the smallest readback that proves it. */
  sync(): Promise<void>;
  /** Runs one iteration under the contender's own profiler (`ctx.profile`, `tf.time`). */
  kernelTime(): Promise<KernelTime>;
  /**
   * The most bytes the contender's device held at once during the measurement, beyond what it
   * held once the inputs were uploaded; absent where the library cannot tell.
   */
  peakBytes?(): number;
  /** Frees the inputs and outputs, so the next case starts from the same memory. */
  dispose(): void;
}

export interface Contender {
  readonly id: ContenderId;
  /** What exactly runs, for the report (library, backend, variant). */
  readonly description: string;
  prepare(job: Job): Promise<Workload>;
  destroy(): void;
}

/**
 * Holds the outputs of the latest iteration and frees the previous ones: each iteration's
 * result stays alive while the next is queued, as in a real loop, and memory stays flat.
 */
export class Latest {
  #held: readonly { dispose(): void }[] = [];

  keep(...outputs: readonly { dispose(): void }[]): void {
    for (const t of this.#held) t.dispose();
    this.#held = outputs;
  }

  dispose(): void {
    this.keep();
  }
}

/** The message of anything thrown, for logs and the report. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
