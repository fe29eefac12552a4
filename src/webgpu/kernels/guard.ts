import guardWgsl from '../../../shaders/guard.wgsl?raw';
import type { StepGuard } from '../../backend.js';
import { params, signature, type KernelHost } from '../kernel-host.js';
import type { GpuStorage } from '../storage.js';

const WG = 256;

/** The values one `check` dispatch reads (shaders/guard.wgsl binds three). */
const PER_CHECK = 3;

/**
 * Marks `step` as bad in `words` where any of `values` is NaN or ±Infinity
 * (shaders/guard.wgsl, entry point check): one dispatch per three tensors, no readback.
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
    const counts = [0, 1, 2].map((k) => group[k]?.elements ?? 0) as [number, number, number];
    const total = counts[0] + counts[1] + counts[2];
    host.dispatch(
      `checkFinite ${counts.join('+')}`,
      spec,
      [...[0, 1, 2].map((k) => group[k]?.binding ?? host.unusedRead), words.binding],
      params(['u32', counts[0]], ['u32', counts[1]], ['u32', counts[2]], ['u32', step.step]),
      Math.ceil(total / WG),
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
