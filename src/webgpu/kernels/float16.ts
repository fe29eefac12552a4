import gatherRowsF16Wgsl from '../../../shaders/gather_rows_f16.wgsl?raw';
import type { GatherPlan } from '../../backend.js';
import type { Bindable } from '../command-queue.js';
import { params, signature, type KernelHost } from '../kernel-host.js';
import type { GpuStorage } from '../storage.js';

const WG = 256;

/** Rows of a float16 storage, in order or by index, widened to a new float32 storage (shaders/gather_rows_f16.wgsl). */
export function widenRows(host: KernelHost, t: GpuStorage, indices: GpuStorage | null, plan: GatherPlan): GpuStorage {
  const out = host.output(plan.rows * plan.cols, 'batch (widened from float16)');
  widenRowsInto(host, t, indices, plan, out.binding);
  return out;
}

/**
 * `widenRows` into a buffer the caller owns: a chunk of float16 `x` for the fused linear
 * cross-entropy (./linear-cross-entropy.ts), widened as it is needed instead of all of `x` first.
 */
export function widenRowsInto(host: KernelHost, t: GpuStorage, indices: GpuStorage | null, plan: GatherPlan, out: Bindable): void {
  const elements = plan.rows * plan.cols;
  if (elements === 0) return;
  const spec = {
    shader: host.shader([{ name: 'gather_rows_f16.wgsl', code: gatherRowsF16Wgsl }]),
    entryPoint: 'main',
    constants: { WG, IN_ORDER: indices === null ? 1 : 0 },
    bindings: signature(2, 1),
  };
  host.dispatch(
    `gatherRows f16 ${plan.rows}x${plan.cols}`,
    spec,
    [t.binding, indices?.binding ?? host.unusedRead, out],
    params(['u32', plan.rows], ['u32', plan.cols], ['u32', plan.start]),
    Math.ceil(elements / WG),
  );
}
