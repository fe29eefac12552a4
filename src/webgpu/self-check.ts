import { DeviceError } from '../errors.js';
import { beyondLimits, type Candidate, type Probe, type Rejection } from './candidates.js';
import { BufferUsage, MAP_READ } from './flags.js';
import type { PipelineCache } from './pipeline-cache.js';

/** The self-check's tolerance: float32 kernels agree with the CPU far closer; a miscompiled one (a result off by 0.1 %) does not. */
const RTOL = 2e-4;
const ATOL = 1e-5;

/** What the self-check cost: one entry per pipeline probed on this context. */
export interface CheckCost {
  readonly name: string;
  readonly pipeline: string;
  /** Wall time of the probe: inputs made, the CPU's answer, one submit, the read back. */
  readonly ms: number;
}

type Verdict = { readonly ok: true; readonly pipeline: GPUComputePipeline } | { readonly ok: false; readonly rejection: Rejection };

/** A candidate chosen for a dispatch, with its compiled pipeline. */
export interface Chosen {
  readonly candidate: Candidate;
  readonly pipeline: GPUComputePipeline;
}

/**
 * Decides which candidate of a dispatch runs. A candidate beyond the device's limits is never
 * compiled; one whose pipeline fails to compile, or whose first run on a small probe differs
 * from the CPU backend's result, is never used on this context. Each verdict is reached once
 * per pipeline and remembered, with the reason, for `ctx.tuning()`.
 */
export class KernelChecks {
  readonly #device: GPUDevice;
  readonly #pipelines: PipelineCache;
  readonly #verdicts = new Map<string, Promise<Verdict>>();
  readonly #rejections = new Map<string, Rejection>();
  readonly #costs: CheckCost[] = [];

  constructor(device: GPUDevice, pipelines: PipelineCache) {
    this.#device = device;
    this.#pipelines = pipelines;
  }

  /** Every candidate refused so far, and why. */
  get rejections(): readonly Rejection[] {
    return [...this.#rejections.values()];
  }

  /** The probes run so far and what each cost. */
  get costs(): readonly CheckCost[] {
    return this.#costs;
  }

  /** Starts compiling the candidate likely to run, as soon as the op is recorded. */
  prefetch(candidates: readonly Candidate[]): void {
    const first = candidates.find((c) => beyondLimits(c.needs, this.#device.limits) === null && !this.#rejections.has(this.#pipelines.keyOf(c.spec)));
    if (first !== undefined) this.#pipelines.pipeline(first.spec).catch(() => {});
  }

  /** Whether `candidate` may run here: within the limits, compiled, and checked. */
  async usable(candidate: Candidate): Promise<Verdict> {
    const key = this.#pipelines.keyOf(candidate.spec);
    let verdict = this.#verdicts.get(key);
    if (verdict === undefined) {
      verdict = this.#judge(candidate, key).then((v) => {
        if (!v.ok) this.#rejections.set(key, v.rejection);
        return v;
      });
      this.#verdicts.set(key, verdict);
    }
    return verdict;
  }

  /** The first usable candidate; a clear error naming every refusal when none is. */
  async choose(label: string, candidates: readonly Candidate[]): Promise<Chosen> {
    const refused: Rejection[] = [];
    for (const candidate of candidates) {
      const verdict = await this.usable(candidate);
      if (verdict.ok) return { candidate, pipeline: verdict.pipeline };
      refused.push(verdict.rejection);
    }
    throw new DeviceError(
      `${label}: no kernel variant runs correctly on this device (${refused.map((r) => `${r.name}: ${r.reason}`).join('; ')}); ` +
        "createContext({ backend: 'cpu' }) runs everything on the CPU",
    );
  }

  async #judge(candidate: Candidate, key: string): Promise<Verdict> {
    const refuse = (stage: Rejection['stage'], reason: string): Verdict => ({ ok: false, rejection: { name: candidate.name, pipeline: key, stage, reason } });
    const beyond = beyondLimits(candidate.needs, this.#device.limits);
    if (beyond !== null) return refuse('limits', beyond);
    let pipeline: GPUComputePipeline;
    try {
      pipeline = await this.#pipelines.pipeline(candidate.spec);
    } catch (error) {
      return refuse('compile', (error as Error).message);
    }
    if (candidate.probe === undefined) return { ok: true, pipeline };
    const start = performance.now();
    const failure = await this.#probe(candidate, pipeline);
    this.#costs.push({ name: candidate.name, pipeline: key, ms: performance.now() - start });
    return failure === null ? { ok: true, pipeline } : refuse('self-check', failure);
  }

  /** Runs `candidate`'s probe; null when every written value matches the CPU's, else what differs. */
  async #probe(candidate: Candidate, pipeline: GPUComputePipeline): Promise<string | null> {
    const probe = candidate.probe!();
    return runProbe(this.#device, this.#pipelines.bindGroupLayout(candidate.spec.bindings), pipeline, probe, `self-check ${candidate.label}`);
  }
}

/** Dispatches `pipeline` once on `probe`'s data; null when its outputs match `probe.expected`. */
export async function runProbe(device: GPUDevice, layout: GPUBindGroupLayout, pipeline: GPUComputePipeline, probe: Probe, label: string): Promise<string | null> {
  const created: GPUBuffer[] = [];
  const make = (size: number, usage: number) => {
    const buffer = device.createBuffer({ label, size: Math.max(16, Math.ceil(size / 4) * 4), usage });
    created.push(buffer);
    return buffer;
  };
  device.pushErrorScope('validation');
  let failure: string | null = null;
  try {
    failure = await dispatchAndCompare(device, layout, pipeline, probe, label, make);
  } finally {
    const error = await device.popErrorScope();
    for (const b of created) b.destroy();
    if (error !== null) failure = `the probe raised a device error: ${error.message}`;
  }
  return failure;
}

async function dispatchAndCompare(
  device: GPUDevice,
  layout: GPUBindGroupLayout,
  pipeline: GPUComputePipeline,
  probe: Probe,
  label: string,
  make: (size: number, usage: number) => GPUBuffer,
): Promise<string | null> {
  const uniform = make(probe.uniforms.byteLength, BufferUsage.UNIFORM | BufferUsage.COPY_DST);
  device.queue.writeBuffer(uniform, 0, probe.uniforms);
  const buffers = probe.buffers.map((data) => {
    if (data === null) return uniform;
    const buffer = make(data.byteLength, BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST);
    if (data.length > 0) device.queue.writeBuffer(buffer, 0, data);
    return buffer;
  });
  const encoder = device.createCommandEncoder({ label });
  const pass = encoder.beginComputePass({ label });
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, device.createBindGroup({ label, layout, entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })) }));
  pass.dispatchWorkgroups(...probe.grid);
  pass.end();
  const staged = [...probe.expected].map(([binding, expected]) => {
    const staging = make(expected.byteLength, BufferUsage.MAP_READ | BufferUsage.COPY_DST);
    encoder.copyBufferToBuffer(buffers[binding]!, 0, staging, 0, staging.size);
    return { binding, expected, staging };
  });
  device.queue.submit([encoder.finish()]);
  await Promise.all(staged.map((s) => s.staging.mapAsync(MAP_READ)));
  for (const { binding, expected, staging } of staged) {
    const differs = difference(new Float32Array(staging.getMappedRange().slice(0, expected.byteLength)), expected);
    if (differs !== null) return `its result differs from the CPU backend's on a probe (binding ${binding}: ${differs})`;
  }
  return null;
}

/**
 * `|a - e| <= rtol |e| + min(atol, rtol * scale)` with `scale` the RMS of `expected`, the
 * tests' scaled tolerance (test/helpers/compare.ts); null when all are close.
 */
export function difference(actual: Float32Array, expected: Float32Array, rtol = RTOL, atol = ATOL): string | null {
  let sum = 0;
  let n = 0;
  for (const e of expected) {
    if (Number.isFinite(e)) {
      sum += e * e;
      n++;
    }
  }
  const scale = n === 0 || sum === 0 ? 1 : Math.sqrt(sum / n);
  const absolute = Math.min(atol, rtol * scale);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const ok = Number.isNaN(e) ? Number.isNaN(a) : !Number.isFinite(e) ? a === e : Math.abs(a - e) <= absolute + rtol * Math.abs(e);
    if (!ok) return `[${i}] is ${a}, the CPU gives ${e}`;
  }
  return null;
}
