import { WebGPUSoftmaxError } from '../errors.js';
import type { TrainingContext } from '../internal.js';
import { applyCheckpoint, type ReadCheckpoint } from './checkpoint.js';
import { Classifier } from './classifier.js';
import { SoftmaxRegression } from './softmax-regression.js';
import { modelOf } from './trainable-model.js';

/**
 * The model a checkpoint holds (read and checked whole by `readCheckpoint`), on `ctx`'s
 * backend, with its optimizer state and progress; a bad option is reported before anything is made.
 */
export function restoreModel(ctx: TrainingContext, saved: ReadCheckpoint): SoftmaxRegression | Classifier {
  const where = 'restore';
  const loss = { labelSmoothing: saved.labelSmoothing, ...(saved.classWeights === null ? {} : { classWeights: saved.classWeights }) };
  const common = { features: saved.features, classes: saved.classes, seed: saved.seed, optimizer: saved.optimizer, loss };
  let model: SoftmaxRegression | Classifier;
  try {
    model =
      saved.kind === 'softmax-regression' ?
        new SoftmaxRegression(ctx, { ...common, init: { weights: saved.layers[0]!.weight, bias: saved.layers[0]!.bias } })
      : new Classifier(ctx, { ...common, hidden: saved.hidden, activation: saved.activation, init: saved.layers });
  } catch (e) {
    // The options are checked before the constructors allocate anything: say whose options they were.
    if (e instanceof WebGPUSoftmaxError) {
      const Kind = e.constructor as new (message: string) => WebGPUSoftmaxError;
      throw new Kind(e.message.replace(/^(softmaxRegression|classifier):/, `${where}: the checkpoint's options:`));
    }
    throw e;
  }
  applyCheckpoint(modelOf(model), saved);
  return model;
}
