import topKWgsl from '../../../shaders/top_k.wgsl?raw';
import type { TopKPlan } from '../../backend.js';
import { params, signature, type KernelHost } from '../kernel-host.js';
import type { GpuStorage } from '../storage.js';

const WG = 64;

/** The k most probable classes of each row and their probabilities (shaders/top_k.wgsl). */
export function topK(host: KernelHost, z: GpuStorage, indices: GpuStorage, values: GpuStorage, plan: TopKPlan): void {
  const spec = {
    shader: host.shader([{ name: 'top_k.wgsl', code: topKWgsl }]),
    entryPoint: 'main',
    constants: { WG, K: plan.k },
    bindings: signature(1, 2),
  };
  host.dispatch(
    `topK ${plan.rows}x${plan.cols} k=${plan.k}`,
    spec,
    [z.buffer, indices.buffer, values.buffer],
    params(['u32', plan.rows], ['u32', plan.cols], ['u32', plan.firstRow]),
    Math.ceil(plan.rows / WG),
  );
}
