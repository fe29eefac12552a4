import { DeviceError } from '../errors.js';
import type { KernelTiming } from '../backend.js';
import type { BufferPool } from './buffer-pool.js';
import { BufferUsage, MAP_READ } from './flags.js';
import type { Candidate } from './candidates.js';
import type { Chosen, KernelChecks } from './self-check.js';

/** A buffer a dispatch binds whole, or a range of one (an app's buffer, from an offset). */
export type Bindable = GPUBuffer | GPUBufferBinding;

interface Dispatch {
  readonly kind: 'dispatch';
  readonly label: string;
  /** Best first; the first usable one runs (KernelChecks.choose). */
  readonly candidates: readonly Candidate[];
  readonly buffers: readonly Bindable[];
  readonly uniforms: ArrayBuffer;
}

interface Copy {
  readonly kind: 'copy';
  readonly source: GPUBuffer;
  readonly sourceOffset: number;
  readonly target: GPUBuffer;
  readonly targetOffset: number;
  readonly bytes: number;
}

type Command = Dispatch | Copy;

/** Receives the GPU times of each profiled batch. */
export type Profiler = (timings: Promise<KernelTiming[]>) => void;


/** `minUniformBufferOffsetAlignment` is at most 256 on every device. */
const UNIFORM_STRIDE = 256;

/**
 * Records ops as they are called and encodes them later, all into one command encoder, one
 * submit per flush: a training step costs one submit. Encoding waits for the pipelines the
 * batch needs, which compile in the background from the moment an op is recorded. Every
 * dispatch's uniforms go into one buffer per batch, at 256-byte offsets.
 */
export class CommandQueue {
  readonly #device: GPUDevice;
  readonly #pool: BufferPool;
  readonly #checks: KernelChecks;
  readonly #layout: (bindings: Candidate['spec']['bindings']) => GPUBindGroupLayout;
  #recording: Command[] = [];
  /** Number of the batch being recorded; batches before it are submitted or being encoded. */
  #batch = 0;
  #inFlight = 0;
  #chain: Promise<void> = Promise.resolve();
  #profiler: Profiler | null = null;

  constructor(device: GPUDevice, pool: BufferPool, checks: KernelChecks, layout: (bindings: Candidate['spec']['bindings']) => GPUBindGroupLayout) {
    this.#device = device;
    this.#pool = pool;
    this.#checks = checks;
    this.#layout = layout;
  }

  /** The batch a buffer freed now must wait for, or null when nothing queued can use it. */
  get batchInUse(): number | null {
    return this.#recording.length === 0 && this.#inFlight === 0 ? null : this.#batch;
  }

  /** Records a dispatch of the first of `candidates` that compiles and passes its self-check. */
  dispatch(label: string, candidates: readonly Candidate[], buffers: readonly Bindable[], uniforms: ArrayBuffer): void {
    this.#checks.prefetch(candidates);
    this.#recording.push({ kind: 'dispatch', label, candidates, buffers, uniforms });
  }

  /**
   * Runs `fn` and returns the dispatches it recorded, with their candidates, instead of
   * queueing them: they never run. What was recorded before stays queued.
   */
  capture(fn: () => void): { readonly label: string; readonly candidates: readonly Candidate[] }[] {
    const saved = this.#recording;
    this.#recording = [];
    try {
      fn();
      return this.#recording.filter((c): c is Dispatch => c.kind === 'dispatch');
    } finally {
      this.#recording = saved;
    }
  }

  /** Copies `bytes` from `source` to `target`; offsets and size are multiples of 4. */
  copy(source: GPUBuffer, target: GPUBuffer, bytes: number, sourceOffset = 0, targetOffset = 0): void {
    if (bytes === 0) return;
    this.#recording.push({ kind: 'copy', source, sourceOffset, target, targetOffset, bytes });
  }

  /**
   * While set, each dispatch of a batch flushed gets its own pass with timestamps, and
   * `profiler` receives, per batch, a promise of the GPU time of each dispatch.
   */
  profile(profiler: Profiler | null): void {
    this.#profiler = profiler;
  }

  /** Submits everything recorded so far. Flushes run in order; one failing does not stop later ones. */
  flush(): Promise<void> {
    const commands = this.#recording;
    const batch = this.#batch;
    const profiler = this.#profiler;
    this.#recording = [];
    this.#batch++;
    this.#inFlight++;
    const done = this.#chain.then(() => this.#submit(commands, batch, profiler)).finally(() => {
      this.#inFlight--;
      this.#pool.submitted(batch);
    });
    this.#chain = done.catch(() => {});
    return done;
  }

  async #submit(commands: readonly Command[], batch: number, profiler: Profiler | null): Promise<void> {
    if (commands.length === 0) return;
    const dispatches = commands.filter((c): c is Dispatch => c.kind === 'dispatch');
    const chosen = await Promise.all(dispatches.map((d) => this.#checks.choose(d.label, d.candidates)));
    this.#device.pushErrorScope('out-of-memory');
    this.#device.pushErrorScope('validation');
    try {
      this.#encodeAndSubmit(commands, dispatches, chosen, batch, profiler);
    } finally {
      const errors = await Promise.all([this.#device.popErrorScope(), this.#device.popErrorScope()]);
      const error = errors.find((e) => e !== null);
      if (error) {
        throw new DeviceError(`the GPU reported an error in batch ${batch} (${dispatches.map((d) => d.label).join('; ')}): ${error.message}`);
      }
    }
  }

  #encodeAndSubmit(
    commands: readonly Command[],
    dispatches: readonly Dispatch[],
    chosen: readonly Chosen[],
    batch: number,
    profiler: Profiler | null,
  ): void {
    const uniforms = this.#uploadUniforms(dispatches, batch);
    const timestamps = profiler === null || dispatches.length === 0 ? null : this.#timestamps(dispatches.length, batch);
    const labels = chosen.map((c) => c.candidate.label);
    const encoder = this.#device.createCommandEncoder({ label: `webgpu-softmax batch ${batch}` });
    let pass: GPUComputePassEncoder | null = null;
    let d = 0;
    for (const command of commands) {
      if (command.kind === 'copy') {
        pass?.end();
        pass = null;
        encoder.copyBufferToBuffer(command.source, command.sourceOffset, command.target, command.targetOffset, command.bytes);
        continue;
      }
      const { candidate, pipeline } = chosen[d]!;
      if (pass === null || timestamps !== null) {
        pass?.end();
        pass = encoder.beginComputePass({
          label: candidate.label,
          ...(timestamps === null
            ? {}
            : { timestampWrites: { querySet: timestamps.querySet, beginningOfPassWriteIndex: 2 * d, endOfPassWriteIndex: 2 * d + 1 } }),
        });
      }
      const bindGroup = this.#device.createBindGroup({
        label: candidate.label,
        layout: this.#layout(candidate.spec.bindings),
        entries: candidate.spec.bindings.map((kind, binding) =>
          kind === 'uniform'
            ? { binding, resource: { buffer: uniforms!, offset: d * UNIFORM_STRIDE, size: UNIFORM_STRIDE } }
            : { binding, resource: bufferBinding(command.buffers[binding]!) },
        ),
      });
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(...candidate.grid);
      d++;
    }
    pass?.end();
    if (timestamps !== null) timestamps.resolve(encoder);
    this.#device.queue.submit([encoder.finish()]);
    if (uniforms !== null) this.#pool.release(uniforms, batch);
    if (timestamps !== null) profiler!(timestamps.read(labels));
  }

  #uploadUniforms(dispatches: readonly Dispatch[], batch: number): GPUBuffer | null {
    if (dispatches.length === 0) return null;
    const bytes = dispatches.length * UNIFORM_STRIDE;
    const data = new Uint8Array(bytes);
    dispatches.forEach((d, i) => data.set(new Uint8Array(d.uniforms), i * UNIFORM_STRIDE));
    const buffer = this.#pool.acquire(bytes, BufferUsage.UNIFORM | BufferUsage.COPY_DST, `uniforms of batch ${batch}`);
    this.#device.queue.writeBuffer(buffer, 0, data);
    return buffer;
  }

  #timestamps(count: number, batch: number) {
    const device = this.#device;
    const pool = this.#pool;
    const querySet = device.createQuerySet({ label: `timestamps of batch ${batch}`, type: 'timestamp', count: 2 * count });
    const bytes = 16 * count;
    const resolved = pool.create({ label: 'timestamps', size: bytes, usage: BufferUsage.QUERY_RESOLVE | BufferUsage.COPY_SRC });
    const staging = pool.create({ label: 'timestamps staging', size: bytes, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
    return {
      querySet,
      resolve(encoder: GPUCommandEncoder) {
        encoder.resolveQuerySet(querySet, 0, 2 * count, resolved, 0);
        encoder.copyBufferToBuffer(resolved, 0, staging, 0, bytes);
      },
      async read(labels: readonly string[]): Promise<KernelTiming[]> {
        try {
          await staging.mapAsync(MAP_READ);
          const ticks = new BigInt64Array(staging.getMappedRange().slice(0));
          return labels.map((label, i) => ({ label, ms: Number(ticks[2 * i + 1]! - ticks[2 * i]!) / 1e6 }));
        } finally {
          pool.destroyBuffer(staging);
          pool.destroyBuffer(resolved);
          querySet.destroy();
        }
      },
    };
  }
}

function bufferBinding(b: Bindable): GPUBufferBinding {
  return 'buffer' in b ? b : { buffer: b };
}
