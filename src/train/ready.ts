import { internals } from '../internal.js';
import type { Model } from './model.js';
import { score } from './evaluation.js';
import { predict } from './prediction.js';
import { step } from './step.js';

/**
 * Readies every kernel a training step, `evaluate` and `predict` of `model` use (the last two
 * where `uses` says so: a run rehearses only what it will run) on batches of `rows` rows (class
 * ids, or with `probs` probability targets): on WebGPU each pipeline is compiled and
 * self-checked, all at once, rather than one by one as the first step meets them. The ops are
 * rehearsed on a twin of the model (zero weights, its own optimizer state) and never run, so
 * the model itself is untouched.
 */
/** Past this much weight and optimizer state, `fit` does not call `ready` on its own (`model.ready()` still does). */
export const READY_TWIN_BYTES = 8 * 2 ** 20;

export async function ready(model: Model, rows: number, probs: boolean, uses: { readonly evaluate: boolean; readonly predict: boolean } = { evaluate: true, predict: true }): Promise<void> {
  model.alive('ready');
  const backend = model.ctx[internals].backend();
  if (backend.prepare === undefined) return;
  const ctx = model.ctx;
  const twin = model.twin();
  const x = ctx.tensor(new Float32Array(rows * model.features), [rows, model.features]);
  const y = probs ? ctx.tensor(new Float32Array(rows * model.classes), [rows, model.classes]) : ctx.tensor(new Int32Array(rows));
  const metrics = ctx.tensor(new Float32Array(4));
  try {
    await backend.prepare(() => {
      step(twin, x, y, metrics).dispose();
      if (uses.evaluate) score(twin, x, y, metrics);
      if (uses.predict) {
        const p = predict(twin, x);
        if ('dispose' in p) p.dispose();
      }
    });
  } finally {
    for (const t of [x, y, metrics]) t.dispose();
    twin.dispose();
  }
}
