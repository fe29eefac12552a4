import type { EpochLogs, ExportFormat } from '../src/index.js';
import type { Dataset } from '../datasets/dataset.js';
import type { BackendChoice, Settings } from './types.js';

/** The page's requests; each carries an id that its reply repeats. */
export type Request =
  | { readonly id: number; readonly kind: 'init'; readonly train: Dataset; readonly test: Dataset }
  | { readonly id: number; readonly kind: 'probe'; readonly backend: BackendChoice }
  | { readonly id: number; readonly kind: 'train'; readonly settings: Settings; readonly resume: boolean }
  | { readonly id: number; readonly kind: 'predict'; readonly pixels: Float32Array }
  | { readonly id: number; readonly kind: 'export'; readonly format: ExportFormat };

/** The worker's messages: progress while a run trains, and one reply per request. */
export type Reply =
  | { readonly kind: 'batch'; readonly epoch: number; readonly batch: number; readonly batches: number }
  | { readonly kind: 'epoch'; readonly logs: EpochLogs; readonly confusion: Int32Array }
  | { readonly kind: 'done'; readonly id: number; readonly result: unknown }
  | { readonly kind: 'failed'; readonly id: number; readonly name: string; readonly message: string };
