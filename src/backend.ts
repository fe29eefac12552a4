import type { DType } from './dtype.js';
import type { AdapterReport } from './webgpu/device.js';
import type { TunableOp, TuningTable } from './tuning-table.js';

/** Where a context runs its ops. */
export type BackendKind = 'cpu' | 'webgpu';

/**
 * A backend's handle on a tensor's elements: a typed array on the CPU, a buffer on the GPU.
 * The context only ever reads its size; each backend checks that it was handed its own kind.
 */
export interface Storage {
  /** Bytes this storage really holds (a GPU buffer may be rounded up to its pool's bucket). */
  readonly byteLength: number;
}

/** The time one kernel (WebGPU) or one op (CPU) took. */
export interface KernelTiming {
  /** The dispatch's label: the kernel's name and variant. */
  readonly label: string;
  /** Its time in milliseconds. */
  readonly ms: number;
}

/**
 * What `ctx.profile` measured: GPU time per dispatch from `timestamp-query` on WebGPU,
 * wall time per op on the CPU, or nothing where the device has no timestamp queries.
 */
export interface Profile<T> {
  /** What `fn` returned. */
  readonly result: T;
  /** Each kernel or op, in the order they ran. */
  readonly kernels: readonly KernelTiming[];
  /** The sum of the kernels' times; NaN when unavailable. */
  readonly totalMs: number;
  /** Where the times come from: GPU timestamps, the CPU's wall clock, or nowhere. */
  readonly source: 'timestamp-query' | 'wall-clock' | 'unavailable';
}

/** Why a device went away, as `GPUDeviceLostInfo` tells it. */
export interface DeviceLoss {
  /** `'destroyed'` or `'unknown'`, as `GPUDeviceLostInfo.reason`. */
  readonly reason: string;
  /** The driver's message. */
  readonly message: string;
}

/** `out[b] = op(a[b]) · op(b[b]) + bias`, already validated; strides are in elements. */
export interface MatmulPlan {
  readonly batch: number;
  readonly m: number;
  readonly k: number;
  readonly n: number;
  readonly transposeA: boolean;
  readonly transposeB: boolean;
  /** 0 where `a` is shared by every batch entry. */
  readonly aBatchStride: number;
  /** 0 where `b` is shared by every batch entry (a 2-D weight matrix). */
  readonly bBatchStride: number;
}

/** A row-wise op over `rows` rows of `cols` contiguous elements. */
export interface RowsPlan {
  readonly rows: number;
  readonly cols: number;
}

/** How `crossEntropy` reduces the rows' losses: their weighted mean (PyTorch's default), their sum, or none (`[N]`). */
export type Reduction = 'mean' | 'sum' | 'none';

/** A validated cross-entropy call; see `CrossEntropyOptions` for the meaning of each field. */
export interface CrossEntropyPlan {
  readonly rows: number;
  readonly classes: number;
  /** `index`: int32 class ids `[N]`; `probs`: float32 `[N, C]` target weights. */
  readonly target: 'index' | 'probs';
  readonly reduction: Reduction;
  readonly ignoreIndex: number;
  readonly labelSmoothing: number;
  readonly withGrad: boolean;
}

/**
 * A validated `linearCrossEntropy` call: the cross-entropy of `x · weight + bias` (`crossEntropy`
 * has `rows` = N and `classes` = C), never holding all N rows of logits at once.
 */
export interface LinearCrossEntropyPlan {
  /** D, the columns of `x`. */
  readonly features: number;
  /** `weight` is stored `[C, D]` (a PyTorch `Linear`, a tied embedding) instead of `[D, C]`. */
  readonly transposeWeight: boolean;
  readonly hasBias: boolean;
  /** Rows of logits formed at a time; null lets the backend choose from its limits. */
  readonly chunkRows: number | null;
  readonly crossEntropy: CrossEntropyPlan;
  /** With `crossEntropy.withGrad`: also `gradX` (a model's step needs only the parameters'). */
  readonly withGradX: boolean;
  /** `x` holds float16: each chunk of its rows is widened to float32 as it is read, never the whole `x` at once. */
  readonly float16X: boolean;
  /**
   * Where given, each chunk's logits also feed a metrics accumulator as `accumulateMetrics`
   * would (the correct and counted rows, the rows), and the loss is added times `lossScale`.
   */
  readonly metricsLossScale: number | null;
}

/** The `k` largest entries of each of `rows` rows of `cols` logits, written from row `firstRow` of `[N, k]` results. */
export interface TopKPlan {
  readonly rows: number;
  readonly cols: number;
  readonly k: number;
  readonly firstRow: number;
}

/** `rows` rows of `cols` elements, taken at `indices[start + r]`, or from row `start` on when there are no indices. */
export interface GatherPlan {
  readonly rows: number;
  readonly cols: number;
  readonly start: number;
  /** The source holds float16 (half bits) and the rows come out widened to float32: a batch of float16 `x`. */
  readonly widen: boolean;
}

/** One SGD step over `elements` parameters (see `SgdOptions`). */
export interface SgdPlan {
  readonly elements: number;
  readonly learningRate: number;
  readonly momentum: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;
}

/** One Adam step over `elements` parameters (see `AdamOptions`), bias corrections included. */
export interface AdamPlan {
  readonly elements: number;
  /** learningRate / (1 - beta1^t), for step t counted from 1. */
  readonly stepSize: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  /** sqrt(1 - beta2^t). */
  readonly correction2Sqrt: number;
}

/** One AdamW step over `elements` parameters (see `AdamWOptions`), bias corrections included. */
export interface AdamWPlan {
  readonly elements: number;
  /** 1 - learningRate * weightDecay: the decoupled decay, applied to the parameter first. */
  readonly paramScale: number;
  /** learningRate / (1 - beta1^t), for step t counted from 1. */
  readonly stepSize: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  /** sqrt(1 - beta2^t). */
  readonly correction2Sqrt: number;
}

/** One RMSprop step over `elements` parameters (see `RmspropOptions`). */
export interface RmspropPlan {
  readonly elements: number;
  readonly learningRate: number;
  readonly alpha: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  /** With 0, there is no momentum buffer. */
  readonly momentum: number;
  /** With true, there is a gradient average. */
  readonly centered: boolean;
}

/** The activations between a classifier's layers; `gelu` is the exact erf form, as PyTorch's default. */
export type Activation = 'relu' | 'gelu' | 'tanh';

/** An activation, or its backward pass, over `elements` values. */
export interface ActivationPlan {
  readonly elements: number;
  readonly activation: Activation;
}

/**
 * Adds one batch to a metrics accumulator `[loss, correct, counted, rows]`: `loss * lossScale`,
 * the rows whose largest logit is the target class (the target's largest entry, for
 * probabilities), the rows counted (not ignored), and the rows seen.
 */
export interface MetricsPlan {
  readonly rows: number;
  readonly classes: number;
  readonly target: 'index' | 'probs';
  readonly ignoreIndex: number;
  readonly lossScale: number;
}

/**
 * A training step under the non-finite guard. `words` is an int32 storage of four words that
 * the step's checks fill on the device: `[last bad step + 1, first bad step (-1: none), bad
 * steps, 0]`; the host reads it once per epoch, with the epoch's figures.
 */
export interface StepGuard {
  readonly words: Storage;
  /** This step's index in the run, from 0. */
  readonly step: number;
  /**
   * `true` (`nonFinite: 'error'`): once any step was bad, no later update applies, so the
   * weights stay those from before the first bad step until the host reads the flag.
   * `false` (`'skip'`): only the bad step's own updates are skipped.
   */
  readonly sticky: boolean;
}

/** The loss of a cross-entropy call, and its gradient when the plan asks for one. */
export interface BackendCrossEntropyResult {
  readonly loss: Storage;
  readonly grad: Storage | null;
}

/** The loss of a linear cross-entropy call and, when the plan asks, its gradients (`gradBias` only with a bias). */
export interface BackendLinearCrossEntropyResult {
  readonly loss: Storage;
  readonly gradX: Storage | null;
  readonly gradWeight: Storage | null;
  readonly gradBias: Storage | null;
}

/**
 * What a WebGPU backend offers an app that shares its device: tensors over the app's own
 * buffers, and the buffers behind the backend's tensors.
 */
export interface GpuBufferAccess {
  readonly device: GPUDevice;
  /** A storage over `elements` values of `dtype` in an app's buffer from byte `offset`; never pooled, never destroyed. */
  borrow(buffer: GPUBuffer, offset: number, elements: number, dtype: DType): Storage;
  /** Submits the work queued so far (which includes the writes of `storage`) and returns its buffer. */
  bufferOf(storage: Storage): Promise<GPUBuffer>;
}

/**
 * One method per op. The context has validated every shape, dtype and option before it calls
 * any of these, so a backend trusts its plan and never throws for bad input.
 */
export interface Backend {
  readonly kind: BackendKind;
  /** The largest tensor the backend can bind, and the name of the device limit behind it. */
  readonly tensorByteLimit: { readonly bytes: number; readonly name: string } | null;
  /** The GPU adapter behind the backend; null on the CPU. */
  readonly adapter: AdapterReport | null;
  /** Resolves if the device is lost; null where there is no device. */
  readonly lost: Promise<DeviceLoss> | null;
  /** GPU buffers shared with the app; null on the CPU. */
  readonly gpuBuffers: GpuBufferAccess | null;
  /** The WebAssembly build computing, on the Wasm CPU backend; absent on the others. */
  readonly wasmBuild?: 'relaxed-simd' | 'simd';
  /** Threads the CPU backend runs big ops on, the calling one included; absent on WebGPU (1 on the reference). */
  readonly threads?: number;
  /** A storage holding a copy of `data`: float32, int32, or float16 as half bits. */
  upload(data: Float32Array | Int32Array | Uint16Array): Storage;
  /** The elements as stored: a float16 storage gives its half bits. */
  read(storage: Storage, dtype: DType): Promise<Float32Array | Int32Array | Uint16Array>;
  release(storage: Storage): void;
  matmul(a: Storage, b: Storage, bias: Storage | null, plan: MatmulPlan): Storage;
  softmax(z: Storage, plan: RowsPlan): Storage;
  logSoftmax(z: Storage, plan: RowsPlan): Storage;
  softmaxBackward(p: Storage, dp: Storage, plan: RowsPlan): Storage;
  crossEntropy(
    z: Storage,
    target: Storage,
    classWeights: Storage | null,
    plan: CrossEntropyPlan,
  ): BackendCrossEntropyResult;
  /** `crossEntropy(x · weight + bias)` and its gradients, in chunks of rows; see `LinearCrossEntropyPlan`. */
  linearCrossEntropy(
    x: Storage,
    weight: Storage,
    bias: Storage | null,
    target: Storage,
    classWeights: Storage | null,
    metrics: Storage | null,
    plan: LinearCrossEntropyPlan,
  ): BackendLinearCrossEntropyResult;
  /** Writes each row's k most probable classes (int32) and their softmax probabilities into `indices` and `values`. */
  topK(z: Storage, indices: Storage, values: Storage, plan: TopKPlan): void;
  /** Sums `rows` rows of `cols` columns into `cols` column totals. */
  sumRows(t: Storage, plan: RowsPlan): Storage;
  /** Copies rows of a float32 or int32 storage (training batches, shuffled or in order), or widens rows of a float16 one. */
  gatherRows(t: Storage, indices: Storage | null, plan: GatherPlan): Storage;
  /**
   * Updates `param` (and the velocity, if any) in place. Each optimizer step takes an optional
   * `guard`: where it marks the step as skipped (see `StepGuard`), nothing is written.
   */
  sgdStep(param: Storage, grad: Storage, velocity: Storage | null, plan: SgdPlan, guard?: StepGuard | null): void;
  /** Updates `param` and the moments `m`, `v` in place. */
  adamStep(param: Storage, grad: Storage, m: Storage, v: Storage, plan: AdamPlan, guard?: StepGuard | null): void;
  /** Updates `param` and the moments `m`, `v` in place, decaying `param` first. */
  adamwStep(param: Storage, grad: Storage, m: Storage, v: Storage, plan: AdamWPlan, guard?: StepGuard | null): void;
  /**
   * Updates `param`, the squared-gradient average `square`, and (where the plan asks for them)
   * the gradient average `mean` and the momentum buffer `buffer` in place.
   */
  rmspropStep(param: Storage, grad: Storage, square: Storage, mean: Storage | null, buffer: Storage | null, plan: RmspropPlan, guard?: StepGuard | null): void;
  /**
   * Marks `guard`'s step as bad where any float32 element of `values` is NaN or ±Infinity;
   * on WebGPU without a readback (the optimizer steps after it read the mark on the device).
   */
  checkFinite(values: readonly Storage[], guard: StepGuard): void;
  /**
   * Adds a step's metrics `[loss, correct, counted, rows]` into `acc` unless `guard` marks the
   * step as bad, and zeroes `stepAcc` for the next step.
   */
  commitMetrics(stepAcc: Storage, acc: Storage, guard: StepGuard): void;
  /** `act(z)`, elementwise: a hidden layer's output from its pre-activation `z`. */
  activation(z: Storage, plan: ActivationPlan): Storage;
  /** `grad * act'(z)`, elementwise: the gradient at the pre-activation `z` from the one at the output. */
  activationBackward(z: Storage, grad: Storage, plan: ActivationPlan): Storage;
  /**
   * A hidden layer forward: `pre = op(a) · op(b) + bias` and `out = act(pre)` (WebGPU: the
   * activation in the matmul's epilogue, one pass). `pre` is kept for the backward pass.
   */
  linearActivation(a: Storage, b: Storage, bias: Storage | null, plan: MatmulPlan, activation: Activation): { readonly pre: Storage; readonly out: Storage };
  /**
   * `(op(a) · op(b)) * act'(pre)`: the gradient at a hidden layer's pre-activation from the
   * gradient `a` at the layer above's input (WebGPU: act' in the matmul's epilogue).
   */
  linearActivationBackward(a: Storage, b: Storage, pre: Storage, plan: MatmulPlan, activation: Activation): Storage;
  /** Adds a batch's figures into `acc` in place; see `MetricsPlan`. */
  accumulateMetrics(z: Storage, target: Storage, loss: Storage, acc: Storage, plan: MetricsPlan): void;
  /** The elements without a copy or a wait, where the backend keeps them in host memory; else null. */
  peek(storage: Storage): Float32Array | Int32Array | null;
  /**
   * Records `fn`'s ops without running them and readies every kernel they would use (WebGPU:
   * compiled and self-checked, all at once); absent where there is nothing to ready.
   */
  prepare?(fn: () => void): Promise<void>;
  /** The kernel choices, refusals and self-check costs on this device; absent on the CPU. */
  tuning?(): TuningTable;
  /** Times the kernel candidates of `ops` on this device within `budgetMs` (see `ctx.tune`); absent on the CPU. */
  tune?(budgetMs: number, ops: readonly TunableOp[]): Promise<void>;
  /** Runs `fn` and times the work it queues, kernel by kernel. */
  profile<T>(fn: () => T | Promise<T>): Promise<Profile<T>>;
  /** Submits queued work; resolves once it is handed to the device, not when it finishes. */
  flush(): Promise<void>;
  /** Bytes the backend keeps for reuse beyond live tensors (a buffer pool). */
  pooledBytes(): number;
  /**
   * The most bytes the backend has held at once (tensors, scratch, staging, pooled buffers)
   * since it was made or since `resetPeakBytes`.
   */
  peakBytes(): number;
  /** Starts the high-water mark over from what is held now. */
  resetPeakBytes(): void;
  destroy(): void;
}
