import guardWgsl from '../../../shaders/guard.wgsl?raw';
import type { StepGuard } from '../../backend.js';
import { params, signature, type KernelHost } from '../kernel-host.js';
import type { GpuStorage } from '../storage.js';

const WG = 256;

/** The arrays one `check` dispatch reads: a step's loss and two layers' gradients (shaders/guard.wgsl). */
const PER_CHECK = 5;

/**
 * Marks `step` as bad in `words` where any of `values` is NaN or ±Infinity
 * (shaders/guard.wgsl, entry point check): one dispatch per five tensors, no readback.
 */
export function checkFinite(host: KernelHost, values: readonly GpuStorage[], words: GpuStorage, step: StepGuard): void {
  const spec = {
    shader: host.shader([{ name: 'guard.wgsl', code: guardWgsl }]),
    entryPoint: 'check',
    constants: { WG },
    bindings: signature(PER_CHECK, 1),
  };
  for (let first = 0; first < values.length; first += PER_CHECK) {
    const group = values.slice(first, first + PER_CHECK);
    const slots = Array.from({ length: PER_CHECK }, (_, k) => group[k]);
    const counts = slots.map((s) => s?.elements ?? 0);
    // The uniform struct: the five counts padded to two vec4s, then the step.
    const fields = [0, 1, 2, 3, 4, 5, 6, 7].map((k) => ['u32', counts[k] ?? 0] as const);
    host.dispatch(
      `checkFinite ${counts.join('+')}`,
      spec,
      [...slots.map((s) => s?.binding ?? host.unusedRead), words.binding],
      params(...fields, ['u32', step.step]),
      Math.ceil(counts.reduce((a, b) => a + b, 0) / WG),
    );
  }
}

/** Adds a step's metrics into the epoch's unless the step was bad, and zeroes them (entry point commit). */
export function commitMetrics(host: KernelHost, stepAcc: GpuStorage, acc: GpuStorage, words: GpuStorage, step: StepGuard): void {
  const spec = {
    shader: host.shader([{ name: 'guard.wgsl', code: guardWgsl }]),
    entryPoint: 'commit',
    constants: {},
    bindings: signature(1, 2),
  };
  host.dispatch(`commitMetrics`, spec, [words.binding, stepAcc.binding, acc.binding], params(['u32', step.step]), 1);
}
