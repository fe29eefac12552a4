// `webgpu-softmax train DATA`: reads and checks the file (nothing trains on a bad one), streams
// its rows through `fitDataset` a block at a time, validates on a seeded random share of the
// rows, prints per-epoch figures and a confusion matrix, and only then writes the model.

import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { Random, type Batch, type Classifier, type Context, type EpochLogs } from 'webgpu-softmax';
import { UsageError } from './args.js';
import type { TrainArgs } from './bin-args.js';
import { readTrainingData, type TrainingData } from './data.js';
import { saveModel } from './model-file.js';
import { openContext } from './open-context.js';
import { bar, StatusLine, table } from './progress.js';

/** Rows read from the file at a time (and shuffled among themselves): about 64 MB of features. */
const BLOCK_FLOATS = 16 * 2 ** 20;
/** Rows scored at a time for the confusion matrix. */
const SCORE_ROWS = 8192;
/** The confusion matrix is printed up to this many classes. */
const MAX_CONFUSION_CLASSES = 20;

/** 1 for the rows held out to validate: each row with probability `split`, from the seed. */
function validationMask(rows: number, split: number, seed: number): Uint8Array {
  const random = new Random(seed ^ 0x5bd1e995);
  return Uint8Array.from({ length: rows }, () => (random.next() < split ? 1 : 0));
}

/**
 * Batches of the rows where `mask` is `want`, as `fitDataset` takes them. With `random`, blocks
 * come in a random order and rows are shuffled within each block (a full shuffle when the file
 * fits in one block); without, in file order.
 */
function batches(data: TrainingData, mask: Uint8Array, want: 0 | 1, batchSize: number, random: Random | null): () => AsyncIterable<Batch> {
  const { x, labels } = data;
  const features = x.features;
  const blockRows = Math.max(batchSize, Math.floor(BLOCK_FLOATS / features));
  const blocks = Math.ceil(x.rows / blockRows);
  return async function* () {
    let bx = new Float32Array(batchSize * features);
    let by = new Int32Array(batchSize);
    let filled = 0;
    const order = random === null ? Int32Array.from({ length: blocks }, (_, i) => i) : random.permutation(blocks);
    for (const block of order) {
      const start = block * blockRows;
      const count = Math.min(blockRows, x.rows - start);
      const picked: number[] = [];
      for (let i = 0; i < count; i++) if (mask[start + i] === want) picked.push(i);
      if (picked.length === 0) continue;
      const values = await x.read(start, count);
      const rows = random === null ? picked : Array.from(random.permutation(picked.length), (k) => picked[k]!);
      for (const i of rows) {
        bx.set(values.subarray(i * features, (i + 1) * features), filled * features);
        by[filled++] = labels[start + i]!;
        if (filled === batchSize) {
          yield { x: bx, y: by };
          // fitDataset may still hold the batch it was given: the next one gets new arrays.
          bx = new Float32Array(batchSize * features);
          by = new Int32Array(batchSize);
          filled = 0;
        }
      }
    }
    if (filled > 0) yield { x: bx.subarray(0, filled * features), y: by.subarray(0, filled) };
  };
}

/** True class by predicted class, counted over the batches. */
async function confusion(ctx: Context, model: Classifier, source: () => AsyncIterable<Batch>, classes: number): Promise<Int32Array> {
  const counts = new Int32Array(classes * classes);
  for await (const { x, y } of source()) {
    const rows = (y as Int32Array).length;
    const t = ctx.tensor(x as Float32Array, [rows, model.features]);
    const out = model.predict(t, { topK: 1 });
    const predicted = await out.indices.read();
    out.indices.dispose();
    out.values.dispose();
    t.dispose();
    (y as Int32Array).forEach((truth, i) => counts[truth * classes + predicted[i]!]!++);
  }
  return counts;
}

function printConfusion(names: readonly string[], counts: Int32Array, log: (line: string) => void): void {
  const c = names.length;
  if (c > MAX_CONFUSION_CLASSES) {
    log(`(no confusion matrix: ${c} classes, more than ${MAX_CONFUSION_CLASSES})`);
    return;
  }
  const short = (s: string) => (s.length > 12 ? `${s.slice(0, 11)}…` : s);
  const rows = [['true \\ predicted', ...names.map(short)]];
  for (let t = 0; t < c; t++) rows.push([short(names[t]!), ...Array.from({ length: c }, (_, p) => String(counts[t * c + p]))]);
  log(table(rows));
}

export async function train(args: TrainArgs, log: (line: string) => void): Promise<void> {
  const outDir = dirname(resolve(args.out));
  if (!(await stat(outDir).catch(() => null))?.isDirectory()) throw new UsageError(`--out ${args.out}: the folder ${outDir} does not exist`);

  const data = await readTrainingData(args.data, { label: args.label, labels: args.labels });
  try {
    const { x, classNames } = data;
    const classes = classNames.length;
    const mask = validationMask(x.rows, args.validationSplit, args.seed);
    const valRows = mask.reduce((a, b) => a + b, 0);
    const trainRows = x.rows - valRows;
    if (trainRows === 0) throw new UsageError(`--validation-split ${args.validationSplit} left no rows to train on`);
    if (args.earlyStopping !== null && valRows === 0) throw new UsageError(`--early-stopping: the ${x.rows} rows gave no validation rows; raise --validation-split`);

    const shown = (names: readonly string[]) => (names.length <= 8 ? names.join(', ') : `${names.slice(0, 8).join(', ')}, …`);
    log(
      `data: ${args.data}: ${x.rows} rows, ${x.features} features` +
        (data.labelColumn === null ? '' : ` (${shown(data.featureNames)})`) +
        `, ${classes} classes (${shown(classNames)})` +
        (data.labelColumn === null ? ` from ${args.labels ?? 'the archive'}` : ` from column "${data.labelColumn}"`),
    );
    log(`split: ${trainRows} rows train, ${valRows} validate (${valRows === 0 ? 'no validation' : `a seeded random ${Math.round(args.validationSplit * 100)}%`})`);
    const shape = [x.features, ...args.hidden, classes].join('-');
    log(
      `model: ${args.hidden.length === 0 ? `softmax regression ${shape}` : `MLP ${shape} (${args.activation})`}; ${args.optimizer}, learning rate ${args.learningRate}; ` +
        `batch ${args.batchSize}, ${args.epochs} epoch${args.epochs === 1 ? '' : 's'}${args.earlyStopping === null ? '' : ` (early stopping, patience ${args.earlyStopping.patience})`}; seed ${args.seed}`,
    );

    const ctx = await openContext(args.backend, log);
    try {
      const model = ctx.classifier({
        features: x.features,
        classes,
        hidden: args.hidden,
        activation: args.activation,
        seed: args.seed,
        optimizer: { type: args.optimizer, learningRate: args.learningRate },
      });
      const random = new Random(args.seed);
      const trainBatches = batches(data, mask, 0, args.batchSize, random);
      const valBatches = batches(data, mask, 1, SCORE_ROWS, null);
      const perEpoch = Math.ceil(trainRows / args.batchSize);
      const status = new StatusLine();
      const width = String(args.epochs).length;
      const epochLine = (logs: EpochLogs) =>
        `epoch ${String(logs.epoch + 1).padStart(width)}/${args.epochs}  loss ${logs.loss.toFixed(4)}  acc ${logs.accuracy.toFixed(4)}` +
        (logs.valLoss === undefined ? '' : `  val loss ${logs.valLoss.toFixed(4)}  val acc ${logs.valAccuracy!.toFixed(4)}`) +
        `  ${logs.seconds.toFixed(2)} s`;
      status.start();
      await model.fitDataset(trainBatches, {
        epochs: args.epochs,
        ...(valRows === 0 ? {} : { validationData: valBatches }),
        ...(args.earlyStopping === null ? {} : { earlyStopping: { monitor: 'valLoss', patience: args.earlyStopping.patience, restoreBestWeights: true } }),
        onBatchEnd: ({ epoch, batch }) => status.draw(() => `epoch ${String(epoch + 1).padStart(width)}/${args.epochs} ${bar(batch + 1, perEpoch)} batches`),
        onEpochEnd: (logs) => {
          status.clear();
          log(epochLine(logs));
          status.start();
        },
      });

      const scored = valRows === 0 ? 'training' : 'validation';
      const counts = await confusion(ctx, model, valRows === 0 ? batches(data, mask, 0, SCORE_ROWS, null) : valBatches, classes);
      const right = classNames.reduce((sum, _, c) => sum + counts[c * classes + c]!, 0);
      const total = counts.reduce((a, b) => a + b, 0);
      log(`\n${scored} accuracy: ${(right / total).toFixed(4)} (${right} of ${total} rows)`);
      printConfusion(classNames, counts, log);

      await saveModel(model, args.out, args.format, {
        classNames,
        featureNames: data.labelColumn === null ? null : data.featureNames,
        labelColumn: data.labelColumn,
      });
      log(`\nsaved ${args.out} (${args.format})`);
      model.dispose();
    } finally {
      ctx.destroy();
    }
  } finally {
    await data.x.close();
  }
}
