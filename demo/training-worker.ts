// The demo's training thread: a module worker that owns the data (transferred once, not
// copied), the contexts and the models, so the page's thread only draws.
import { LocalTrainer } from './local-trainer.js';
import type { Reply, Request } from './worker-protocol.js';

let trainer: LocalTrainer | null = null;

function post(reply: Reply, transfer: Transferable[] = []): void {
  postMessage(reply, { transfer });
}

async function handle(request: Request): Promise<unknown> {
  if (request.kind === 'init') {
    trainer = new LocalTrainer({ train: request.train, test: request.test });
    return null;
  }
  if (trainer === null) throw new Error('the training worker has no data yet');
  switch (request.kind) {
    case 'probe':
      return trainer.probe(request.backend);
    case 'train':
      return trainer.train(
        request.settings,
        {
          onBatch: (epoch, batch, batches) => post({ kind: 'batch', epoch, batch, batches }),
          onEpoch: (logs, confusion) => post({ kind: 'epoch', logs, confusion }, [confusion.buffer]),
        },
        request.resume,
      );
    case 'predict':
      return trainer.predict(request.pixels);
    case 'export':
      return trainer.export(request.format);
  }
}

addEventListener('message', (event: MessageEvent<Request>) => {
  const request = event.data;
  handle(request).then(
    (result) => post({ kind: 'done', id: request.id, result }),
    (error: unknown) => {
      const e = error instanceof Error ? error : new Error(String(error));
      post({ kind: 'failed', id: request.id, name: e.name, message: e.message });
    },
  );
});
