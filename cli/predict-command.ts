// `webgpu-softmax predict MODEL DATA`: the top class (or the top k) of each row and its
// probability, as CSV, to stdout or --out; rows stream through in chunks. Where the data has
// the true labels (the CSV's label column, an .npz's y), the accuracy goes to stderr.

import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { extname } from 'node:path';
import type { Writable } from 'node:stream';
import type { PredictArgs } from './bin-args.js';
import { arraysForPrediction, csvForPrediction, DataError } from './data.js';
import { loadModel } from './model-file.js';
import { openContext } from './open-context.js';
import { UsageError } from './args.js';

const CHUNK_ROWS = 4096;

/** A CSV field, quoted where it must be (RFC 4180). */
function field(s: string): string {
  return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

async function write(stream: Writable, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain');
}

export async function predict(args: PredictArgs, log: (line: string) => void): Promise<void> {
  // Said once the model and the first rows are read, so that a bad file's fault is the only line.
  let backendLine = '';
  const ctx = await openContext(args.backend, (line) => (backendLine = line));
  let out: Writable | null = null;
  let written = false;
  try {
    const { model, labels } = await loadModel(ctx, args.model);
    if (args.topK > model.classes) throw new UsageError(`--top-k ${args.topK}: the model has ${model.classes} classes`);
    const ext = extname(args.data).toLowerCase();
    const input =
      ext === '.npy' || ext === '.npz'
        ? await arraysForPrediction(args.data, model.features, CHUNK_ROWS)
        : csvForPrediction(args.data, model.features, labels.featureNames, labels.labelColumn, CHUNK_ROWS);
    const k = args.topK;
    const header = k === 1 ? 'label,probability' : Array.from({ length: k }, (_, i) => `label_${i + 1},probability_${i + 1}`).join(',');
    let right = 0;
    let scored = 0;
    let rows = 0;
    for await (const chunk of input.chunks) {
      // The first chunk is checked before anything is written, so a bad file leaves no output behind.
      if (out === null) {
        log(backendLine);
        out = args.out === undefined ? process.stdout : createWriteStream(args.out);
        written = args.out !== undefined;
        await write(out, `${header}\n`);
      }
      const t = ctx.tensor(chunk.x, [chunk.rows, model.features]);
      const top = model.predict(t, { topK: k });
      const [indices, values] = await Promise.all([top.indices.read(), top.values.read()]);
      top.indices.dispose();
      top.values.dispose();
      t.dispose();
      let text = '';
      for (let r = 0; r < chunk.rows; r++) {
        const cells: string[] = [];
        for (let i = 0; i < k; i++) cells.push(field(labels.classNames[indices[r * k + i]!]!), values[r * k + i]!.toPrecision(6));
        text += `${cells.join(',')}\n`;
        if (chunk.labels !== null) {
          scored++;
          if (chunk.labels[r] === labels.classNames[indices[r * k]!]) right++;
        }
      }
      rows += chunk.rows;
      await write(out, text);
    }
    if (out === null) throw new DataError(`${args.data}: no rows to predict`);
    if (args.out !== undefined) {
      out.end();
      await once(out, 'finish');
      log(`wrote ${rows} predictions to ${args.out}`);
    }
    if (scored > 0) log(`accuracy against the file's labels: ${(right / scored).toFixed(4)} (${right} of ${scored} rows)`);
    model.dispose();
  } catch (error) {
    if (written && out !== null) {
      // A fault past the first chunk: remove the partial file rather than leave half an answer.
      out.destroy();
      const { rm } = await import('node:fs/promises');
      await rm(args.out!, { force: true });
    }
    throw error;
  } finally {
    ctx.destroy();
  }
}
