import type {
  Activation,
  ActivationPlan,
  AdamPlan,
  AdamWPlan,
  Backend,
  CrossEntropyPlan,
  DeviceLoss,
  GatherPlan,
  KernelTiming,
  LinearCrossEntropyPlan,
  MatmulPlan,
  MetricsPlan,
  RowsPlan,
  Profile,
  RmspropPlan,
  SgdPlan,
  StepGuard,
  Storage,
  GpuBufferAccess,
  TopKPlan,
} from '../backend.js';
import { ContextMismatchError, DeviceError, DeviceLostError, WebGPUSoftmaxError } from '../errors.js';
import type { DType } from '../dtype.js';
import { BufferPool } from './buffer-pool.js';
import { BufferUsage, MAP_READ } from './flags.js';
import { CommandQueue } from './command-queue.js';
import type { AdapterReport, OpenedDevice } from './device.js';
import { KernelHost, type KernelVariants } from './kernel-host.js';
import { crossEntropy } from './kernels/cross-entropy.js';
import { linearCrossEntropy } from './kernels/linear-cross-entropy.js';
import { matmul, matmulActivation } from './kernels/matmul.js';
import { softmax, softmaxBackward } from './kernels/softmax.js';
import { activation } from './kernels/activation.js';
import { sumRows } from './kernels/sum.js';
import { topK } from './kernels/top-k.js';
import { accumulateMetrics, adamStep, adamwStep, gatherRows, rmspropStep, sgdStep } from './kernels/train.js';
import { checkFinite, commitMetrics } from './kernels/guard.js';
import { PipelineCache } from './pipeline-cache.js';
import { KernelChecks } from './self-check.js';
import { TUNING_TABLE_VERSION, tunedAdapter, type TuningTable } from '../tuning-table.js';
import { LIBRARY_VERSION } from '../version.js';
import type { TunableOp } from '../tuning-table.js';
import { tune, type TunerAccess } from './tuner.js';
import { setUpTuning, type TuningSetup } from './auto-tune.js';
import { GpuStorage } from './storage.js';

/** Freed buffers kept for reuse, at most this share of the device's largest buffer or 256 MiB. */
const POOL_CAPACITY = 256 * 2 ** 20;

/**
 * The WebGPU backend: ops are recorded as they are called and run when a result is read or
 * the context is flushed, one submit for everything recorded since the last one.
 */
export class WebGPUBackend implements Backend {
  readonly kind = 'webgpu';
  readonly adapter: AdapterReport;
  readonly tensorByteLimit: { readonly bytes: number; readonly name: string };
  readonly lost: Promise<DeviceLoss>;
  /** The rejections of the mappings under way, called if the device is lost. */
  readonly #mapping = new Set<(cause: Error) => void>();
  readonly gpuBuffers: GpuBufferAccess;
  readonly #device: GPUDevice;
  /** Held only to keep it alive as long as the device (see `OpenedDevice.gpu`). */
  readonly #gpu: GPU | null;
  readonly #owned: boolean;
  readonly #pool: BufferPool;
  readonly #queue: CommandQueue;
  readonly #pipelines: PipelineCache;
  readonly #host: KernelHost;
  /** Which kernel variants this device refused or got wrong, and what checking them cost. */
  readonly checks: KernelChecks;
  #loss: DeviceLoss | null = null;
  #destroyed = false;
  /** Device-side checks of borrowed buffers not yet reported: each resolves to an error message or null. */
  #borrowChecks: Promise<string | null>[] = [];
  #profiling = false;
  /**
   * Errors the device raised outside the error scopes around each submit (a failed buffer
   * allocation, say), reported by the next flush or read. Listened for only on a device the
   * library made: on the app's own device they may be the app's.
   */
  readonly #uncaptured: string[] = [];
  readonly #onUncaptured = (event: Event): void => {
    if (this.#uncaptured.length < 8) this.#uncaptured.push((event as GPUUncapturedErrorEvent).error.message);
  };

  constructor(opened: OpenedDevice, variants: KernelVariants, tuning: TuningSetup = { tune: 'off', table: undefined }) {
    const { device, adapter, owned } = opened;
    this.#device = device;
    this.#gpu = opened.gpu;
    this.gpuBuffers = {
      device,
      borrow: (buffer, offset, elements, dtype) => this.#borrow(buffer, offset, elements, dtype === 'float16' ? 2 : 4),
      bufferOf: async (storage) => {
        await this.flush();
        return gpu(storage).buffer;
      },
    };
    this.#owned = owned;
    this.adapter = adapter;
    this.tensorByteLimit = { bytes: device.limits.maxStorageBufferBindingSize, name: 'maxStorageBufferBindingSize' };
    this.#pool = new BufferPool(device, Math.min(POOL_CAPACITY, device.limits.maxBufferSize));
    this.#pipelines = new PipelineCache(device);
    this.checks = new KernelChecks(device, this.#pipelines);
    this.#queue = new CommandQueue(device, this.#pool, this.checks, (bindings) => this.#pipelines.bindGroupLayout(bindings));
    this.#host = new KernelHost(device, this.#pool, this.#queue, variants, adapter.isSoftware);
    this.tuningNote = setUpTuning(this.#tunerAccess(), tuning);
    this.lost = device.lost.then((info) => {
      this.#loss = { reason: info.reason, message: info.message };
      for (const reject of this.#mapping) reject(new Error('device lost'));
      return this.#loss;
    });
    if (owned) device.addEventListener('uncapturederror', this.#onUncaptured);
  }

  /**
   * Records `fn`'s ops without running them, then compiles and self-checks the pipelines they
   * would use, all at once, so their first real use does not wait for a compiler.
   */
  async prepare(fn: () => void): Promise<void> {
    this.#usable('ready');
    const dispatches = this.#queue.capture(fn);
    await Promise.all(dispatches.map((d) => this.checks.choose(d.label, d.candidates)));
  }

  /** Why a tuning table passed to createContext was ignored; null when none was, or it applied. */
  readonly tuningNote: string | null;

  async tune(budgetMs: number, ops: readonly TunableOp[]): Promise<void> {
    this.#usable('tune');
    await tune(this.#tunerAccess(), budgetMs, ops);
  }

  #tunerAccess(): TunerAccess {
    return {
      backend: this,
      host: this.#host,
      checks: this.checks,
      device: this.#device,
      gpuTime: this.#device.features.has('timestamp-query')
        ? async (record) => (await this.profile(record)).totalMs
        : null,
    };
  }

  /** The kernel choices, refusals and self-check costs on this device. */
  tuning(): TuningTable {
    const costs = this.checks.costs;
    return {
      version: TUNING_TABLE_VERSION,
      library: LIBRARY_VERSION,
      adapter: tunedAdapter(this.adapter),
      choices: this.#host.tuned.entries,
      rejected: this.checks.rejections.map((r) => ({ ...r })),
      selfCheck: { pipelines: costs.length, totalMs: costs.reduce((s, c) => s + c.ms, 0), maxMs: costs.reduce((m, c) => Math.max(m, c.ms), 0) },
    };
  }

  /** The device this backend runs on. */
  get device(): GPUDevice {
    return this.#device;
  }


  upload(data: Float32Array | Int32Array | Uint16Array): Storage {
    this.#usable('tensor');
    if (data instanceof Uint16Array) {
      // Two halves to a word; writeBuffer takes whole words, so an odd count is padded.
      const words = Math.ceil(data.length / 2);
      const storage = new GpuStorage(this.#host.scratch(words, 'tensor (float16)'), data.length, 0, false, 2);
      let padded = data;
      if (data.length % 2 === 1) {
        padded = new Uint16Array(words * 2);
        padded.set(data);
      }
      if (words > 0) this.#device.queue.writeBuffer(storage.buffer, 0, padded);
      return storage;
    }
    const storage = this.#host.output(data.length, 'tensor');
    if (data.length > 0) this.#device.queue.writeBuffer(storage.buffer, 0, data);
    return storage;
  }

  async read(storage: Storage, dtype: DType): Promise<Float32Array | Int32Array | Uint16Array> {
    this.#usable('read');
    const source = gpu(storage);
    if (source.borrowed && (source.buffer.usage & BufferUsage.COPY_SRC) === 0) {
      // Copying needs COPY_SRC, which an app's buffer may lack; binding it as storage does not.
      const copy = this.#copyOf(source);
      try {
        return await this.read(copy, dtype);
      } finally {
        this.release(copy);
      }
    }
    const { buffer, elements, offset } = source;
    const bytes = source.dataBytes;
    if (bytes === 0) return dtype === 'int32' ? new Int32Array(0) : dtype === 'float16' ? new Uint16Array(0) : new Float32Array(0);
    const staging = this.#pool.create({ label: 'read staging', size: bytes, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
    try {
      this.#queue.copy(buffer, staging, bytes, offset);
      await this.#submit('read');
      await this.#untilLost(staging.mapAsync(MAP_READ));
      const data = staging.getMappedRange().slice(0);
      staging.unmap();
      if (dtype === 'float16') return new Uint16Array(data, 0, elements);
      return dtype === 'int32' ? new Int32Array(data) : new Float32Array(data);
    } catch (cause) {
      // A lost device rejects the mapping before `lost` resolves; give it a turn to resolve.
      await Promise.race([this.lost, new Promise((resolve) => setTimeout(resolve, 0))]);
      if (this.#loss !== null) throw this.#lostError('read', cause);
      throw cause;
    } finally {
      this.#pool.destroyBuffer(staging);
    }
  }

  /**
   * `work`, or a rejection as soon as the device is lost. Not a `Promise.race` with `lost`: a
   * race leaves a reaction on that promise, which never settles on a healthy device, so every
   * read would leak one (the soak test found them: a few hundred bytes a read).
   */
  #untilLost<T>(work: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#mapping.add(reject);
      work.then(resolve, reject).finally(() => this.#mapping.delete(reject));
    });
  }

  release(storage: Storage): void {
    const { buffer, borrowed } = gpu(storage);
    if (this.#loss !== null || this.#destroyed || borrowed) return;
    this.#host.done(buffer);
  }

  matmul(a: Storage, b: Storage, bias: Storage | null, plan: MatmulPlan): Storage {
    this.#usable('matmul');
    return matmul(this.#host, gpu(a), gpu(b), bias === null ? null : gpu(bias), plan);
  }

  softmax(z: Storage, plan: RowsPlan): Storage {
    this.#usable('softmax');
    return softmax(this.#host, gpu(z), plan, false);
  }

  logSoftmax(z: Storage, plan: RowsPlan): Storage {
    this.#usable('logSoftmax');
    return softmax(this.#host, gpu(z), plan, true);
  }

  softmaxBackward(p: Storage, dp: Storage, plan: RowsPlan): Storage {
    this.#usable('softmaxBackward');
    return softmaxBackward(this.#host, gpu(p), gpu(dp), plan);
  }

  crossEntropy(z: Storage, target: Storage, classWeights: Storage | null, plan: CrossEntropyPlan) {
    this.#usable('crossEntropy');
    return crossEntropy(this.#host, gpu(z), gpu(target), classWeights === null ? null : gpu(classWeights), plan);
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
    this.#usable('linearCrossEntropy');
    const copies: GpuStorage[] = [];
    const whole = (s: Storage) => this.#whole(gpu(s), copies);
    try {
      return linearCrossEntropy(
        this.#host,
        // float16 x is only ever read through the widening gather, which binds from the offset.
        plan.float16X ? gpu(x) : whole(x),
        whole(weight),
        bias === null ? null : whole(bias),
        whole(target),
        classWeights === null ? null : whole(classWeights),
        metrics === null ? null : gpu(metrics),
        plan,
      );
    } finally {
      for (const c of copies) this.release(c);
    }
  }

  topK(z: Storage, indices: Storage, values: Storage, plan: TopKPlan): void {
    this.#usable('topK');
    const copies: GpuStorage[] = [];
    topK(this.#host, this.#whole(gpu(z), copies), gpu(indices), gpu(values), plan);
    for (const c of copies) this.release(c);
  }

  activation(z: Storage, plan: ActivationPlan): Storage {
    this.#usable(plan.activation);
    return activation(this.#host, gpu(z), null, plan);
  }

  activationBackward(z: Storage, grad: Storage, plan: ActivationPlan): Storage {
    this.#usable(`${plan.activation}Backward`);
    return activation(this.#host, gpu(z), gpu(grad), plan);
  }

  linearActivation(a: Storage, b: Storage, bias: Storage | null, plan: MatmulPlan, activation: Activation): { pre: Storage; out: Storage } {
    this.#usable(`matmul ${activation}`);
    const { pre, out } = matmulActivation(this.#host, gpu(a), gpu(b), bias === null ? null : gpu(bias), null, plan, activation);
    return { pre: pre!, out };
  }

  linearActivationBackward(a: Storage, b: Storage, pre: Storage, plan: MatmulPlan, activation: Activation): Storage {
    this.#usable(`matmul ${activation}'`);
    return matmulActivation(this.#host, gpu(a), gpu(b), null, gpu(pre), plan, activation).out;
  }

  sumRows(t: Storage, plan: RowsPlan): Storage {
    this.#usable('sum');
    return sumRows(this.#host, gpu(t), plan);
  }

  gatherRows(t: Storage, indices: Storage | null, plan: GatherPlan): Storage {
    this.#usable('gatherRows');
    return gatherRows(this.#host, gpu(t), indices === null ? null : gpu(indices), plan);
  }

  sgdStep(param: Storage, grad: Storage, velocity: Storage | null, plan: SgdPlan, guard?: StepGuard | null): void {
    this.#usable('sgd');
    sgdStep(this.#host, gpu(param), gpu(grad), velocity === null ? null : gpu(velocity), plan, guardWords(guard), guard);
  }

  adamStep(param: Storage, grad: Storage, m: Storage, v: Storage, plan: AdamPlan, guard?: StepGuard | null): void {
    this.#usable('adam');
    adamStep(this.#host, gpu(param), gpu(grad), gpu(m), gpu(v), plan, guardWords(guard), guard);
  }

  adamwStep(param: Storage, grad: Storage, m: Storage, v: Storage, plan: AdamWPlan, guard?: StepGuard | null): void {
    this.#usable('adamw');
    adamwStep(this.#host, gpu(param), gpu(grad), gpu(m), gpu(v), plan, guardWords(guard), guard);
  }

  rmspropStep(param: Storage, grad: Storage, square: Storage, mean: Storage | null, buffer: Storage | null, plan: RmspropPlan, guard?: StepGuard | null): void {
    this.#usable('rmsprop');
    const maybe = (s: Storage | null) => (s === null ? null : gpu(s));
    rmspropStep(this.#host, gpu(param), gpu(grad), gpu(square), maybe(mean), maybe(buffer), plan, guardWords(guard), guard);
  }

  checkFinite(values: readonly Storage[], guard: StepGuard): void {
    this.#usable('checkFinite');
    checkFinite(this.#host, values.map(gpu), gpu(guard.words), guard);
  }

  commitMetrics(stepAcc: Storage, acc: Storage, guard: StepGuard): void {
    this.#usable('commitMetrics');
    commitMetrics(this.#host, gpu(stepAcc), gpu(acc), gpu(guard.words), guard);
  }

  accumulateMetrics(z: Storage, target: Storage, loss: Storage, acc: Storage, plan: MetricsPlan): void {
    this.#usable('metrics');
    accumulateMetrics(this.#host, gpu(z), gpu(target), gpu(loss), gpu(acc), plan);
  }

  peek(): null {
    return null;
  }

  async profile<T>(fn: () => T | Promise<T>): Promise<Profile<T>> {
    this.#usable('profile');
    if (this.#profiling) throw new WebGPUSoftmaxError('profile: a profile is already running on this context');
    this.#profiling = true;
    try {
      if (!this.#device.features.has('timestamp-query')) {
        const result = await fn();
        await this.#queue.flush();
        return { result, kernels: [], totalMs: NaN, source: 'unavailable' };
      }
      // Work queued before the profile is not the profile's.
      await this.#queue.flush();
      const batches: Promise<KernelTiming[]>[] = [];
      this.#queue.profile((timings) => batches.push(timings));
      const result = await fn();
      await this.#queue.flush();
      this.#queue.profile(null);
      const kernels = (await Promise.all(batches)).flat();
      return { result, kernels, totalMs: kernels.reduce((s, k) => s + k.ms, 0), source: 'timestamp-query' };
    } finally {
      this.#queue.profile(null);
      this.#profiling = false;
    }
  }

  async flush(): Promise<void> {
    this.#usable('flush');
    await this.#submit('flush');
  }

  pooledBytes(): number {
    return this.#pool.pooledBytes;
  }

  peakBytes(): number {
    return this.#pool.peakBytes;
  }

  resetPeakBytes(): void {
    this.#pool.resetPeak();
  }

  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#pool.destroy();
    this.#host.destroy();
    if (this.#owned) {
      this.#device.removeEventListener('uncapturederror', this.#onUncaptured);
      this.#device.destroy();
    }
  }

  /**
   * Wraps an app's buffer. Nothing tells synchronously which device a buffer belongs to, so
   * it is bound once inside an error scope, and a failure is reported by the next flush or read,
   * before that batch's results can be used.
   */
  #borrow(buffer: GPUBuffer, offset: number, elements: number, elementBytes: 2 | 4): GpuStorage {
    this.#usable('tensorFromGPUBuffer');
    if (elements === 0) return new GpuStorage(this.#host.scratch(0, 'empty tensor'), 0, 0, false, elementBytes);
    const name = buffer.label === '' ? 'the buffer' : `buffer '${buffer.label}'`;
    this.#device.pushErrorScope('validation');
    this.#device.createBindGroup({
      label: `tensorFromGPUBuffer check of ${name}`,
      layout: this.#pipelines.bindGroupLayout(['read']),
      entries: [{ binding: 0, resource: { buffer, offset, size: Math.ceil((elements * elementBytes) / 4) * 4 } }],
    });
    this.#borrowChecks.push(
      this.#device.popErrorScope().then((error) =>
        error === null
          ? null
          : `tensorFromGPUBuffer: ${name} cannot be used on this context's device (was it made by another GPUDevice, or destroyed?): ${error.message}`,
      ),
    );
    return new GpuStorage(buffer, elements, offset, true, elementBytes);
  }

  /** A copy of `storage`'s bits in a buffer of ours (float16 ones word by word). */
  #copyOf(storage: GpuStorage): GpuStorage {
    if (storage.elementBytes === 4) return gatherRows(this.#host, storage, null, { rows: 1, cols: storage.elements, start: 0, widen: false });
    const words = gatherRows(this.#host, storage, null, { rows: 1, cols: storage.dataBytes / 4, start: 0, widen: false });
    return new GpuStorage(words.buffer, storage.elements, 0, false, 2);
  }

  /**
   * `storage`, or for a borrowed one a copy in a buffer of ours (pushed on `copies`, for the
   * caller to release once the op is recorded): the kernels that copy slices of their inputs
   * address whole buffers from 0, and copying needs COPY_SRC, which the app's buffer may lack.
   */
  #whole(storage: GpuStorage, copies: GpuStorage[]): GpuStorage {
    if (!storage.borrowed) return storage;
    const copy = this.#copyOf(storage);
    copies.push(copy);
    return copy;
  }

  /** Submits what is queued, then reports what went wrong outside the batch's own error scopes. */
  async #submit(where: string): Promise<void> {
    // Without pending checks, flush at once: a read's copy then goes in its own submit, not a later one.
    const checks = this.#borrowChecks.splice(0);
    const failures = checks.length === 0 ? [] : (await Promise.all(checks)).filter((m) => m !== null);
    if (failures.length > 0) {
      // The batch fails too, for the same reason, less clearly: report the cause.
      await this.#queue.flush().catch(() => {});
      throw new ContextMismatchError(failures.join('; '));
    }
    await this.#queue.flush();
    this.#reportUncaptured(where);
  }

  #reportUncaptured(where: string): void {
    if (this.#uncaptured.length === 0) return;
    const messages = this.#uncaptured.splice(0);
    throw new DeviceError(`${where}: the GPU reported ${messages.length === 1 ? 'an error' : 'errors'}: ${messages.join('; ')}`);
  }

  #usable(where: string): void {
    if (this.#loss !== null) throw this.#lostError(where);
  }

  #lostError(where: string, cause?: unknown): DeviceLostError {
    const loss = this.#loss!;
    return new DeviceLostError(
      `${where}: the WebGPU device was lost (${loss.reason}${loss.message ? `: ${loss.message}` : ''}); the data on it is gone`,
      { cause },
    );
  }
}

/** The guard's words on the device, where a step has a guard. */
function guardWords(guard: StepGuard | null | undefined): GpuStorage | null {
  return guard == null ? null : gpu(guard.words);
}

function gpu(storage: Storage): GpuStorage {
  if (storage instanceof GpuStorage) return storage;
  throw new TypeError('webgpu backend: expected a storage made by the WebGPU backend');
}
