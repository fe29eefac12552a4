import type { Backend, BackendKind, DeviceLoss, Profile, Storage } from './backend.js';
import { describe } from './describe.js';
import {
  ContextMismatchError,
  DeviceLostError,
  DisposedError,
  DTypeError,
  LimitError,
  ShapeError,
  ValueError,
} from './errors.js';
import { checkArity } from './check-options.js';
import { checkCrossEntropyCall, planCrossEntropy, type CrossEntropyOptions } from './ops/cross-entropy.js';
import { refuseFloat16, widened } from './ops/float16.js';
import { planBorrow } from './ops/gpu-buffer.js';
import { planTensor } from './ops/tensor.js';
import { checkLinearCrossEntropyCall, planLinearCrossEntropy, type LinearCrossEntropyOptions } from './ops/linear-cross-entropy.js';
import { checkMatmulCall, planMatmul, type MatmulOptions } from './ops/matmul.js';
import { planRows } from './ops/rows.js';
import { checkSumCall, planSum, type SumOptions } from './ops/sum.js';
import { formatShape, sizeOf, type Shape } from './shape.js';
import { Tensor, tensorInternals, type DType, type Internals, type TensorOwner } from './tensor.js';
import { bytesPerElement } from './dtype.js';
import { internals, type ContextInternals } from './internal.js';
import type { SoftmaxRegressionJSON, SoftmaxRegressionOptions } from './train/options.js';
import { optionsFromJSON } from './train/resolve-options.js';
import {
  Classifier,
  classifierOptionsFromJSON,
  importedClassifierOptions,
  type ClassifierJSON,
  type ClassifierOptions,
  type ImportClassifierOptions,
} from './train/classifier.js';
import { SoftmaxRegression } from './train/softmax-regression.js';
import { readCheckpoint } from './train/checkpoint.js';
import { restoreModel } from './train/restore.js';
import type { AdapterReport } from './webgpu/device.js';
import type { TuningTable } from './tuning-table.js';
import { resolveTune, type TuneOptions } from './tune-options.js';

/** What a context holds right now. */
export interface MemoryInfo {
  /** Tensors created and not yet disposed. */
  readonly tensors: number;
  /**
   * Bytes those tensors occupy on the backend (GPU buffers as allocated, rounding included);
   * the app's buffers behind `tensorFromGPUBuffer` tensors are the app's, not counted.
   */
  readonly bytes: number;
  /**
   * Bytes kept for reuse beyond live tensors: freed GPU buffers in the pool on WebGPU; on the
   * CPU's WebAssembly backend, the Wasm memory not held by tensors (it grows, never shrinks);
   * 0 on the CPU reference.
   */
  readonly pooledBytes: number;
  /**
   * The most bytes the backend has held at once since the context opened or since
   * `resetPeakMemory()`: on WebGPU every buffer (tensors, scratch, uniforms, read staging,
   * pooled buffers); on the WebAssembly CPU backend, the blocks its tensors and kernel scratch
   * held; on the float64 reference, tensor storage.
   */
  readonly peakBytes: number;
}

/** A float32 tensor. @inline */
type F32 = Tensor<'float32'>;

/** A float32 tensor, or a float16 one: ops that take this widen float16 to float32 as they read it. @inline */
type Floats = Tensor<'float32'> | Tensor<'float16'>;

/** @internal How `createContext` chose the backend. */
export interface BackendChoice {
  readonly reason: string;
  readonly adapter: AdapterReport | null;
}

/**
 * Owns a backend and every tensor made through it. Each op checks shapes, dtypes and options
 * here, once, and throws before any work is queued; then the backend does the arithmetic.
 * Ops return new tensors right away; on WebGPU their work runs when something is read.
 *
 * @example
 * const ctx = await createContext({ backend: 'cpu' });
 * const z = ctx.tensor(new Float32Array([1, 2, 3, 1, 1, 1]), [2, 3]);
 * const y = ctx.tensor(new Int32Array([2, 0]));
 * const { loss, grad } = ctx.crossEntropyWithGrad(z, y);
 * console.log((await loss.read())[0]);
 */
export class Context {
  #backend: Backend;
  #tensors = 0;
  #bytes = 0;
  #destroyed = false;
  #lost: DeviceLoss | null = null;
  readonly #choice: BackendChoice;
  /** How this context's tensors reach it; also the proof that a tensor is ours. */
  readonly #owner: TensorOwner = {
    read: (t, dtype) => {
      this.#live('read');
      return t.backend.read(t.storage, dtype);
    },
    release: (t) => {
      this.#tensors--;
      this.#bytes -= t.storage.byteLength;
      if (!this.#destroyed) t.backend.release(t.storage);
    },
  };

  /** @internal For src/train/. */
  readonly [internals]: ContextInternals = {
    backend: () => this.#backend,
    storage: (t, where, name) => {
      this.#live(where);
      return this.#internals(t, where, name).storage;
    },
    adopt: (storage, shape, dtype) => this.#adopt(storage, shape, dtype, null),
    labels: (t) => tensorInternals(t)?.hostInt32 ?? null,
  };

  /**
   * @internal Use `createContext`. If the backend's device is lost, the context carries on
   * with `fallback()`: tensors made from then on live there.
   */
  constructor(backend: Backend, fallback: () => Backend, choice: BackendChoice) {
    this.#backend = backend;
    this.#choice = choice;
    void backend.lost?.then((loss) => {
      if (this.#destroyed || this.#backend !== backend) return;
      this.#lost = loss;
      this.#backend = fallback();
      backend.destroy();
    });
  }

  /** The backend doing the work now: `'cpu'` after the WebGPU device was lost. */
  get backend(): BackendKind {
    return this.#backend.kind;
  }

  /**
   * Why `backend` is what it is, in a sentence: what was asked for, the adapter found, or why
   * WebGPU was passed over.
   *
   * @example
   * const ctx = await createContext();
   * console.log(ctx.backend, ctx.backendReason);
   * // cpu the only WebGPU adapter is a software one (google swiftshader ...), which emulates ...
   */
  get backendReason(): string {
    if (this.#lost !== null) return `the WebGPU device was lost (${this.#lost.reason}), so the context carries on on the CPU`;
    return this.#choice.reason;
  }

  /**
   * The GPU adapter the context saw (vendor, architecture, and `isSoftware`, true for an
   * emulation such as SwiftShader), also when `'auto'` chose the CPU over a software adapter;
   * null where no adapter was looked at or found.
   */
  get adapter(): AdapterReport | null {
    return this.#backend.adapter ?? this.#choice.adapter;
  }

  /**
   * The `GPUDevice` a WebGPU context runs on, to share with another library (TF.js, ONNX
   * Runtime Web) or the app's own pipelines; null on the CPU, and after the device was lost.
   *
   * @example
   * const backend = new WebGPUBackend(ctx.device!); // TF.js's WebGPU backend on our device
   */
  get device(): GPUDevice | null {
    return this.#backend.gpuBuffers?.device ?? null;
  }

  /**
   * @internal For the test suites, which must know that the kernels they check are the ones
   * that ran: the WebAssembly build the CPU backend runs (`'relaxed-simd'` or `'simd'`), or
   * null on the float64 reference (also where Wasm could not load) and on WebGPU.
   */
  get wasmBuild(): 'relaxed-simd' | 'simd' | null {
    return this.#backend.wasmBuild ?? null;
  }

  /**
   * Threads the CPU backend runs big ops on, the calling one included (1 on the reference
   * backend and where threads cannot run: `backendReason` then says why); null on WebGPU.
   *
   * @example
   * const ctx = await createContext({ backend: 'cpu', threads: 'auto' });
   * console.log(ctx.threads, ctx.backendReason); // 4 backend 'cpu' was asked for; 4 threads
   */
  get threads(): number | null {
    return this.#backend.threads ?? null;
  }

  /** Why the WebGPU device was lost, if it was; its tensors' data is gone, and reading them rejects. */
  get lost(): DeviceLoss | null {
    return this.#lost;
  }

  /**
   * A tensor holding a copy of `data` (float32, or int32 for class ids), row-major in `shape`.
   * `shape` defaults to `[data.length]`; `[]` makes a scalar. With `'float16'`, the tensor
   * stores IEEE halves in half the bytes: `data` is a `Uint16Array` of half bits, or a
   * `Float32Array` rounded to the nearest half (ties to even; beyond ±65504 to ±Infinity).
   *
   * @example
   * const x = ctx.tensor(new Float32Array([1, 2, 3, 4]), [2, 2]);
   * const x16 = ctx.tensor(embeddings, [n, 512], 'float16'); // half the memory; ops widen it to float32
   */
  tensor(data: Float32Array, shape?: Shape, dtype?: 'float32'): F32;
  tensor(data: Int32Array, shape?: Shape, dtype?: 'int32'): Tensor<'int32'>;
  tensor(data: Float32Array | Uint16Array, shape: Shape | undefined, dtype: 'float16'): Tensor<'float16'>;
  tensor(data: Float32Array | Int32Array | Uint16Array, shape?: Shape, dtype?: DType): Tensor;
  tensor(data: Float32Array | Int32Array | Uint16Array, shape?: Shape, dtype?: DType): Tensor {
    checkArity('tensor', arguments.length, 3);
    const backend = this.#live('tensor');
    const plan = planTensor(data, shape ?? [data?.length], dtype);
    this.#checkBytes('tensor', plan.shape, plan.dtype);
    const hostInt32 = plan.values instanceof Int32Array ? plan.values.slice() : null;
    return this.#adopt(backend.upload(plan.values), plan.shape, plan.dtype, hostInt32);
  }

  /**
   * A tensor over an app's `GPUBuffer`, without a copy: `shape` elements of `dtype` from
   * `byteOffset` (a multiple of the device's `minStorageBufferOffsetAlignment`, 256 on most).
   * The buffer must come from this context's device (open the context with
   * `createContext({ device })`) and have `STORAGE` usage; reading the tensor back also uses
   * `COPY_SRC` where the buffer has it. The app keeps ownership: disposing the tensor never
   * destroys the buffer, and ops see what the app last wrote there before they run. Class ids
   * in such a tensor are not range-checked on the host, which would need a read-back. A buffer
   * of another device is reported by the next read or flush, as a `ContextMismatchError`.
   * A `'float16'` tensor reads two halves per 32-bit word (as ONNX Runtime Web's float16
   * outputs hold them), so its bytes are rounded up to whole words in the buffer.
   *
   * @example
   * const ctx = await createContext({ device });            // the app's device
   * const x = ctx.tensorFromGPUBuffer(embeddings, [n, 512]); // float32 [n, 512], no copy
   * const h = ctx.tensorFromGPUBuffer(halves, [n, 512], 'float16'); // half-precision embeddings, trained on as they are
   */
  tensorFromGPUBuffer(buffer: GPUBuffer, shape: Shape, dtype?: 'float32', byteOffset?: number): F32;
  tensorFromGPUBuffer(buffer: GPUBuffer, shape: Shape, dtype: 'int32', byteOffset?: number): Tensor<'int32'>;
  tensorFromGPUBuffer(buffer: GPUBuffer, shape: Shape, dtype: 'float16', byteOffset?: number): Tensor<'float16'>;
  tensorFromGPUBuffer(buffer: GPUBuffer, shape: Shape, dtype?: DType, byteOffset?: number): Tensor;
  tensorFromGPUBuffer(buffer: GPUBuffer, shape: Shape, dtype: DType = 'float32', byteOffset = 0): Tensor {
    checkArity('tensorFromGPUBuffer', arguments.length, 4);
    const access = this.#live('tensorFromGPUBuffer').gpuBuffers;
    if (access === null) {
      throw new ValueError(
        'tensorFromGPUBuffer: this context runs on the CPU backend; GPU buffers need a WebGPU context on their device (createContext({ device }))',
      );
    }
    const { elements } = planBorrow(buffer, shape, dtype, byteOffset, access.device.limits);
    return this.#adopt(access.borrow(buffer, byteOffset, elements, dtype), shape, dtype, null);
  }

  /**
   * The `GPUBuffer` that holds `t`, after submitting the work that writes it, for another
   * library or the app to bind or copy from. Its usage is `STORAGE | COPY_SRC | COPY_DST`; it
   * may be larger than the tensor (buffers come in size buckets), and `t`'s elements start at
   * byte 0 (at the tensor's `byteOffset` for one made by `tensorFromGPUBuffer`). It stays
   * valid until `t` is disposed; after that the library may reuse it. Do not write to it
   * while `t` is in use. Async because the submit may wait for a pipeline to compile: once it
   * resolves, anything the app submits to the device's queue runs after that work.
   *
   * @example
   * const probs = model.predict(x);
   * const buffer = await ctx.gpuBuffer(probs);
   * const onTfjs = tf.tensor({ buffer }, probs.shape, 'float32'); // TF.js reads it on the same device
   */
  async gpuBuffer(t: Tensor): Promise<GPUBuffer> {
    checkArity('gpuBuffer', arguments.length, 1);
    const access = this.#live('gpuBuffer').gpuBuffers;
    const storage = this.#internals(t, 'gpuBuffer', 't').storage;
    if (access === null) throw new ValueError(`gpuBuffer: ${t} lives on the CPU backend; only a WebGPU context has GPU buffers`);
    return access.bufferOf(storage);
  }

  /**
   * `op(a) · op(b) + bias`. `a` is `[M, K]` and `b` is `[K, N]` (or their transposes when
   * asked), or batched `[B, M, K]` times `[B, K, N]`; a 2-D operand is shared by the whole batch.
   * Any operand may be float16: it is widened to float32, and the product is float32.
   *
   * @example
   * const z = ctx.matmul(x, w, { bias: b });           // logits of a linear layer
   * const dw = ctx.matmul(x, dz, { transposeA: true }); // its weight gradient
   */
  matmul(a: Floats, b: Floats, options: MatmulOptions<Floats> = {}): F32 {
    checkMatmulCall(arguments.length, options);
    const backend = this.#live('matmul');
    const sa = this.#floats(a, 'matmul', 'a', true);
    const sb = this.#floats(b, 'matmul', 'b', true);
    const sbias = options.bias === undefined ? null : this.#floats(options.bias, 'matmul', 'bias', true);
    const { plan, shape } = planMatmul(
      a.shape,
      b.shape,
      options.bias?.shape ?? null,
      options.transposeA ?? false,
      options.transposeB ?? false,
    );
    this.#checkBytes('matmul', shape);
    return this.#widening('matmul', [[a, sa], [b, sb], [options.bias, sbias]], ([wa, wb, wbias]) =>
      this.#adopt(backend.matmul(wa!, wb!, wbias ?? null, plan), shape, 'float32', null),
    );
  }

  /** Softmax over the last axis: `exp(z - max) / sum(exp(z - max))`. A row of all -Infinity gives zeros. `z` may be float16. */
  softmax(z: Floats): F32 {
    checkArity('softmax', arguments.length, 1);
    const backend = this.#live('softmax');
    const s = this.#floats(z, 'softmax', 'z', true);
    const plan = planRows(z.shape, 'softmax');
    return this.#widening('softmax', [[z, s]], ([wz]) => this.#adopt(backend.softmax(wz!, plan), z.shape, 'float32', null));
  }

  /** Log-softmax over the last axis, without forming `log(softmax)`. A row of all -Infinity gives -Infinity. `z` may be float16. */
  logSoftmax(z: Floats): F32 {
    checkArity('logSoftmax', arguments.length, 1);
    const backend = this.#live('logSoftmax');
    const s = this.#floats(z, 'logSoftmax', 'z', true);
    const plan = planRows(z.shape, 'logSoftmax');
    return this.#widening('logSoftmax', [[z, s]], ([wz]) => this.#adopt(backend.logSoftmax(wz!, plan), z.shape, 'float32', null));
  }

  /**
   * The gradient through a softmax: given `p = softmax(z)` and `dp = dL/dp`, returns
   * `dL/dz = p * (dp - sum(dp * p))` per row, the product with the Jacobian `diag(p) - p pᵀ`.
   */
  softmaxBackward(p: F32, dp: F32): F32 {
    checkArity('softmaxBackward', arguments.length, 2);
    const backend = this.#live('softmaxBackward');
    const sp = this.#floats(p, 'softmaxBackward', 'p');
    const sdp = this.#floats(dp, 'softmaxBackward', 'dp');
    if (!sameShape(p.shape, dp.shape)) {
      throw new ShapeError(
        `softmaxBackward: p ${formatShape(p.shape)} and dp ${formatShape(dp.shape)} must have the same shape`,
      );
    }
    const plan = planRows(p.shape, 'softmaxBackward');
    return this.#adopt(backend.softmaxBackward(sp, sdp, plan), p.shape, 'float32', null);
  }

  /**
   * Softmax cross-entropy of logits `z` `[N, C]` against int32 class ids `[N]` or float32
   * probabilities `[N, C]` (which need not sum to 1), with PyTorch's `F.cross_entropy`
   * semantics. Returns a scalar, or `[N]` for `reduction: 'none'`. For N = 0, `'mean'` is NaN
   * and `'sum'` is 0, as in PyTorch. The logits may be float16; targets may not.
   *
   * @example
   * const loss = ctx.crossEntropy(z, labels, { labelSmoothing: 0.1 });
   */
  crossEntropy(z: Floats, target: Tensor, options: CrossEntropyOptions<F32> = {}): F32 {
    checkCrossEntropyCall('crossEntropy', arguments.length, options);
    return this.#crossEntropy('crossEntropy', z, target, options, false).loss;
  }

  /**
   * The loss of `crossEntropy` and its gradient `d(loss)/dz` `[N, C]` from one pass over the
   * logits: `(p * sum(t) - t) * scale`, where `t` is the effective target row and `scale` is
   * 1, or 1 / (the mean's denominator). For `'none'` the gradient is that of the summed losses.
   *
   * @example
   * const { loss, grad } = ctx.crossEntropyWithGrad(z, labels);
   * const dw = ctx.matmul(x, grad, { transposeA: true });
   */
  crossEntropyWithGrad(
    z: Floats,
    target: Tensor,
    options: CrossEntropyOptions<F32> = {},
  ): {
    /** The loss: a scalar, or `[N]` with `reduction: 'none'`. */
    loss: F32;
    /** d(loss)/dz, `[N, C]`. */
    grad: F32;
  } {
    checkCrossEntropyCall('crossEntropyWithGrad', arguments.length, options);
    const { loss, grad } = this.#crossEntropy('crossEntropyWithGrad', z, target, options, true);
    return { loss, grad: grad! };
  }

  /**
   * `crossEntropy(matmul(x, weight) + bias, target)` without ever holding the `[N, C]` logits:
   * they are formed a chunk of rows at a time (`chunkRows`), so N·C may be far beyond what one
   * buffer holds. `x` is `[N, D]`, `weight` `[D, C]` (or `[C, D]` with `transposeWeight`),
   * `target` int32 `[N]` class ids or float32 `[N, C]` probabilities; every `crossEntropy`
   * option has its meaning there. Returns a scalar, or `[N]` for `reduction: 'none'`. `x`
   * and `weight` may be float16 (widened as read); the gradients are float32.
   *
   * @example
   * const loss = ctx.linearCrossEntropy(hidden, embedding, nextTokens, { transposeWeight: true });
   */
  linearCrossEntropy(x: Floats, weight: Floats, target: Tensor, options: LinearCrossEntropyOptions<F32> = {}): F32 {
    checkLinearCrossEntropyCall('linearCrossEntropy', arguments.length, options);
    return this.#linearCrossEntropy('linearCrossEntropy', x, weight, target, options, false).loss;
  }

  /**
   * The loss of `linearCrossEntropy` and its gradients from one pass over the chunks: `gradX`
   * (`[N, D]`), `gradWeight` (in `weight`'s layout) and `gradBias` (`[C]`; null without a bias),
   * equal to `crossEntropyWithGrad` followed by `dz · Wᵀ`, `xᵀ · dz` and the column sums of dz.
   *
   * @example
   * const { loss, gradX, gradWeight, gradBias } = ctx.linearCrossEntropyWithGrad(x, w, labels, { bias: b });
   */
  linearCrossEntropyWithGrad(
    x: Floats,
    weight: Floats,
    target: Tensor,
    options: LinearCrossEntropyOptions<F32> = {},
  ): {
    /** The loss: a scalar, or `[N]` with `reduction: 'none'`. */
    loss: F32;
    /** d(loss)/dx, `[N, D]`. */
    gradX: F32;
    /** d(loss)/dweight, in `weight`'s layout. */
    gradWeight: F32;
    /** d(loss)/dbias, `[C]`; null without a bias. */
    gradBias: F32 | null;
  } {
    checkLinearCrossEntropyCall('linearCrossEntropyWithGrad', arguments.length, options);
    const result = this.#linearCrossEntropy('linearCrossEntropyWithGrad', x, weight, target, options, true);
    return { loss: result.loss, gradX: result.gradX!, gradWeight: result.gradWeight!, gradBias: result.gradBias };
  }

  /**
   * Sums over the first axis (`{ axis: 0 }`: the column sums of a matrix, a bias gradient),
   * or over every element when no axis is given (a scalar).
   */
  sum(t: F32, options: SumOptions = {}): F32 {
    checkSumCall(arguments.length, options);
    const backend = this.#live('sum');
    const s = this.#floats(t, 'sum', 't');
    const { plan, shape } = planSum(t.shape, options.axis);
    return this.#adopt(backend.sumRows(s, plan), shape, 'float32', null);
  }

  /**
   * A softmax-regression classifier whose weights, optimizer state and training steps live
   * on this context's backend.
   *
   * @example
   * const model = ctx.softmaxRegression({ features: 4, classes: 3, init: 'glorot', seed: 1,
   *   optimizer: { type: 'adam', learningRate: 0.01 } });
   */
  softmaxRegression(options: SoftmaxRegressionOptions): SoftmaxRegression {
    checkArity('softmaxRegression', arguments.length, 1);
    this.#live('softmaxRegression');
    return new SoftmaxRegression(this, options);
  }

  /** A model saved with `model.toJSON()` (the object, or its JSON text), on this context. */
  loadSoftmaxRegression(json: SoftmaxRegressionJSON | string): SoftmaxRegression {
    checkArity('loadSoftmaxRegression', arguments.length, 1);
    this.#live('loadSoftmaxRegression');
    return new SoftmaxRegression(this, optionsFromJSON(typeof json === 'string' ? (JSON.parse(json) as SoftmaxRegressionJSON) : json));
  }

  /**
   * A classifier head: dense layers `features → hidden… → classes` with `activation` between
   * them (see `ClassifierOptions`), initialised as PyTorch's `nn.Linear` from `seed`.
   *
   * @example
   * const model = ctx.classifier({ features: 1280, classes: 5, hidden: [100], activation: 'relu', seed: 1,
   *   optimizer: { type: 'adam', learningRate: 1e-3 } });
   */
  classifier(options: ClassifierOptions): Classifier {
    checkArity('classifier', arguments.length, 1);
    this.#live('classifier');
    return new Classifier(this, options);
  }

  /** A classifier saved with `model.toJSON()` (the object, or its JSON text), on this context. */
  loadClassifier(json: ClassifierJSON | string): Classifier {
    checkArity('loadClassifier', arguments.length, 1);
    this.#live('loadClassifier');
    return new Classifier(this, classifierOptionsFromJSON(typeof json === 'string' ? (JSON.parse(json) as ClassifierJSON) : json));
  }

  /**
   * A classifier from ONNX or safetensors bytes: our own exports, `torch.onnx.export` files and
   * PyTorch state_dicts of `nn.Sequential(Linear, act, …, Linear)` saved with `safetensors`.
   * The file is checked whole before anything is made; errors name the tensor or node at fault.
   *
   * @example
   * const model = await ctx.importClassifier(new Uint8Array(await file.arrayBuffer()), { format: 'safetensors', activation: 'gelu' });
   */
  async importClassifier(bytes: Uint8Array, options: ImportClassifierOptions): Promise<Classifier> {
    checkArity('importClassifier', arguments.length, 2);
    this.#live('importClassifier');
    const resolved = await importedClassifierOptions(bytes, options);
    this.#live('importClassifier');
    return new Classifier(this, resolved);
  }

  /**
   * The model a `model.checkpoint()` saved (a `SoftmaxRegression` or a `Classifier`, as it was),
   * on this context's backend, whichever backend saved it, with its optimizer state and where
   * training stood: `fit` with `initialEpoch` goes on from there. The bytes are checked whole
   * first (framing, format and version, options, every tensor's name, shape and values); an
   * error names what is wrong, and nothing is allocated before.
   *
   * @example
   * const model = await ctx.restore(new Uint8Array(await file.arrayBuffer()));
   * await model.fit(x, y, { epochs: 10, initialEpoch: 4 });
   */
  async restore(bytes: Uint8Array): Promise<SoftmaxRegression | Classifier> {
    checkArity('restore', arguments.length, 1);
    this.#live('restore');
    const saved = await readCheckpoint(bytes, 'restore');
    this.#live('restore');
    return restoreModel(this, saved);
  }

  /** Live tensors and their bytes, and the bytes the backend keeps for reuse (see `MemoryInfo`). */
  memory(): MemoryInfo {
    checkArity('memory', arguments.length, 0);
    return {
      tensors: this.#tensors,
      bytes: this.#bytes,
      pooledBytes: this.#destroyed ? 0 : this.#backend.pooledBytes(),
      peakBytes: this.#destroyed ? 0 : this.#backend.peakBytes(),
    };
  }

  /**
   * Starts `memory().peakBytes` over from what the backend holds now, to measure one step.
   *
   * @example
   * ctx.resetPeakMemory();
   * await ctx.linearCrossEntropy(x, w, labels).read();
   * console.log(ctx.memory().peakBytes);
   */
  resetPeakMemory(): void {
    checkArity('resetPeakMemory', arguments.length, 0);
    this.#live('resetPeakMemory').resetPeakBytes();
  }

  /**
   * What this context knows of its kernels on this device: the tuned choice per shape class,
   * every variant the device refused (beyond its limits, failed to compile) or got wrong (its
   * first run differed from the CPU backend's on a small probe), and what those checks cost.
   * Plain JSON, keyed by the adapter and library version: store it and pass it to
   * `createContext({ tuning })` to skip timing next time. Null on the CPU backend.
   *
   * @example
   * const table = ctx.tuning();
   * for (const r of table?.rejected ?? []) console.warn(r.name, r.stage, r.reason);
   */
  tuning(): TuningTable | null {
    checkArity('tuning', arguments.length, 0);
    return this.#live('tuning').tuning?.() ?? null;
  }

  /**
   * Times every kernel variant of each family in `ops` that this device's limits allow, at the
   * shapes a classifier meets (matmul by columns and transposes; row ops by row length), on
   * seeded data; each must first pass the self-check against the CPU backend. The fastest
   * correct one becomes its shape class's choice, in `tuning()`. Timed with timestamp queries
   * where the device has them, else by the wall time of a submit. Nothing to do on the CPU.
   *
   * @example
   * await ctx.tune({ budgetMs: 3000, ops: ['matmul', 'crossEntropy'] });
   * localStorage.setItem('webgpu-softmax tuning', JSON.stringify(ctx.tuning()));
   */
  async tune(options: TuneOptions = {}): Promise<void> {
    checkArity('tune', arguments.length, 1);
    const { budgetMs, ops } = resolveTune(options);
    await this.#live('tune').tune?.(budgetMs, ops);
  }

  /**
   * Runs `fn` and reports the time of each kernel it queued: GPU time from `timestamp-query`
   * on WebGPU (in Chromium, unquantised only with `--enable-webgpu-developer-features`),
   * wall time per op on the CPU. Work queued before the call is not counted.
   *
   * @example
   * const { kernels, totalMs } = await ctx.profile(() => model.trainStep(x, y).read());
   * for (const k of kernels) console.log(k.label, k.ms.toFixed(3), 'ms');
   */
  async profile<T>(fn: () => T | Promise<T>): Promise<Profile<T>> {
    checkArity('profile', arguments.length, 1);
    return this.#live('profile').profile(fn);
  }

  /** Hands every queued op to the device (one submit on WebGPU). Reads do this themselves. */
  async flush(): Promise<void> {
    checkArity('flush', arguments.length, 0);
    await this.#live('flush').flush();
  }

  /** Frees everything the context holds; its tensors can no longer be used. Safe to call twice. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#backend.destroy();
  }

  /** `destroy()`, for `using ctx = await createContext()`. */
  [Symbol.dispose](): void {
    this.destroy();
  }

  #crossEntropy(
    where: string,
    z: Floats,
    target: Tensor,
    options: CrossEntropyOptions<F32>,
    withGrad: boolean,
  ): { loss: F32; grad: F32 | null } {
    const backend = this.#live(where);
    const sz = this.#floats(z, where, 'z', true);
    const targetInternals = this.#internals(target, where, 'target');
    const weights = this.#classWeights(where, options.classWeights);
    const { plan, lossShape } = planCrossEntropy(
      where,
      z,
      target,
      targetInternals.hostInt32,
      weights.shape,
      options,
      withGrad,
    );
    const result = this.#widening(where, [[z, sz]], ([wz]) =>
      this.#withClassWeights(backend, options.classWeights, weights.storage, (sw) => backend.crossEntropy(wz!, targetInternals.storage, sw, plan)),
    );
    return {
      loss: this.#adopt(result.loss, lossShape, 'float32', null),
      grad: result.grad === null ? null : this.#adopt(result.grad, z.shape, 'float32', null),
    };
  }

  /** A loss call's class weights: their shape, for the checks, and their storage where they are a tensor. */
  #classWeights(where: string, weights: CrossEntropyOptions<F32>['classWeights']): { shape: Shape | null; storage: Storage | null } {
    if (weights instanceof Tensor) return { shape: weights.shape, storage: this.#floats(weights, where, 'classWeights') };
    return { shape: weights === undefined ? null : [weights.length], storage: null };
  }

  /** Runs `op` with the class weights on the backend; plain arrays are uploaded for this call only. */
  #withClassWeights<T>(
    backend: Backend,
    weights: CrossEntropyOptions<F32>['classWeights'],
    storage: Storage | null,
    op: (classWeights: Storage | null) => T,
  ): T {
    const uploaded = storage === null && weights !== undefined && !(weights instanceof Tensor) ? backend.upload(Float32Array.from(weights)) : null;
    try {
      return op(storage ?? uploaded);
    } finally {
      if (uploaded !== null) backend.release(uploaded);
    }
  }

  #linearCrossEntropy(
    where: string,
    x: Floats,
    weight: Floats,
    target: Tensor,
    options: LinearCrossEntropyOptions<F32>,
    withGrad: boolean,
  ): { loss: F32; gradX: F32 | null; gradWeight: F32 | null; gradBias: F32 | null } {
    const backend = this.#live(where);
    const sx = this.#floats(x, where, 'x', true);
    const sweight = this.#floats(weight, where, 'weight', true);
    const sbias = options.bias === undefined ? null : this.#floats(options.bias, where, 'bias');
    const targetInternals = this.#internals(target, where, 'target');
    const weights = this.#classWeights(where, options.classWeights);
    const { plan, lossShape } = planLinearCrossEntropy(
      where,
      x,
      weight,
      options.bias?.shape ?? null,
      target,
      targetInternals.hostInt32,
      weights.shape,
      options,
      withGrad,
    );
    if (plan.chunkRows !== null) this.#checkBytes(`${where} (chunkRows)`, [plan.chunkRows, plan.crossEntropy.classes]);
    // x stays float16: the backend widens it a chunk of rows at a time (plan.float16X).
    const r = this.#widening(where, [[weight, sweight]], ([wweight]) =>
      this.#withClassWeights(backend, options.classWeights, weights.storage, (sw) =>
        backend.linearCrossEntropy(sx, wweight!, sbias, targetInternals.storage, sw, null, plan),
      ),
    );
    const adopt = (storage: Storage | null, shape: Shape) => (storage === null ? null : this.#adopt(storage, shape, 'float32', null));
    return {
      loss: this.#adopt(r.loss, lossShape, 'float32', null),
      gradX: adopt(r.gradX, x.shape),
      gradWeight: adopt(r.gradWeight, weight.shape),
      gradBias: adopt(r.gradBias, [plan.crossEntropy.classes]),
    };
  }

  #live(where: string): Backend {
    if (this.#destroyed) throw new DisposedError(`${where}: the context was destroyed`);
    return this.#backend;
  }

  #checkBytes(where: string, shape: Shape, dtype: DType = 'float32'): void {
    const limit = this.#backend.tensorByteLimit;
    const bytes = Math.ceil((sizeOf(shape) * bytesPerElement(dtype)) / 4) * 4;
    if (limit !== null && bytes > limit.bytes) {
      throw new LimitError(
        `${where}: a tensor of shape ${formatShape(shape)} needs ${bytes} bytes, more than the device's ` +
          `${limit.name} of ${limit.bytes} bytes`,
      );
    }
  }

  #internals(t: Tensor, where: string, name: string): Internals {
    if (!(t instanceof Tensor)) throw new ValueError(`${where}: ${name} must be a Tensor, got ${describe(t)}`);
    const internals = tensorInternals(t);
    if (internals === null) throw new DisposedError(`${where}: ${name} ${t} was used after dispose()`);
    if (internals.owner !== this.#owner) {
      throw new ContextMismatchError(`${where}: ${name} ${t} belongs to another context; tensors cannot be mixed across contexts`);
    }
    if (internals.backend !== this.#backend) {
      throw new DeviceLostError(
        `${where}: ${name} ${t} lived on the WebGPU device that was lost (${this.#lost?.reason}); its data is gone`,
      );
    }
    return internals;
  }

  /** A float32 input's storage; a float16 one's too where the op takes it (`halves`), else a refusal naming where float16 goes. */
  #floats(t: Tensor, where: string, name: string, halves = false): Storage {
    const { storage } = this.#internals(t, where, name);
    if (t.dtype === 'float16' && !halves) refuseFloat16(where, name, t);
    if (t.dtype !== 'float32' && t.dtype !== 'float16') throw new DTypeError(`${where}: ${name} must be float32, got ${t}`);
    return storage;
  }

  /**
   * Runs `op` on the inputs' float32 storages, after every check has passed: a float16 input
   * is widened into a copy first (checked against the device's limits as a float32 tensor),
   * released once the op is recorded.
   */
  #widening<T>(where: string, inputs: readonly (readonly [Tensor | undefined, Storage | null])[], op: (storages: (Storage | null)[]) => T): T {
    const backend = this.#backend;
    for (const [t] of inputs) if (t?.dtype === 'float16') this.#checkBytes(`${where} (${t} widened to float32)`, t.shape);
    const temps: Storage[] = [];
    try {
      return op(inputs.map(([t, s]) => (t === undefined || s === null ? null : widened(backend, t, s, temps))));
    } finally {
      for (const s of temps) backend.release(s);
    }
  }

  #adopt<D extends DType>(storage: Storage, shape: Shape, dtype: D, hostInt32: Int32Array | null): Tensor<D> {
    this.#tensors++;
    this.#bytes += storage.byteLength;
    return new Tensor(shape, dtype, { owner: this.#owner, backend: this.#backend, storage, hostInt32 });
  }
}

function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
