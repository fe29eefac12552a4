import type {
  AdamPlan,
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
  SgdPlan,
  Storage,
  TopKPlan,
} from '../backend.js';
import { DeviceError, DeviceLostError, WebGPUSoftmaxError } from '../errors.js';
import type { DType } from '../tensor.js';
import { BufferPool } from './buffer-pool.js';
import { BufferUsage, MAP_READ } from './flags.js';
import { CommandQueue } from './command-queue.js';
import type { AdapterReport, OpenedDevice } from './device.js';
import { KernelHost, type KernelVariants } from './kernel-host.js';
import { crossEntropy } from './kernels/cross-entropy.js';
import { linearCrossEntropy } from './kernels/linear-cross-entropy.js';
import { matmul } from './kernels/matmul.js';
import { softmax, softmaxBackward } from './kernels/softmax.js';
import { sumRows } from './kernels/sum.js';
import { topK } from './kernels/top-k.js';
import { accumulateMetrics, adamStep, gatherRows, sgdStep } from './kernels/train.js';
import { PipelineCache } from './pipeline-cache.js';
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
  readonly #device: GPUDevice;
  readonly #owned: boolean;
  readonly #pool: BufferPool;
  readonly #queue: CommandQueue;
  readonly #host: KernelHost;
  #loss: DeviceLoss | null = null;
  #destroyed = false;
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

  constructor({ device, adapter, owned }: OpenedDevice, variants: KernelVariants) {
    this.#device = device;
    this.#owned = owned;
    this.adapter = adapter;
    this.tensorByteLimit = { bytes: device.limits.maxStorageBufferBindingSize, name: 'maxStorageBufferBindingSize' };
    this.#pool = new BufferPool(device, Math.min(POOL_CAPACITY, device.limits.maxBufferSize));
    const pipelines = new PipelineCache(device);
    this.#queue = new CommandQueue(device, this.#pool, pipelines);
    this.#host = new KernelHost(device, this.#pool, this.#queue, variants, adapter.isSoftware);
    this.lost = device.lost.then((info) => {
      this.#loss = { reason: info.reason, message: info.message };
      return this.#loss;
    });
    if (owned) device.addEventListener('uncapturederror', this.#onUncaptured);
  }

  /** The device this backend runs on. */
  get device(): GPUDevice {
    return this.#device;
  }

  upload(data: Float32Array | Int32Array): Storage {
    this.#usable('tensor');
    const storage = this.#host.output(data.length, 'tensor');
    if (data.length > 0) this.#device.queue.writeBuffer(storage.buffer, 0, data);
    return storage;
  }

  async read(storage: Storage, dtype: DType): Promise<Float32Array | Int32Array> {
    this.#usable('read');
    const { buffer, elements } = gpu(storage);
    const bytes = elements * 4;
    if (bytes === 0) return dtype === 'int32' ? new Int32Array(0) : new Float32Array(0);
    const staging = this.#pool.create({ label: 'read staging', size: bytes, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
    try {
      this.#queue.copy(buffer, staging, bytes);
      await this.#queue.flush();
      this.#reportUncaptured('read');
      await Promise.race([staging.mapAsync(MAP_READ), this.lost.then(() => Promise.reject(new Error('device lost')))]);
      const data = staging.getMappedRange().slice(0);
      staging.unmap();
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

  release(storage: Storage): void {
    if (this.#loss !== null || this.#destroyed) return;
    this.#host.done(gpu(storage).buffer);
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
    return linearCrossEntropy(
      this.#host,
      gpu(x),
      gpu(weight),
      bias === null ? null : gpu(bias),
      gpu(target),
      classWeights === null ? null : gpu(classWeights),
      metrics === null ? null : gpu(metrics),
      plan,
    );
  }

  topK(z: Storage, indices: Storage, values: Storage, plan: TopKPlan): void {
    this.#usable('topK');
    topK(this.#host, gpu(z), gpu(indices), gpu(values), plan);
  }

  sumRows(t: Storage, plan: RowsPlan): Storage {
    this.#usable('sum');
    return sumRows(this.#host, gpu(t), plan);
  }

  gatherRows(t: Storage, indices: Storage | null, plan: GatherPlan): Storage {
    this.#usable('gatherRows');
    return gatherRows(this.#host, gpu(t), indices === null ? null : gpu(indices), plan);
  }

  sgdStep(param: Storage, grad: Storage, velocity: Storage | null, plan: SgdPlan): void {
    this.#usable('sgd');
    sgdStep(this.#host, gpu(param), gpu(grad), velocity === null ? null : gpu(velocity), plan);
  }

  adamStep(param: Storage, grad: Storage, m: Storage, v: Storage, plan: AdamPlan): void {
    this.#usable('adam');
    adamStep(this.#host, gpu(param), gpu(grad), gpu(m), gpu(v), plan);
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
    await this.#queue.flush();
    this.#reportUncaptured('flush');
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

function gpu(storage: Storage): GpuStorage {
  if (storage instanceof GpuStorage) return storage;
  throw new TypeError('webgpu backend: expected a storage made by the WebGPU backend');
}
