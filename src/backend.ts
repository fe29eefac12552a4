import type { DType } from './tensor.js';

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

/** The loss of a cross-entropy call, and its gradient when the plan asks for one. */
export interface BackendCrossEntropyResult {
  readonly loss: Storage;
  readonly grad: Storage | null;
}

/**
 * One method per op. The context has validated every shape, dtype and option before it calls
 * any of these, so a backend trusts its plan and never throws for bad input.
 */
export interface Backend {
  readonly kind: BackendKind;
  /** The largest tensor the backend can bind, and the name of the device limit behind it. */
  readonly tensorByteLimit: { readonly bytes: number; readonly name: string } | null;
  upload(data: Float32Array | Int32Array): Storage;
  read(storage: Storage, dtype: DType): Promise<Float32Array | Int32Array>;
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
  /** Sums `rows` rows of `cols` columns into `cols` column totals. */
  sumRows(t: Storage, plan: RowsPlan): Storage;
  /** Submits queued work; resolves once it is handed to the device, not when it finishes. */
  flush(): Promise<void>;
  /** Bytes the backend keeps for reuse beyond live tensors (a buffer pool). */
  pooledBytes(): number;
  destroy(): void;
}
