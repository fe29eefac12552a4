import type { ExportFormat } from '../src/index.js';
import type { Split } from '../datasets/dataset.js';
import type { BackendChoice, ExportedFile, Probe, Settings, Trained, Trainer, TrainingHooks } from './types.js';
import type { Reply, Request } from './worker-protocol.js';

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };

/** Distributes `Omit` over a union, so each request kind keeps its own fields. */
type RequestBody = Request extends infer R ? (R extends Request ? Omit<R, 'id'> : never) : never;

/**
 * Trains in a module worker (demo/training-worker.ts): the page's thread keeps drawing and
 * scrolling while the worker runs the library. The digits go over once, as transferred
 * ArrayBuffers: the worker owns them from then on.
 */
export class WorkerTrainer implements Trainer {
  readonly #worker = new Worker(new URL('./training-worker.ts', import.meta.url), { type: 'module', name: 'training' });
  readonly #pending = new Map<number, Pending>();
  #nextId = 0;
  #hooks: TrainingHooks | null = null;

  /** `split` is handed over: its arrays are detached here once this returns. */
  constructor(split: Split) {
    this.#worker.addEventListener('message', (event: MessageEvent<Reply>) => this.#receive(event.data));
    this.#worker.addEventListener('error', (event) => {
      for (const p of this.#pending.values()) p.reject(new Error(`the training worker failed: ${event.message}`));
      this.#pending.clear();
    });
    const arrays = [split.train.x, split.train.y, split.test.x, split.test.y];
    void this.#request({ kind: 'init', train: split.train, test: split.test }, arrays.map((a) => a.buffer));
  }

  probe(backend: BackendChoice): Promise<Probe> {
    return this.#request({ kind: 'probe', backend }) as Promise<Probe>;
  }

  async train(settings: Settings, hooks: TrainingHooks, resume: boolean): Promise<Trained> {
    this.#hooks = hooks;
    try {
      return (await this.#request({ kind: 'train', settings, resume })) as Trained;
    } finally {
      this.#hooks = null;
    }
  }

  predict(pixels: Float32Array): Promise<Float32Array | null> {
    return this.#request({ kind: 'predict', pixels }) as Promise<Float32Array | null>;
  }

  export(format: ExportFormat): Promise<ExportedFile[] | null> {
    return this.#request({ kind: 'export', format }) as Promise<ExportedFile[] | null>;
  }

  #request(body: RequestBody, transfer: Transferable[] = []): Promise<unknown> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ ...body, id }, { transfer });
    });
  }

  #receive(reply: Reply): void {
    switch (reply.kind) {
      case 'batch':
        this.#hooks?.onBatch(reply.epoch, reply.batch, reply.batches);
        return;
      case 'epoch':
        void this.#hooks?.onEpoch(reply.logs, reply.confusion);
        return;
      case 'done':
      case 'failed': {
        const pending = this.#pending.get(reply.id);
        this.#pending.delete(reply.id);
        if (reply.kind === 'done') pending?.resolve(reply.result);
        else pending?.reject(Object.assign(new Error(reply.message), { name: reply.name }));
      }
    }
  }
}
