import crossEntropyWgsl from '../../../shaders/cross_entropy.wgsl?raw';
import type { BackendCrossEntropyResult, CrossEntropyPlan } from '../../backend.js';
import { params, signature, type KernelHost } from '../kernel-host.js';
import type { GpuStorage } from '../storage.js';
import { planRows, ROW_CACHE, rowLibrary } from './rows.js';

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

  const launch = planRows(host, { rows, cols: classes }, true);
  const constants = { PROBS: plan.target === 'probs' ? 1 : 0 };
  const flags = (weights === null ? 0 : WEIGHTED) | (plan.withGrad ? WITH_GRAD : 0) | (mean ? MEAN : 0);
  const shader = host.shader([...rowLibrary(host), ROW_CACHE, { name: 'cross_entropy.wgsl', code: crossEntropyWgsl }]);
  const bindings = signature(3, 4);
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
  const single = (entryPoint: string) => ({ shader, entryPoint, constants: { ...constants, WG: REDUCE_WG }, bindings });

  if (mean) host.dispatch(`crossEntropy mean_denominator ${shape}`, single('mean_denominator'), buffers, uniforms, 1);
  host.dispatch(
    `crossEntropy ${launch.entryPoint} ${shape}`,
    { shader, entryPoint: launch.entryPoint, constants: { ...constants, WG: launch.wg, CACHE: launch.cache }, bindings },
    buffers,
    uniforms,
    launch.workgroups,
  );
  if (total !== null) host.dispatch(`crossEntropy finalize ${shape}`, single('finalize'), buffers, uniforms, 1);

  if (norm !== null) host.done(norm);
  if (perRow === null) host.done(rowLoss);
  return { loss: perRow ?? total!, grad };
}
