import type { Classifier, Context, ExportFormat } from '../src/index.js';
import { WebGPUUnavailableError } from '../src/index.js';
import type { Split } from '../datasets/dataset.js';
import { Backends } from './backends.js';
import type { BackendChoice, ExportedFile, Probe, Settings, Trained, Trainer, TrainingHooks } from './types.js';
import { exportFiles, predictOne, train } from './training.js';

/**
 * Trains on the thread it lives on: the page's, or a worker's (demo/training-worker.ts runs
 * one there). It touches no DOM, so the same code serves both.
 */
export class LocalTrainer implements Trainer {
  readonly #split: Split;
  readonly #backends = new Backends();
  #trained: { ctx: Context; model: Classifier } | null = null;

  constructor(split: Split) {
    this.#split = split;
  }

  async probe(backend: BackendChoice): Promise<Probe> {
    try {
      return { adapter: (await this.#backends.get(backend)).adapter };
    } catch (error) {
      if (error instanceof WebGPUUnavailableError) return { unavailable: error.message };
      throw error;
    }
  }

  async train(settings: Settings, hooks: TrainingHooks, resume: boolean): Promise<Trained> {
    const ctx = await this.#backends.get(settings.backend);
    // The old model goes before the new one trains: a drawing waits for the new one.
    this.#trained?.model.dispose();
    this.#trained = null;
    const model = await train(ctx, this.#split, settings, hooks, resume);
    this.#trained = { ctx, model };
    return { adapter: ctx.adapter, backend: ctx.backend };
  }

  async predict(pixels: Float32Array): Promise<Float32Array | null> {
    const trained = this.#trained;
    return trained === null ? null : predictOne(trained.ctx, trained.model, pixels);
  }

  async export(format: ExportFormat): Promise<ExportedFile[] | null> {
    const trained = this.#trained;
    return trained === null ? null : exportFiles(trained.model, format);
  }
}
