import crossEntropyWgsl from '../../../shaders/cross_entropy.wgsl?raw';
import type { BackendCrossEntropyResult, CrossEntropyPlan, RowsPlan } from '../../backend.js';
import { crossEntropy as cpuCrossEntropy } from '../../cpu/cross-entropy.js';
import { softmax as cpuSoftmax } from '../../cpu/softmax.js';
import { seeded, type Candidate, type Probe } from '../candidates.js';
import type { KernelSpec } from '../pipeline-cache.js';
import type { ShaderPart } from '../shader.js';
import { params, signature, type KernelHost } from '../kernel-host.js';
import type { GpuStorage } from '../storage.js';
import { rowClass } from '../tuning.js';
import { PROBE_ROWS, probeGrid, ROW_CACHE, rowVariants, singleVariants, type RowLaunch } from './rows.js';

/** Bits of `Params.flags` in shaders/cross_entropy.wgsl. */
const WEIGHTED = 1;
const WITH_GRAD = 2;
const MEAN = 4;

/** The single-workgroup passes (the mean's denominator, the final sum) use this many invocations. */
const REDUCE_WG = 256;

/**
 * Cross-entropy and its gradient (shaders/cross_entropy.wgsl): for 'mean' a pass that puts
 * the denominator on the device, then the fused row pass, then, for 'mean' and 'sum', a pass
 * that adds the row losses. Nothing is read back.
 */
export function crossEntropy(
  host: KernelHost,
  z: GpuStorage,
  target: GpuStorage,
  weights: GpuStorage | null,
  plan: CrossEntropyPlan,
): BackendCrossEntropyResult {
  const { rows, classes, reduction } = plan;
  const mean = reduction === 'mean';
  const grad = plan.withGrad ? host.output(rows * classes, 'crossEntropy grad') : null;
  const perRow = reduction === 'none' ? host.output(rows, 'crossEntropy loss') : null;
  const rowLoss = perRow?.buffer ?? host.scratch(rows, 'crossEntropy row losses');
  const total = perRow === null ? host.output(1, 'crossEntropy loss') : null;
  const norm = mean ? host.scratch(2, 'crossEntropy mean denominator') : null;

  const flags = (weights === null ? 0 : WEIGHTED) | (plan.withGrad ? WITH_GRAD : 0) | (mean ? MEAN : 0);
  const buffers = [
    z.binding,
    target.binding,
    weights?.binding ?? host.unusedRead,
    norm ?? host.unusedWrite(3),
    rowLoss,
    grad?.binding ?? host.unusedWrite(5),
    total?.binding ?? host.unusedWrite(6),
  ];
  const uniforms = params(
    ['u32', rows],
    ['u32', classes],
    ['i32', plan.ignoreIndex],
    ['f32', plan.labelSmoothing],
    ['u32', flags],
  );
  const shape = `${rows}x${classes} ${plan.target} ${reduction}`;
  const kernels = crossEntropyKernels(host, 'crossEntropy', plan.target, shape);
  if (mean) host.candidates(`crossEntropy mean_denominator ${shape}`, kernels.single('mean_denominator'), buffers, uniforms);
  host.candidates(`crossEntropy rows ${shape}`, kernels.rows({ rows, cols: classes }), buffers, uniforms, rowClass('crossEntropy', classes));
  if (total !== null) host.candidates(`crossEntropy finalize ${shape}`, kernels.single('finalize'), buffers, uniforms);

  if (norm !== null) host.done(norm);
  if (perRow === null) host.done(rowLoss);
  return { loss: perRow ?? total!, grad };
}

/**
 * The candidates of shaders/cross_entropy.wgsl's passes, for crossEntropy and the fused
 * linear + cross-entropy (`op` names them): the row pass over `plan` (a row per invocation or
 * per workgroup, probed against the CPU backend) and the single-workgroup passes.
 */
export function crossEntropyKernels(host: KernelHost, op: string, target: 'index' | 'probs', shape: string) {
  const constants = { PROBS: target === 'probs' ? 1 : 0 };
  const bindings = signature(3, 4);
  const module = (library: readonly ShaderPart[]) => host.shader([...library, ROW_CACHE, { name: 'cross_entropy.wgsl', code: crossEntropyWgsl }]);
  return {
    /** The row pass planned for `plan`, dispatched over its first `rows` rows (a chunk of them). */
    rows(plan: RowsPlan, rows = plan.rows): Candidate[] {
      return rowVariants(host, plan, true).map(({ name, launch, library, needs }) => {
        const spec: KernelSpec = { shader: module(library), entryPoint: launch.entryPoint, constants: { ...constants, WG: launch.wg, CACHE: launch.cache }, bindings };
        const label = `${op} ${name === 'serial' ? 'serial' : launch.entryPoint} ${rows}x${plan.cols} ${shape.split(' ').slice(1).join(' ')}`;
        const workgroups = launch.entryPoint === 'rows_per_thread' ? Math.ceil(rows / launch.wg) : rows;
        return { name: `crossEntropy/${name}`, label, spec, grid: host.grid(label, workgroups), needs, probe: () => rowProbe(target, plan.cols, launch) };
      });
    },
    single(entryPoint: 'mean_denominator' | 'finalize'): Candidate[] {
      return singleVariants(host, REDUCE_WG).map(({ serial, wg, library, needs }) => {
        const label = `${op} ${entryPoint}${serial ? ' serial' : ''} ${shape}`;
        const spec: KernelSpec = { shader: module(library), entryPoint, constants: { ...constants, WG: wg }, bindings };
        return { name: `${op}/${entryPoint}${serial ? '/serial' : ''}`, label, spec, grid: [1, 1, 1], needs };
      });
    },
  };
}

/** The row pass on a few rows with their gradient, against the CPU backend's crossEntropy. */
function rowProbe(target: 'index' | 'probs', classes: number, launch: RowLaunch): Probe {
  const rows = PROBE_ROWS;
  const z = seeded(rows * classes, 11).map((v) => v * 6);
  const targets =
    target === 'index'
      ? Int32Array.from({ length: rows }, (_, i) => (i * 7 + 1) % classes)
      : cpuSoftmax(seeded(rows * classes, 12), { rows, cols: classes });
  const plan: CrossEntropyPlan = { rows, classes, target, reduction: 'none', ignoreIndex: -100, labelSmoothing: 0, withGrad: true };
  const { loss, grad } = cpuCrossEntropy(z, targets, null, plan);
  return {
    buffers: [z, targets, new Float32Array(1), new Float32Array(2), new Float32Array(rows), new Float32Array(rows * classes), new Float32Array(1), null],
    uniforms: params(['u32', rows], ['u32', classes], ['i32', -100], ['f32', 0], ['u32', WITH_GRAD]),
    grid: probeGrid(launch),
    expected: new Map([
      [4, loss],
      [5, grad!],
    ]),
  };
}
