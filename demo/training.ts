import { Classifier, type Context, type ExportFormat } from '../src/index.js';
import type { Split } from '../datasets/dataset.js';
import { clearRun, loadRun, saveRun } from './checkpoint-store.js';
import { confusionMatrix } from './confusion.js';
import type { ExportedFile, Settings, TrainingHooks } from './types.js';

/** Every run starts from the same shuffles, so runs on the two backends train alike. */
const SEED = 1;

/**
 * Trains a new model on `ctx` and returns it; the caller owns it and disposes it. The data
 * is uploaded for this run and freed when it ends, whether it succeeds or not. Each epoch's
 * checkpoint goes to IndexedDB; with `resume`, the run saved there goes on from its epoch
 * (its settings are the run's), and a run that finishes clears it.
 */
export async function train(ctx: Context, { train, test }: Split, settings: Settings, hooks: TrainingHooks, resume: boolean): Promise<Classifier> {
  const saved = resume ? await loadRun() : null;
  if (resume && saved === null) throw new Error('there is no saved run to resume');
  const restored = saved === null ? null : await ctx.restore(saved.bytes);
  if (restored !== null && !(restored instanceof Classifier)) throw new Error('the saved run is not a classifier');
  const x = ctx.tensor(train.x, [train.rows, train.features]);
  const y = ctx.tensor(train.y);
  const xTest = ctx.tensor(test.x, [test.rows, test.features]);
  const yTest = ctx.tensor(test.y);
  const model = restored ?? ctx.classifier({
    features: train.features,
    classes: train.classes,
    hidden: settings.hidden,
    activation: 'relu',
    // Softmax regression starts from zeros, as it always has here; an MLP needs random weights (nn.Linear's).
    init: settings.hidden.length === 0 ? 'zeros' : 'pytorch',
    seed: SEED,
    optimizer: settings.optimizer,
  });
  try {
    await model.fit(x, y, {
      epochs: settings.epochs,
      batchSize: settings.batchSize,
      initialEpoch: saved?.epoch ?? 0,
      checkpoint: { everyEpochs: 1, save: async (bytes, { epoch }) => void (await saveRun({ bytes, epoch, settings })) },
      validationData: [xTest, yTest],
      onBatchEnd: ({ epoch, batch, batches }) => hooks.onBatch(epoch, batch, batches),
      onEpochEnd: async (logs) => {
        const p = model.predict(xTest);
        let probabilities: Float32Array;
        try {
          probabilities = await p.read();
        } finally {
          p.dispose();
        }
        await hooks.onEpoch(logs, confusionMatrix(probabilities, test.y, test.classes));
      },
    });
    await clearRun();
    return model;
  } catch (error) {
    model.dispose();
    throw error;
  } finally {
    for (const t of [x, y, xTest, yTest]) t.dispose();
  }
}

/** The model's probabilities for one 28x28 image. */
export async function predictOne(ctx: Context, model: Classifier, pixels: Float32Array): Promise<Float32Array> {
  const x = ctx.tensor(pixels, [1, pixels.length]);
  try {
    const p = model.predict(x);
    try {
      return await p.read();
    } finally {
      p.dispose();
    }
  } finally {
    x.dispose();
  }
}

/**
 * The model's export as files: `head.onnx`, `head.safetensors`, or for TF.js the `model.json`
 * and `weights.bin` pair that `tf.loadLayersModel('…/model.json')` reads.
 */
export async function exportFiles(model: Classifier, format: ExportFormat): Promise<ExportedFile[]> {
  if (format !== 'tfjs') return [{ name: `head.${format}`, bytes: await model.export(format) }];
  const { weightData, weightSpecs, ...artifacts } = await model.export('tfjs');
  const json = { ...artifacts, weightsManifest: [{ paths: ['weights.bin'], weights: weightSpecs }] };
  return [
    { name: 'model.json', bytes: new TextEncoder().encode(JSON.stringify(json)) },
    { name: 'weights.bin', bytes: new Uint8Array(weightData) },
  ];
}
