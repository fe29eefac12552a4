import softmaxWgsl from '../../../shaders/softmax.wgsl?raw';
import softmaxBackwardWgsl from '../../../shaders/softmax_backward.wgsl?raw';
import type { RowsPlan } from '../../backend.js';
import { params, signature, type KernelHost } from '../kernel-host.js';
import type { GpuStorage } from '../storage.js';
import { planRows, ROW_CACHE, rowLibrary } from './rows.js';

/** softmax or log-softmax of each row (shaders/softmax.wgsl). */
export function softmax(host: KernelHost, z: GpuStorage, plan: RowsPlan, log: boolean): GpuStorage {
  const out = host.output(plan.rows * plan.cols, log ? 'logSoftmax' : 'softmax');
  if (plan.rows * plan.cols === 0) return out;
  const launch = planRows(host, plan, true);
  const spec = {
    shader: host.shader([...rowLibrary(host), ROW_CACHE, { name: 'softmax.wgsl', code: softmaxWgsl }]),
    entryPoint: launch.entryPoint,
    constants: { WG: launch.wg, LOG: log ? 1 : 0, CACHE: launch.cache },
    bindings: signature(1, 1),
  };
  const label = `${log ? 'logSoftmax' : 'softmax'} ${launch.entryPoint} ${plan.rows}x${plan.cols}`;
  host.dispatch(label, spec, [z.binding, out.binding], params(['u32', plan.rows], ['u32', plan.cols]), launch.workgroups);
  return out;
}

/** p * (dp - sum(dp * p)) per row (shaders/softmax_backward.wgsl). */
export function softmaxBackward(host: KernelHost, p: GpuStorage, dp: GpuStorage, plan: RowsPlan): GpuStorage {
  const out = host.output(plan.rows * plan.cols, 'softmaxBackward');
  if (plan.rows * plan.cols === 0) return out;
  const launch = planRows(host, plan, false);
  const spec = {
    shader: host.shader([...rowLibrary(host), { name: 'softmax_backward.wgsl', code: softmaxBackwardWgsl }]),
    entryPoint: launch.entryPoint,
    constants: { WG: launch.wg },
    bindings: signature(2, 1),
  };
  const label = `softmaxBackward ${launch.entryPoint} ${plan.rows}x${plan.cols}`;
  host.dispatch(label, spec, [p.binding, dp.binding, out.binding], params(['u32', plan.rows], ['u32', plan.cols]), launch.workgroups);
  return out;
}
