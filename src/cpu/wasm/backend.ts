import type {
  Activation,
  ActivationPlan,
  AdamPlan,
  AdamWPlan,
  Backend,
  BackendCrossEntropyResult,
  CrossEntropyPlan,
  GatherPlan,
  LinearCrossEntropyPlan,
  MatmulPlan,
  MetricsPlan,
  Profile,
  RmspropPlan,
  RowsPlan,
  SgdPlan,
  StepGuard,
  Storage,
  TopKPlan,
} from '../../backend.js';
import type { DType } from '../../dtype.js';
import { activation, activationBackward } from '../activation.js';
import { crossEntropy as referenceCrossEntropy } from '../cross-entropy.js';
import { OpTimer } from '../timer.js';
import { topK } from '../top-k.js';
import { accumulateMetrics, checkFinite, commitMetrics, guardSkips } from '../train.js';
import { crossEntropy, wasmCoversCrossEntropy } from './cross-entropy.js';
import { WASM_MEMORY_BYTES, WasmStorage, type WasmHeap } from './heap.js';
import { linearCrossEntropy } from './linear-cross-entropy.js';
import { matmul } from './matmul.js';
import type { WasmKernels } from './module.js';
import { elementwise, rowKernel, sumColumns } from './parallel.js';
import type { ThreadPool } from './threads/pool.js';

/**
 * The default CPU backend: float32 kernels in WebAssembly SIMD (kernels/), over tensors that
 * live in one `WebAssembly.Memory` per context. Ops never copy their inputs; `upload` and
 * `read` are the only copies between JavaScript and the memory. What is not hot runs the
 * reference's TypeScript over views of the memory: the metrics of `fit`, and cross-entropy
 * with label smoothing or probability targets.
 */
/**
 * Stops the workers of a backend the app dropped without `destroy()`: they would otherwise live
 * as long as the page or process, each holding a thread and the shared memory's reservation.
 */
const dropped = new FinalizationRegistry<ThreadPool>((pool) => pool.destroy());

export class WasmBackend implements Backend {
  readonly kind = 'cpu';
  readonly tensorByteLimit: { bytes: number; name: string };
  readonly adapter = null;
  readonly lost = null;
  readonly gpuBuffers = null;
  readonly wasmBuild: WasmKernels['build'];
  readonly #kernels: WasmKernels;
  readonly #heap: WasmHeap;
  readonly #timer = new OpTimer();

  constructor(kernels: WasmKernels) {
    this.#kernels = kernels;
    this.wasmBuild = kernels.build;
    this.#heap = kernels.heap;
    if (kernels.threads.pool !== null) dropped.register(this, kernels.threads.pool, this);
    const shared = kernels.heap.maxBytes < WASM_MEMORY_BYTES ? `, the shared memory's maximum` : '';
    this.tensorByteLimit = { bytes: kernels.heap.maxBytes, name: `WebAssembly memory (wasm32${shared})` };
  }

  upload(data: Float32Array | Int32Array | Uint16Array): Storage {
    if (data instanceof Uint16Array) {
      const s = this.#heap.storage(data.length, 2);
      this.#heap.u16().set(data, s.offset >> 1);
      return s;
    }
    const s = this.#heap.storage(data.length);
    (data instanceof Int32Array ? this.#heap.i32() : this.#heap.f32()).set(data, s.offset >> 2);
    return s;
  }

  async read(storage: Storage, dtype: DType): Promise<Float32Array | Int32Array | Uint16Array> {
    if (dtype === 'float16') {
      const s = this.#own(storage);
      return this.#heap.u16().slice(s.offset >> 1, (s.offset >> 1) + s.length);
    }
    return this.#view(storage, dtype).slice();
  }

  release(storage: Storage): void {
    this.#heap.release(this.#own(storage));
  }

  matmul(a: Storage, b: Storage, bias: Storage | null, plan: MatmulPlan): Storage {
    return this.#timer.timed(`matmul ${plan.batch}x${plan.m}x${plan.k}x${plan.n}`, () => {
      const out = this.#heap.storage(plan.batch * plan.m * plan.n);
      matmul(this.#kernels, out, this.#own(a), this.#own(b), bias === null ? null : this.#own(bias), plan);
      return out;
    });
  }

  softmax(z: Storage, plan: RowsPlan): Storage {
    return this.#timer.timed(`softmax ${plan.rows}x${plan.cols}`, () => this.#rows('softmax', [z], plan));
  }

  logSoftmax(z: Storage, plan: RowsPlan): Storage {
    return this.#timer.timed(`logSoftmax ${plan.rows}x${plan.cols}`, () => this.#rows('log_softmax', [z], plan));
  }

  softmaxBackward(p: Storage, dp: Storage, plan: RowsPlan): Storage {
    return this.#timer.timed(`softmaxBackward ${plan.rows}x${plan.cols}`, () => this.#rows('softmax_backward', [p, dp], plan));
  }

  crossEntropy(z: Storage, target: Storage, classWeights: Storage | null, plan: CrossEntropyPlan): BackendCrossEntropyResult {
    return this.#timer.timed(`crossEntropy ${plan.rows}x${plan.classes}`, () => {
      const weights = classWeights === null ? null : this.#own(classWeights);
      if (wasmCoversCrossEntropy(plan)) return crossEntropy(this.#kernels, this.#own(z), this.#own(target), weights, plan);
      // Label smoothing and probability targets: the reference kernel, reading the Wasm memory in place.
      const targets = this.#view(target, plan.target === 'index' ? 'int32' : 'float32');
      const { loss, grad } = referenceCrossEntropy(this.#floats(z), targets, weights === null ? null : this.#floats(weights), plan);
      const lossStorage = this.upload(loss);
      return { loss: lossStorage, grad: grad === null ? null : this.upload(grad) };
    });
  }

  linearCrossEntropy(
    x: Storage,
    weight: Storage,
    bias: Storage | null,
    target: Storage,
    classWeights: Storage | null,
    metrics: Storage | null,
    plan: LinearCrossEntropyPlan,
  ) {
    const { rows, classes } = plan.crossEntropy;
    return this.#timer.timed(`linearCrossEntropy ${rows}x${plan.features}x${classes}`, () => {
      const own = (s: Storage | null) => (s === null ? null : this.#own(s));
      return linearCrossEntropy(this.#kernels, this.#own(x), this.#own(weight), own(bias), this.#own(target), own(classWeights), own(metrics), plan);
    });
  }

  topK(z: Storage, indices: Storage, values: Storage, plan: TopKPlan): void {
    this.#timer.timed(`topK ${plan.rows}x${plan.cols} k=${plan.k}`, () =>
      topK(this.#floats(z), this.#view(indices, 'int32') as Int32Array, this.#floats(values), plan),
    );
  }

  activation(z: Storage, plan: ActivationPlan): Storage {
    return this.#timer.timed(`${plan.activation} ${plan.elements}`, () => {
      // Allocate first: growing the memory would detach views taken before.
      const out = this.#heap.storage(plan.elements);
      activation(this.#floats(z), this.#floats(out), plan);
      return out;
    });
  }

  activationBackward(z: Storage, grad: Storage, plan: ActivationPlan): Storage {
    return this.#timer.timed(`${plan.activation}Backward ${plan.elements}`, () => {
      const out = this.#heap.storage(plan.elements);
      activationBackward(this.#floats(z), this.#floats(grad), this.#floats(out), plan);
      return out;
    });
  }

  linearActivation(a: Storage, b: Storage, bias: Storage | null, plan: MatmulPlan, activation: Activation): { pre: Storage; out: Storage } {
    const pre = this.matmul(a, b, bias, plan);
    return { pre, out: this.activation(pre, { elements: plan.batch * plan.m * plan.n, activation }) };
  }

  linearActivationBackward(a: Storage, b: Storage, pre: Storage, plan: MatmulPlan, activation: Activation): Storage {
    const grad = this.matmul(a, b, null, plan);
    const out = this.activationBackward(pre, grad, { elements: plan.batch * plan.m * plan.n, activation });
    this.release(grad);
    return out;
  }

  sumRows(t: Storage, plan: RowsPlan): Storage {
    return this.#timer.timed(`sum ${plan.rows}x${plan.cols}`, () => {
      const out = this.#heap.storage(plan.cols);
      sumColumns(this.#kernels, this.#own(t).offset, out.offset, plan.rows, plan.cols);
      return out;
    });
  }

  gatherRows(t: Storage, indices: Storage | null, plan: GatherPlan): Storage {
    return this.#timer.timed(`gatherRows ${plan.rows}x${plan.cols}`, () => {
      const { rows, cols, start } = plan;
      const source = this.#own(t);
      const order = indices === null ? null : this.#own(indices);
      const out = this.#heap.storage(rows * cols);
      if (plan.widen) {
        // In increasing order: each row's last step may spill past its end (kernels/float16.ts).
        const i32 = this.#heap.i32();
        for (let r = 0; r < rows; r++) {
          const row = order === null ? start + r : i32[(order.offset >> 2) + start + r]!;
          this.#kernels.fns.widen_f16(source.offset + row * cols * 2, out.offset + r * cols * 4, cols);
        }
        return out;
      }
      // Bits move unchanged, so int32 and float32 rows copy alike through an Int32Array.
      const i32 = this.#heap.i32();
      const from = source.offset >> 2;
      const to = out.offset >> 2;
      for (let r = 0; r < rows; r++) {
        const row = order === null ? start + r : i32[(order.offset >> 2) + start + r]!;
        i32.copyWithin(to + r * cols, from + row * cols, from + (row + 1) * cols);
      }
      return out;
    });
  }

  sgdStep(param: Storage, grad: Storage, velocity: Storage | null, plan: SgdPlan, guard?: StepGuard | null): void {
    if (this.#skips(guard)) return;
    this.#timer.timed(`sgd ${plan.elements}`, () => {
      const [p, g, v] = [param, grad, velocity].map((s) => this.#offset(s)) as [number, number, number];
      const { learningRate, momentum, weightDecay, nesterov } = plan;
      elementwise(this.#kernels, `sgd ${plan.elements}`, plan.elements, (job, at, n) =>
        job.call('sgd', p + at, g + at, v && v + at, n, learningRate, momentum, weightDecay, nesterov ? 1 : 0),
      );
    });
  }

  adamStep(param: Storage, grad: Storage, m: Storage, v: Storage, plan: AdamPlan, guard?: StepGuard | null): void {
    if (this.#skips(guard)) return;
    this.#timer.timed(`adam ${plan.elements}`, () => {
      const [p, g, mo, vo] = [param, grad, m, v].map((s) => this.#own(s).offset) as [number, number, number, number];
      const { stepSize, beta1, beta2, epsilon, weightDecay, correction2Sqrt } = plan;
      elementwise(this.#kernels, `adam ${plan.elements}`, plan.elements, (job, at, n) =>
        job.call('adam', p + at, g + at, mo + at, vo + at, n, stepSize, beta1, beta2, epsilon, weightDecay, correction2Sqrt),
      );
    });
  }

  adamwStep(param: Storage, grad: Storage, m: Storage, v: Storage, plan: AdamWPlan, guard?: StepGuard | null): void {
    if (this.#skips(guard)) return;
    this.#timer.timed(`adamw ${plan.elements}`, () => {
      const [p, g, mo, vo] = [param, grad, m, v].map((s) => this.#own(s).offset) as [number, number, number, number];
      const { stepSize, beta1, beta2, epsilon, paramScale, correction2Sqrt } = plan;
      elementwise(this.#kernels, `adamw ${plan.elements}`, plan.elements, (job, at, n) =>
        job.call('adamw', p + at, g + at, mo + at, vo + at, n, stepSize, beta1, beta2, epsilon, paramScale, correction2Sqrt),
      );
    });
  }

  rmspropStep(param: Storage, grad: Storage, square: Storage, mean: Storage | null, buffer: Storage | null, plan: RmspropPlan, guard?: StepGuard | null): void {
    if (this.#skips(guard)) return;
    this.#timer.timed(`rmsprop ${plan.elements}`, () => {
      const [p, g, s, a, b] = [param, grad, square, mean, buffer].map((x) => this.#offset(x)) as [number, number, number, number, number];
      const { learningRate, alpha, epsilon, weightDecay, momentum } = plan;
      // A null buffer stays 0 (the kernel's "none") in every chunk.
      elementwise(this.#kernels, `rmsprop ${plan.elements}`, plan.elements, (job, at, n) =>
        job.call('rmsprop', p + at, g + at, s + at, a && a + at, b && b + at, n, learningRate, alpha, epsilon, weightDecay, momentum),
      );
    });
  }

  accumulateMetrics(z: Storage, target: Storage, loss: Storage, acc: Storage, plan: MetricsPlan): void {
    this.#timer.timed(`metrics ${plan.rows}x${plan.classes}`, () => {
      const targets = this.#view(target, plan.target === 'index' ? 'int32' : 'float32');
      accumulateMetrics(this.#floats(z), targets, this.#floats(loss)[0]!, this.#floats(acc), plan);
    });
  }

  checkFinite(values: readonly Storage[], guard: StepGuard): void {
    this.#timer.timed(`checkFinite ${values.length}`, () => checkFinite(values.map((s) => this.#floats(s)), this.#ints(guard.words), guard.step));
  }

  commitMetrics(stepAcc: Storage, acc: Storage, guard: StepGuard): void {
    this.#timer.timed('commitMetrics', () => commitMetrics(this.#floats(stepAcc), this.#floats(acc), this.#ints(guard.words), guard.step));
  }

  #skips(guard: StepGuard | null | undefined): boolean {
    return guard != null && guardSkips(this.#ints(guard.words), guard.step, guard.sticky);
  }

  #ints(storage: Storage): Int32Array {
    return this.#view(storage, 'int32') as Int32Array;
  }

  /** A view into the Wasm memory: valid until the next op allocates (which may grow the memory). */
  peek(storage: Storage): Float32Array | null {
    return this.#own(storage).elementBytes === 2 ? null : this.#floats(storage);
  }

  profile<T>(fn: () => T | Promise<T>): Promise<Profile<T>> {
    return this.#timer.profile(fn);
  }

  async flush(): Promise<void> {}

  /** The memory grown but not held by live tensors: freed blocks kept for reuse, and room never used. */
  pooledBytes(): number {
    return this.#heap.spareBytes;
  }

  /** The most bytes its tensors and scratch held at once (the memory itself never shrinks: see `pooledBytes`). */
  peakBytes(): number {
    return this.#heap.peakBytes;
  }

  resetPeakBytes(): void {
    this.#heap.resetPeak();
  }

  /** Threads that run the big ops, the calling one included. */
  get threads(): number {
    return this.#kernels.threads.count;
  }

  /** @internal The worker threads (for tests), or null on one thread. */
  get threadPool(): ThreadPool | null {
    return this.#kernels.threads.pool;
  }

  destroy(): void {
    dropped.unregister(this);
    this.#kernels.threads.pool?.destroy();
  }

  #own(storage: Storage): WasmStorage {
    if (storage instanceof WasmStorage && storage.heap === this.#heap) return storage;
    throw new TypeError('cpu backend: expected a storage made by this Wasm backend');
  }

  #view(storage: Storage, dtype: DType): Float32Array | Int32Array {
    const s = this.#own(storage);
    const all = dtype === 'int32' ? this.#heap.i32() : this.#heap.f32();
    return all.subarray(s.offset >> 2, (s.offset >> 2) + s.length);
  }

  #floats(storage: Storage): Float32Array {
    return this.#view(storage, 'float32') as Float32Array;
  }

  #offset(storage: Storage | null): number {
    return storage === null ? 0 : this.#own(storage).offset;
  }

  /** A row kernel into a fresh storage. */
  #rows(name: 'softmax' | 'log_softmax' | 'softmax_backward', inputs: readonly Storage[], plan: RowsPlan): WasmStorage {
    const out = this.#heap.storage(plan.rows * plan.cols);
    rowKernel(this.#kernels, name, inputs.map((s) => this.#own(s).offset), out.offset, plan.rows, plan.cols);
    return out;
  }
}
