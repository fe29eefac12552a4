import softmaxWgsl from '../../../shaders/softmax.wgsl?raw';
import softmaxBackwardWgsl from '../../../shaders/softmax_backward.wgsl?raw';
import type { RowsPlan } from '../../backend.js';
import { logSoftmax as cpuLogSoftmax, softmax as cpuSoftmax, softmaxBackward as cpuSoftmaxBackward } from '../../cpu/softmax.js';
import { seeded, type Candidate, type Probe } from '../candidates.js';
import { params, signature, type KernelHost } from '../kernel-host.js';
import type { KernelSpec } from '../pipeline-cache.js';
import type { GpuStorage } from '../storage.js';
import { rowClass } from '../tuning.js';
import { PROBE_ROWS, probeGrid, ROW_CACHE, rowVariants } from './rows.js';

/** softmax or log-softmax of each row (shaders/softmax.wgsl). */
export function softmax(host: KernelHost, z: GpuStorage, plan: RowsPlan, log: boolean): GpuStorage {
  const out = host.output(plan.rows * plan.cols, log ? 'logSoftmax' : 'softmax');
  if (plan.rows * plan.cols === 0) return out;
  const op = log ? 'logSoftmax' : 'softmax';
  const candidates = rowVariants(host, plan, true).map(({ name, launch, library, needs }): Candidate => {
    const spec: KernelSpec = {
      shader: host.shader([...library, ROW_CACHE, { name: 'softmax.wgsl', code: softmaxWgsl }]),
      entryPoint: launch.entryPoint,
      constants: { WG: launch.wg, LOG: log ? 1 : 0, CACHE: launch.cache },
      bindings: signature(1, 1),
    };
    const label = `${op} ${name === 'serial' ? 'serial' : launch.entryPoint} ${plan.rows}x${plan.cols}`;
    const probe = (): Probe => {
      const rows = { rows: PROBE_ROWS, cols: plan.cols };
      const z = seeded(PROBE_ROWS * plan.cols, 7).map((v) => v * 8);
      const expected = log ? cpuLogSoftmax(z, rows) : cpuSoftmax(z, rows);
      return { buffers: [z, new Float32Array(z.length), null], uniforms: params(['u32', PROBE_ROWS], ['u32', plan.cols]), grid: probeGrid(launch), expected: new Map([[1, expected]]) };
    };
    return { name: `${op}/${name}`, label, spec, grid: host.grid(label, launch.workgroups), needs, probe };
  });
  host.candidates(`${op} ${plan.rows}x${plan.cols}`, candidates, [z.binding, out.binding], params(['u32', plan.rows], ['u32', plan.cols]), rowClass(op, plan.cols));
  return out;
}

/** p * (dp - sum(dp * p)) per row (shaders/softmax_backward.wgsl). */
export function softmaxBackward(host: KernelHost, p: GpuStorage, dp: GpuStorage, plan: RowsPlan): GpuStorage {
  const out = host.output(plan.rows * plan.cols, 'softmaxBackward');
  if (plan.rows * plan.cols === 0) return out;
  const candidates = rowVariants(host, plan, false).map(({ name, launch, library, needs }): Candidate => {
    const spec: KernelSpec = {
      shader: host.shader([...library, { name: 'softmax_backward.wgsl', code: softmaxBackwardWgsl }]),
      entryPoint: launch.entryPoint,
      constants: { WG: launch.wg },
      bindings: signature(2, 1),
    };
    const label = `softmaxBackward ${name === 'serial' ? 'serial' : launch.entryPoint} ${plan.rows}x${plan.cols}`;
    const probe = (): Probe => {
      const rows = { rows: PROBE_ROWS, cols: plan.cols };
      const p = cpuSoftmax(seeded(PROBE_ROWS * plan.cols, 8), rows);
      const dp = seeded(PROBE_ROWS * plan.cols, 9);
      return {
        buffers: [p, dp, new Float32Array(p.length), null],
        uniforms: params(['u32', PROBE_ROWS], ['u32', plan.cols]),
        grid: probeGrid(launch),
        expected: new Map([[2, cpuSoftmaxBackward(p, dp, rows)]]),
      };
    };
    return { name: `softmaxBackward/${name}`, label, spec, grid: host.grid(label, launch.workgroups), needs, probe };
  });
  host.candidates(`softmaxBackward ${plan.rows}x${plan.cols}`, candidates, [p.binding, dp.binding, out.binding], params(['u32', plan.rows], ['u32', plan.cols]), rowClass('softmaxBackward', plan.cols));
  return out;
}
