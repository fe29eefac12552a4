import { keysOf } from '../check-options.js';
import { LimitError } from '../errors.js';
import type { BufferPool } from './buffer-pool.js';
import type { Bindable, CommandQueue } from './command-queue.js';
import { BufferUsage } from './flags.js';
import type { Candidate } from './candidates.js';
import { TunedChoices } from './tuning.js';
import type { BindingKind, KernelSpec } from './pipeline-cache.js';
import { ComposedShader, type ShaderPart } from './shader.js';
import { GpuStorage } from './storage.js';

/**
 * Kernel variants, chosen from each op's shape unless forced here. Forcing exists so tests
 * run every variant on every machine, and benchmarks can compare them.
 */
export interface KernelVariants {
  /**
   * `'tiled'`: 64x64 tiles staged in workgroup memory, 4x4 per invocation. `'skinny'`: outputs
   * of at most 16 columns, K split across invocations. `'blocked'`: 4x4 per invocation straight
   * from global memory, no barriers (the choice on software adapters).
   */
  readonly matmul?: 'tiled' | 'skinny' | 'blocked';
  /** Use vec4 loads in the tiled matmul where the shape allows (default true). */
  readonly vec4?: boolean;
  /** Row-wise ops: `'thread'`, one invocation per row; `'workgroup'`, one workgroup per row. */
  readonly rows?: 'thread' | 'workgroup';
  /** Keep rows that fit in workgroup memory there between passes (default true). */
  readonly rowCache?: boolean;
  /** Reductions across a workgroup: with `subgroups` operations, or through workgroup memory. */
  readonly reduce?: 'subgroup' | 'workgroup';
}

export const KERNEL_VARIANT_KEYS = keysOf<KernelVariants>({ matmul: true, vec4: true, rows: true, rowCache: true, reduce: true });

const STORAGE_USAGE = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;

/** What every kernel file needs from the backend: buffers, dispatches, limits, variants. */
export class KernelHost {
  readonly device: GPUDevice;
  readonly variants: KernelVariants;
  readonly subgroups: boolean;
  /**
   * A CPU implementation of WebGPU (SwiftShader and the like): there, workgroup memory is
   * ordinary memory and a barrier switches between invocations, so kernels that avoid both win.
   */
  readonly software: boolean;
  readonly #pool: BufferPool;
  readonly #queue: CommandQueue;
  /** Tuned choices by shape class, put first by `candidates`. */
  readonly tuned = new TunedChoices();
  /** Told of each shape class dispatched (background tuning starts on a family's first use). */
  onClass: ((klass: string) => void) | null = null;
  readonly #shaders = new Map<string, ComposedShader>();
  /** Stand-in for read-only bindings a variant declares but does not use (none may be left out). */
  readonly unusedRead: GPUBuffer;
  /** Writable stand-ins, one per binding index: two writable bindings may not share a buffer. */
  readonly #unusedWrites: GPUBuffer[] = [];

  constructor(device: GPUDevice, pool: BufferPool, queue: CommandQueue, variants: KernelVariants, software: boolean) {
    this.device = device;
    this.software = software;
    this.#pool = pool;
    this.#queue = queue;
    this.variants = variants;
    this.subgroups = device.features.has('subgroups') && variants.reduce !== 'workgroup';
    this.unusedRead = pool.create({ label: 'unused read binding', size: 16, usage: BufferUsage.STORAGE });
  }

  /** A writable stand-in for the unused binding at `binding`. */
  unusedWrite(binding: number): GPUBuffer {
    this.#unusedWrites[binding] ??= this.#pool.create({
      label: `unused write binding ${binding}`,
      size: 16,
      usage: BufferUsage.STORAGE,
    });
    return this.#unusedWrites[binding];
  }

  destroy(): void {
    this.#pool.destroyBuffer(this.unusedRead);
    for (const b of this.#unusedWrites) if (b !== undefined) this.#pool.destroyBuffer(b);
  }

  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  /** A new tensor's storage of `elements` float32 or int32 values. */
  output(elements: number, label: string): GpuStorage {
    return new GpuStorage(this.#pool.acquire(elements * 4, STORAGE_USAGE, label), elements);
  }

  /** A buffer for one op's intermediate values; hand it back with `done` once recorded. */
  scratch(elements: number, label: string): GPUBuffer {
    return this.#pool.acquire(elements * 4, STORAGE_USAGE, label);
  }

  done(buffer: GPUBuffer): void {
    this.#pool.release(buffer, this.#queue.batchInUse);
  }

  /** Records a copy of `bytes` between buffers, in order with the dispatches around it. */
  copy(source: GPUBuffer, sourceOffset: number, target: GPUBuffer, targetOffset: number, bytes: number): void {
    this.#queue.copy(source, target, bytes, sourceOffset, targetOffset);
  }

  /** The module made of these parts, built once. */
  shader(parts: readonly ShaderPart[]): ComposedShader {
    const key = parts.map((p) => p.name).join('+');
    let shader = this.#shaders.get(key);
    if (shader === undefined) {
      shader = new ComposedShader(parts);
      this.#shaders.set(key, shader);
    }
    return shader;
  }

  /**
   * Records a dispatch of `workgroups` workgroups, folded into 2-D past the per-dimension limit:
   * a family with one kernel (the optimizers, gathers, activations, top-k), whose needs are within
   * every device's defaults and which has no probe.
   */
  dispatch(label: string, spec: KernelSpec, buffers: readonly Bindable[], uniforms: ArrayBuffer, workgroups: number, batch = 1): void {
    if (workgroups === 0 || batch === 0) return;
    const name = label.split(' ')[0]!;
    this.candidates(label, [{ name, label, spec, grid: this.grid(label, workgroups, batch), needs: { workgroupBytes: 0, invocations: 0 } }], buffers, uniforms);
  }

  /** Records a dispatch on an explicit 3-D grid (each dimension within the limit). */
  dispatchGrid(label: string, spec: KernelSpec, buffers: readonly Bindable[], uniforms: ArrayBuffer, grid: readonly [number, number, number]): void {
    if (grid.some((g) => g === 0)) return;
    const name = label.split(' ')[0]!;
    this.candidates(label, [{ name, label, spec, grid, needs: { workgroupBytes: 0, invocations: 0 } }], buffers, uniforms);
  }

  /**
   * Records a dispatch that runs the first of `candidates` (best first) that fits the device's
   * limits, compiles, and passes its self-check. They share bindings and uniforms.
   */
  candidates(label: string, candidates: readonly Candidate[], buffers: readonly Bindable[], uniforms: ArrayBuffer, klass: string | null = null): void {
    if (candidates.length === 0 || candidates.every((c) => c.grid.some((g) => g === 0))) return;
    const max = this.limits.maxComputeWorkgroupsPerDimension;
    for (const c of candidates) {
      if (c.grid.some((g) => g > max)) {
        throw new LimitError(`${c.label}: a grid of ${c.grid.join(' x ')} workgroups exceeds maxComputeWorkgroupsPerDimension (${max})`);
      }
    }
    const ordered = klass === null ? candidates : this.tuned.order(klass, candidates);
    if (ordered.length > 0) this.#queue.dispatch(label, ordered, buffers, uniforms);
    if (klass !== null) this.onClass?.(klass);
  }

  /** `workgroups` x `batch` laid out within the per-dimension limit (see `foldGrid`). */
  grid(label: string, workgroups: number, batch = 1): [number, number, number] {
    return workgroups === 0 || batch === 0 ? [0, 0, 0] : foldGrid(label, workgroups, batch, this.limits.maxComputeWorkgroupsPerDimension);
  }

}

/**
 * Lays `workgroups` out as x * y >= workgroups with x <= `max`, so a 1-D launch can exceed
 * `maxComputeWorkgroupsPerDimension`; kernels rebuild the index as `id.x + id.y * groups.x`
 * and skip the few past the end. `batch` goes in z.
 */
export function foldGrid(label: string, workgroups: number, batch: number, max: number): [number, number, number] {
  const x = Math.min(workgroups, max);
  const y = Math.ceil(workgroups / x);
  if (y > max || batch > max) {
    throw new LimitError(`${label}: needs ${workgroups} x ${batch} workgroups, beyond maxComputeWorkgroupsPerDimension (${max}) even folded`);
  }
  return [x, y, batch];
}

/** Packs a kernel's uniform struct: fields of 4 bytes each, in declaration order. */
export function params(...fields: readonly (readonly ['u32' | 'i32' | 'f32', number])[]): ArrayBuffer {
  const view = new DataView(new ArrayBuffer(Math.max(16, Math.ceil((fields.length * 4) / 16) * 16)));
  fields.forEach(([type, value], i) => {
    if (type === 'u32') view.setUint32(i * 4, value, true);
    else if (type === 'i32') view.setInt32(i * 4, value, true);
    else view.setFloat32(i * 4, value, true);
  });
  return view.buffer;
}

/** `bindings` of a kernel: `reads` read-only buffers, `writes` writable ones, then its uniforms. */
export function signature(reads: number, writes: number): readonly BindingKind[] {
  return [...Array<BindingKind>(reads).fill('read'), ...Array<BindingKind>(writes).fill('write'), 'uniform'];
}
