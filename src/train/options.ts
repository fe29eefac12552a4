import { keysOf } from '../check-options.js';
import type { Tensor } from '../tensor.js';
import type { LearningRateSchedule } from './schedules.js';

/** Initial weights: zeros, Glorot-uniform from the seed, or given (`weights` row-major [F, C]). */
export type Init =
  | 'zeros'
  | 'glorot'
  | {
      /** Row-major `[features, classes]`. */
      readonly weights: Float32Array;
      /** `[classes]`. */
      readonly bias: Float32Array;
    };

// Each options type's keys, held to the type by `keysOf`: adding an option is one line here,
// and every entry point refuses a key it does not know (src/check-options.ts).
export const INIT_KEYS = keysOf<Exclude<Init, string>>({ weights: true, bias: true });

/**
 * Stochastic gradient descent, as PyTorch's `torch.optim.SGD` (dampening 0):
 * `g += weightDecay * p; v = momentum * v + g; p -= learningRate * (nesterov ? g + momentum * v : v)`.
 */
export interface SgdOptions {
  /** Selects SGD. */
  readonly type: 'sgd';
  /** The step size: a positive number. A `learningRate` schedule in `fit` scales it step by step. */
  readonly learningRate: number;
  /** Default 0. */
  readonly momentum?: number;
  /** Default false; needs a momentum. */
  readonly nesterov?: boolean;
  /** L2 penalty added to the gradient. Default 0. */
  readonly weightDecay?: number;
}

/**
 * Adam, as PyTorch's `torch.optim.Adam` (weight decay as an L2 term added to the gradient),
 * with bias-corrected moments. Its moments live on the device that holds the weights.
 */
export interface AdamOptions {
  /** Selects Adam. */
  readonly type: 'adam';
  /** The step size: a positive number. A `learningRate` schedule in `fit` scales it step by step. */
  readonly learningRate: number;
  /** Default 0.9. */
  readonly beta1?: number;
  /** Default 0.999. */
  readonly beta2?: number;
  /** Default 1e-8. */
  readonly epsilon?: number;
  /** Default 0. */
  readonly weightDecay?: number;
}

/**
 * AdamW, as PyTorch's `torch.optim.AdamW`: Adam whose weight decay is decoupled from the
 * gradient, `p *= 1 - learningRate * weightDecay` before the Adam update.
 */
export interface AdamWOptions {
  /** Selects AdamW. */
  readonly type: 'adamw';
  /** The step size: a positive number. A `learningRate` schedule in `fit` scales it step by step. */
  readonly learningRate: number;
  /** Default 0.9. */
  readonly beta1?: number;
  /** Default 0.999. */
  readonly beta2?: number;
  /** Default 1e-8. */
  readonly epsilon?: number;
  /** Decoupled decay rate. Default 0.01, as PyTorch's. */
  readonly weightDecay?: number;
}

/**
 * RMSprop, as PyTorch's `torch.optim.RMSprop`: `g += weightDecay * p; s = alpha * s + (1 - alpha) g²`;
 * centered, also `a = alpha * a + (1 - alpha) g` and the denominator `sqrt(s - a²) + epsilon`
 * (else `sqrt(s) + epsilon`); with momentum, `b = momentum * b + g / denominator; p -= learningRate * b`,
 * else `p -= learningRate * g / denominator`.
 */
export interface RmspropOptions {
  /** Selects RMSprop. */
  readonly type: 'rmsprop';
  /** The step size: a positive number. A `learningRate` schedule in `fit` scales it step by step. */
  readonly learningRate: number;
  /** Smoothing of the squared gradients. Default 0.99. */
  readonly alpha?: number;
  /** Default 1e-8. */
  readonly epsilon?: number;
  /** L2 penalty added to the gradient. Default 0. */
  readonly weightDecay?: number;
  /** Default 0. */
  readonly momentum?: number;
  /** Normalize by the estimated variance of the gradient instead of its second moment. Default false. */
  readonly centered?: boolean;
}

/**
 * The optimizer a model trains with, picked by `type`, with its options.
 *
 * @example
 * ```ts
 * const model = ctx.classifier({ features: 4, classes: 3, optimizer: { type: 'adamw', learningRate: 1e-3, weightDecay: 0.01 } });
 * ```
 */
export type OptimizerOptions = SgdOptions | AdamOptions | AdamWOptions | RmspropOptions;

export const OPTIMIZER_KEYS: Readonly<Record<OptimizerOptions['type'], readonly string[]>> = {
  sgd: keysOf<SgdOptions>({ type: true, learningRate: true, momentum: true, nesterov: true, weightDecay: true }),
  adam: keysOf<AdamOptions>({ type: true, learningRate: true, beta1: true, beta2: true, epsilon: true, weightDecay: true }),
  adamw: keysOf<AdamWOptions>({ type: true, learningRate: true, beta1: true, beta2: true, epsilon: true, weightDecay: true }),
  rmsprop: keysOf<RmspropOptions>({ type: true, learningRate: true, alpha: true, epsilon: true, weightDecay: true, momentum: true, centered: true }),
};

/** The cross-entropy options a model trains with (see `CrossEntropyOptions`). */
export interface LossOptions {
  /** Mixes each target with the uniform distribution: `(1 - s) * target + s / classes`, `s` in [0, 1]. Default 0. */
  readonly labelSmoothing?: number;
  /** A weight per class, which scales each row's loss by its target class's weight (PyTorch's `weight`). Default: none. */
  readonly classWeights?: Float32Array | readonly number[] | undefined;
}

export const LOSS_KEYS = keysOf<LossOptions>({ labelSmoothing: true, classWeights: true });

/**
 * What `ctx.softmaxRegression` takes.
 *
 * @example
 * ```ts
 * const model = ctx.softmaxRegression({ features: 784, classes: 10, seed: 1, optimizer: { type: 'sgd', learningRate: 0.5 } });
 * ```
 */
export interface SoftmaxRegressionOptions {
  /** Features per row: the width of `x`. */
  readonly features: number;
  /** Classes: the width of the logits; class ids run from 0 to `classes - 1`. */
  readonly classes: number;
  /** Default `'zeros'`. */
  readonly init?: Init;
  /** Seeds every random choice: Glorot weights and the shuffling in `fit`. Default 0. */
  readonly seed?: number;
  /** Default `{ type: 'sgd', learningRate: 0.1 }`. */
  readonly optimizer?: OptimizerOptions;
  /** The cross-entropy's label smoothing and class weights. Default: neither. */
  readonly loss?: LossOptions;
}

export const SOFTMAX_REGRESSION_KEYS = keysOf<SoftmaxRegressionOptions>({ features: true, classes: true, init: true, seed: true, optimizer: true, loss: true });

/** What `fit` reports after each epoch. */
export interface EpochLogs {
  /** 0-based. */
  readonly epoch: number;
  /** Mean training loss over the epoch's batches (weighted by batch size). */
  readonly loss: number;
  /** Share of the epoch's training rows classified right, before each batch's update. */
  readonly accuracy: number;
  /** The validation loss, when `validationData` or `validationSplit` was given. */
  readonly valLoss?: number;
  /** The share of validation rows classified right, when there is validation data. */
  readonly valAccuracy?: number;
  /** Wall time of the epoch, validation included. */
  readonly seconds: number;
  /** Batches skipped for NaN or Infinity under `nonFinite: 'skip'` (0 otherwise). */
  readonly skippedBatches: number;
}

/**
 * What training does with a step whose loss or gradients hold NaN or ±Infinity. Either way
 * that step updates nothing (on WebGPU the optimizer kernels skip it on the device, and the
 * flag is read back once per epoch, with the epoch's figures). `'error'`: no later step of the
 * epoch updates anything either, and `fit` rejects with a `NonFiniteError` naming the epoch,
 * the batch and the row; the model holds the weights from before that batch. `'skip'`: training
 * goes on without the batch, as PyTorch's `GradScaler` skips a step, and the history counts it
 * (`skippedBatches`); the epoch's loss and accuracy are over the batches not skipped.
 */
export type NonFiniteMode = 'error' | 'skip';

/**
 * Stops training when a validation figure stops improving, as Keras's `EarlyStopping`: an
 * epoch improves when `monitor` beats the best so far by more than `minDelta`; after
 * `patience` epochs in a row without improvement, training ends (its promise resolves with
 * the history so far).
 */
export interface EarlyStoppingOptions {
  /** Default `'valLoss'` (lower is better); `'valAccuracy'`: higher is better. */
  readonly monitor?: 'valLoss' | 'valAccuracy';
  /** Epochs in a row without improvement after which training stops (0 acts as 1, as in Keras). Default 0. */
  readonly patience?: number;
  /** The least change that counts as an improvement. Default 0. */
  readonly minDelta?: number;
  /** Ends training with the best epoch's weights, exactly, whether it stopped early or not. Default false. */
  readonly restoreBestWeights?: boolean;
}

export const EARLY_STOPPING_KEYS = keysOf<EarlyStoppingOptions>({ monitor: true, patience: true, minDelta: true, restoreBestWeights: true });

/** What `fit`'s and `fitDataset`'s `checkpoint.save` is told with each checkpoint. */
export interface CheckpointInfo {
  /**
   * The `initialEpoch` to resume from: after an epoch's end, the next epoch; in the middle of
   * one (`everySteps`), that epoch, whose first `batch` batches a resumed run then skips.
   */
  readonly epoch: number;
  /** Optimizer steps the run's learning-rate schedule has counted so far. */
  readonly step: number;
}

/**
 * When `fit` and `fitDataset` hand a checkpoint (`model.checkpoint()`'s bytes) to the app, and
 * how: `save` is awaited before training goes on, so it may write IndexedDB or a file. With
 * neither `everyEpochs` nor `everySteps`, a checkpoint is made after every epoch. One made
 * `everySteps` is written just before the next step is queued, or at the epoch's end when that
 * comes first; each reads back only the weights and the optimizer's state.
 *
 * @example
 * ```ts
 * await model.fit(x, y, { epochs: 20, checkpoint: { everyEpochs: 1, save: (bytes) => idbPut('head', bytes) } });
 * ```
 */
export interface CheckpointOptions {
  /** Every this many epochs (counted from epoch 0, resumed runs included). */
  readonly everyEpochs?: number;
  /** Every this many optimizer steps (the run's schedule's steps). */
  readonly everySteps?: number;
  /** Receives each checkpoint; training waits for a returned promise. */
  readonly save: (bytes: Uint8Array, info: CheckpointInfo) => void | Promise<void>;
}

export const CHECKPOINT_KEYS = keysOf<CheckpointOptions>({ everyEpochs: true, everySteps: true, save: true });

/**
 * What `fit` takes: how long and how to train on tensors held by the context.
 *
 * @example
 * ```ts
 * await model.fit(x, y, { epochs: 10, batchSize: 128, validationSplit: 0.1, onEpochEnd: (logs) => console.log(logs) });
 * ```
 */
export interface FitOptions {
  /** Default 1. */
  readonly epochs?: number;
  /** Default 32. The last batch of an epoch may be smaller. */
  readonly batchSize?: number;
  /** Reshuffle the rows every epoch, from the model's seed. Default true. */
  readonly shuffle?: boolean;
  /** Evaluated after every epoch: features `[N, F]` and targets (int32 `[N]` or float32 `[N, C]`). */
  readonly validationData?: readonly [Tensor<'float32'> | Tensor<'float16'>, Tensor];
  /**
   * A fraction in (0, 1) of the rows held out for validation instead of `validationData`: the
   * last rows, as Keras takes them (before any shuffling), `floor(N * (1 - split))` rows train.
   */
  readonly validationSplit?: number;
  /** Needs `validationData` or `validationSplit`. */
  readonly earlyStopping?: EarlyStoppingOptions;
  /** Stops after the step under way: `fit` rejects with the signal's reason, the model as after that step. */
  readonly signal?: AbortSignal;
  /** Called after each epoch, with that epoch's figures; `fit` waits for a returned promise. */
  readonly onEpochEnd?: (logs: EpochLogs) => void | Promise<void>;
  /** Called after each batch is queued; reads nothing back, so a progress bar costs no sync. */
  readonly onBatchEnd?: (progress: { readonly epoch: number; readonly batch: number; readonly batches: number }) => void;
  /**
   * A schedule for the optimizer's `learningRate`, counted in this run's steps (a cosine's
   * `totalSteps` defaults to `epochs * ceil(rows / batchSize)`). After `fit`, the optimizer's
   * own rate applies again.
   */
  readonly learningRate?: LearningRateSchedule;
  /**
   * The epoch to start at, as Keras's `initial_epoch`: epochs `initialEpoch` to `epochs - 1`
   * run, numbered so in the logs, and a schedule spans all `epochs` (its step at epoch e,
   * batch b is `e * batches + b`). Given on a model whose progress (`ctx.restore`d, or after
   * an earlier run) stands at this epoch, the run continues it exactly: the shuffle is drawn
   * from the stream as it stood at that epoch's start, and a checkpoint taken in the middle
   * of the epoch skips the batches it had done. Early stopping's patience counts from the
   * first epoch run. Default 0.
   */
  readonly initialEpoch?: number;
  /** Hands checkpoints to the app as the run goes (see `CheckpointOptions`). */
  readonly checkpoint?: CheckpointOptions;
  /**
   * Keeps the state each epoch starts from on the host (the weights and the optimizer's state,
   * read back with the figures at each epoch's end), so that a lost WebGPU device costs at most
   * the epoch under way: `fitDataset`
   * goes on from there on the CPU; `fit`, whose rows were on the device, rejects with a
   * `DeviceLostError` whose `checkpoint` holds it. It costs one read of that state per epoch.
   * Default: on WebGPU, where that state is at most 64 MiB; never on the CPU, which is not lost.
   */
  readonly recovery?: boolean;
  /** A step whose loss or gradients are not finite: reject (`'error'`, the default) or skip it (see `NonFiniteMode`). */
  readonly nonFinite?: NonFiniteMode;
}

export const FIT_KEYS = keysOf<FitOptions>({
  epochs: true,
  batchSize: true,
  shuffle: true,
  validationData: true,
  validationSplit: true,
  earlyStopping: true,
  signal: true,
  onEpochEnd: true,
  onBatchEnd: true,
  learningRate: true,
  initialEpoch: true,
  checkpoint: true,
  recovery: true,
  nonFinite: true,
});

/**
 * One batch of a `fitDataset` stream: `x` row-major `[rows, features]` (a typed array, or a
 * tensor of the model's context) and `y` int32 class ids `[rows]` or float32 targets
 * `[rows, classes]`. Batches may differ in size.
 */
export interface Batch {
  /** Features, row-major `[rows, features]`. */
  readonly x: Float32Array | Tensor<'float32'> | Tensor<'float16'>;
  /** Targets: int32 class ids `[rows]`, or float32 probabilities `[rows, classes]`. */
  readonly y: Int32Array | Float32Array | Tensor;
}

export const BATCH_KEYS = keysOf<Batch>({ x: true, y: true });

/** Batches that can be walked once per epoch: each epoch asks for a new iterator. */
export type BatchSource = Iterable<Batch> | AsyncIterable<Batch>;

/**
 * What `fitDataset` trains on: an array of batches, an iterable or async iterable whose
 * iterator starts over each time it is asked for (`[Symbol.asyncIterator]()`), or a function
 * returning one, called once per epoch.
 */
export type Dataset = BatchSource | (() => BatchSource);

/**
 * What `fitDataset` takes: like `fit`'s, for batches streamed from anywhere.
 *
 * @example
 * ```ts
 * await model.fitDataset(async function* () { for await (const part of parts()) yield { x: part.x, y: part.y }; }, { epochs: 3 });
 * ```
 */
export interface FitDatasetOptions {
  /** Default 1. */
  readonly epochs?: number;
  /** Evaluated after every epoch: a `[x, y]` pair of tensors, or batches as for training. */
  readonly validationData?: readonly [Tensor<'float32'> | Tensor<'float16'>, Tensor] | Dataset;
  /** Needs `validationData`. */
  readonly earlyStopping?: EarlyStoppingOptions;
  /** Called after each epoch, with that epoch's figures; `fitDataset` waits for a returned promise. */
  readonly onEpochEnd?: (logs: EpochLogs) => void | Promise<void>;
  /** Called after each batch is queued, with its index in the epoch and its rows; reads nothing back. */
  readonly onBatchEnd?: (progress: { readonly epoch: number; readonly batch: number; readonly rows: number }) => void;
  /** Stops between batches: `fitDataset` rejects with the signal's reason, the model as after the last step. */
  readonly signal?: AbortSignal;
  /** As `fit`'s, counted in this run's steps; a cosine must give its `totalSteps` (the stream's length is unknown). */
  readonly learningRate?: LearningRateSchedule;
  /**
   * As `fit`'s: epochs `initialEpoch` to `epochs - 1` run. On a model whose progress stands at
   * this epoch, the schedule's step count goes on from the model's, and a checkpoint taken in
   * the middle of the epoch skips (reads and drops, untrained) as many batches of the stream as
   * it had done. A schedule on a model that stands elsewhere is refused: a stream's position in
   * steps is unknown. Default 0.
   */
  readonly initialEpoch?: number;
  /**
   * Hands checkpoints to the app as the run goes (see `CheckpointOptions`). A `fitDataset`
   * checkpoint holds the model, the optimizer, the epoch, the batches done within it and the
   * schedule's step, but not the data source's own position (an app's cursor, file offset or
   * random sampler): a resumed run opens the dataset anew, as each epoch does.
   */
  readonly checkpoint?: CheckpointOptions;
  /**
   * Keeps the state each epoch starts from on the host (the weights and the optimizer's state,
   * read back with the figures at each epoch's end), so that a lost WebGPU device costs at most
   * the epoch under way: `fitDataset`
   * goes on from there on the CPU; `fit`, whose rows were on the device, rejects with a
   * `DeviceLostError` whose `checkpoint` holds it. It costs one read of that state per epoch.
   * Default: on WebGPU, where that state is at most 64 MiB; never on the CPU, which is not lost.
   */
  readonly recovery?: boolean;
  /** As `fit`'s (see `NonFiniteMode`); a `NonFiniteError`'s `row` is found only where the dataset is an array of batches. */
  readonly nonFinite?: NonFiniteMode;
}

export const FIT_DATASET_KEYS = keysOf<FitDatasetOptions>({
  epochs: true,
  validationData: true,
  earlyStopping: true,
  onEpochEnd: true,
  onBatchEnd: true,
  signal: true,
  learningRate: true,
  initialEpoch: true,
  checkpoint: true,
  recovery: true,
  nonFinite: true,
});

/** `predict(x, { topK })`: the k most probable classes of each row instead of every probability. */
export interface PredictOptions {
  /** How many classes per row, from 1 to 128 (and at most `classes`). */
  readonly topK: number;
}

export const PREDICT_KEYS = keysOf<PredictOptions>({ topK: true });

/** What `predict(x, { topK })` returns: each row's `topK` most probable classes, largest first. */
export interface TopK {
  /** Class ids, int32 `[rows, topK]`; ties go to the lower class. */
  readonly indices: Tensor<'int32'>;
  /** Their probabilities, float32 `[rows, topK]`. */
  readonly values: Tensor<'float32'>;
}

/** What `fit` and `fitDataset` resolve with: one figure per epoch that ran. */
export interface History {
  /** Mean training loss per epoch. */
  readonly loss: number[];
  /** Training accuracy per epoch. */
  readonly accuracy: number[];
  /** Validation loss per epoch; empty without validation data. */
  readonly valLoss: number[];
  /** Validation accuracy per epoch; empty without validation data. */
  readonly valAccuracy: number[];
  /**
   * Present where the WebGPU device was lost during `fitDataset` and training went on on the
   * CPU: the epoch run again there (from the state kept at its start), and why the device went.
   */
  readonly deviceLost?: {
    /** The first epoch trained on the CPU. */
    readonly epoch: number;
    /** The loss's reason, as `ctx.lost` gives it. */
    readonly reason: string;
  };
  /** Batches skipped per epoch for NaN or Infinity under `nonFinite: 'skip'` (zeros otherwise). */
  readonly skippedBatches: number[];
}

/** What `evaluate` resolves with. */
export interface Evaluation {
  /** Mean cross-entropy over the rows. */
  readonly loss: number;
  /** The share of rows whose most probable class is the target's. */
  readonly accuracy: number;
}

/** A model as `toJSON` writes it and `ctx.loadSoftmaxRegression` reads it. */
export interface SoftmaxRegressionJSON {
  /** Names the document's kind. */
  readonly format: 'webgpu-softmax/softmax-regression';
  /** The document's version. */
  readonly version: 1;
  /** Features per row. */
  readonly features: number;
  /** Classes. */
  readonly classes: number;
  /** The seed it was made with. */
  readonly seed: number;
  /** The optimizer's options (not its state). */
  readonly optimizer: OptimizerOptions;
  /** The loss options it trained with. */
  readonly loss: {
    /** In [0, 1]. */
    readonly labelSmoothing: number;
    /** One weight per class, or null for none. */
    readonly classWeights: number[] | null;
  };
  /** Row-major [features, classes]. */
  readonly weights: number[];
  /** `[classes]`. */
  readonly bias: number[];
}
