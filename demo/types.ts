// The demo's shared types, in one file that imports none of the demo's modules: the page, the
// trainers and the training code all depend on it, never on each other through types.

import type { AdapterReport, BackendKind, EpochLogs, ExportFormat, OptimizerOptions } from '../src/index.js';

/** The backend a run trains on. */
export type BackendChoice = 'webgpu' | 'cpu';

/** What the form asks for, checked. */
export interface Settings {
  readonly backend: BackendChoice;
  readonly thread: Thread;
  /** Hidden layer widths; empty for softmax regression. */
  readonly hidden: readonly number[];
  readonly optimizer: OptimizerOptions;
  readonly epochs: number;
  readonly batchSize: number;
}

/** A file to download: its name and its bytes. */
export interface ExportedFile {
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** Where training runs: a module worker (the default, so the page stays smooth) or the page's own thread. */
export type Thread = 'worker' | 'page';

export interface TrainingHooks {
  /** After each batch is queued; nothing has been read back yet. */
  onBatch(epoch: number, batch: number, batches: number): void;
  /** After each epoch, with the confusion matrix of the test digits under that epoch's weights. */
  onEpoch(logs: EpochLogs, confusion: Int32Array): void | Promise<void>;
}

/** A backend's adapter, or why it cannot be had. */
export type Probe = { readonly adapter: AdapterReport | null } | { readonly unavailable: string };

/** What a run trained on. */
export interface Trained {
  readonly adapter: AdapterReport | null;
  readonly backend: BackendKind;
}

/** Trains on the digits it was given and judges drawings with the last model it trained. */
export interface Trainer {
  probe(backend: BackendChoice): Promise<Probe>;
  /**
   * Trains a new model, which replaces the last one once it is done; resolves with its adapter
   * and the backend that ran it (the context's, which a lost device can turn to the CPU). With
   * `resume`, the run saved in IndexedDB (demo/checkpoint-store.ts) goes on from its last epoch.
   */
  train(settings: Settings, hooks: TrainingHooks, resume: boolean): Promise<Trained>;
  /** The latest model's probabilities for one 28x28 image; null while there is none. */
  predict(pixels: Float32Array): Promise<Float32Array | null>;
  /** The latest model's export, as files to download; null while there is none. */
  export(format: ExportFormat): Promise<ExportedFile[] | null>;
}
