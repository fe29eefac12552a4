import type { BackendLinearCrossEntropyResult, LinearCrossEntropyPlan, MatmulPlan } from '../../backend.js';
import { params, type KernelHost } from '../kernel-host.js';
import { GpuStorage } from '../storage.js';
import { gatherRowsInto } from './train.js';
import { rowClass } from '../tuning.js';
import { matmulInto } from './matmul.js';
import { crossEntropyKernels } from './cross-entropy.js';
import { sumRowsInto } from './sum.js';
import { accumulateMetrics } from './train.js';

/** Bits of `Params.flags` in shaders/cross_entropy.wgsl. */
const WEIGHTED = 1;
const WITH_GRAD = 2;
const MEAN = 4;
/** A chunk's logits stay within this many bytes unless `chunkRows` says otherwise. */
export const LOGITS_CHUNK_BYTES = 32 * 2 ** 20;
/** A chunk of float16 x widened to float32 stays within this many bytes unless `chunkRows` says otherwise. */
export const WIDE_X_CHUNK_BYTES = 2 ** 20;
/** Chunks of at least this many rows are cut at a multiple of it, whole tiles for the matmuls. */
const ROW_ALIGN = 64;

/**
 * Rows of logits formed at a time: as many as fit in `LOGITS_CHUNK_BYTES` (and the binding
 * limit), at least one. A row of logits is no larger than the weight, which is itself bound, so
 * one row always fits.
 */
export function chunkRows(host: KernelHost, plan: LinearCrossEntropyPlan): number {
  const { rows, classes } = plan.crossEntropy;
  if (plan.chunkRows !== null) return Math.max(1, Math.min(plan.chunkRows, rows));
  const budget = Math.min(LOGITS_CHUNK_BYTES, host.limits.maxStorageBufferBindingSize);
  let r = Math.max(1, Math.floor(budget / (classes * 4)));
  // A float16 x is widened a chunk at a time: a bounded chunk keeps its float32 copy small.
  if (plan.float16X) r = Math.min(r, Math.max(1, Math.floor(WIDE_X_CHUNK_BYTES / (plan.features * 4))));
  if (r >= ROW_ALIGN) r -= r % ROW_ALIGN;
  return Math.max(1, Math.min(r, rows));
}

/**
 * `crossEntropy(x · W + b)` and its gradients a chunk of R rows at a time, through the tuned
 * matmul kernels and the fused cross-entropy row kernel (shaders/cross_entropy.wgsl):
 *
 *   once            mean's denominator from all N targets (so every chunk's dz is final)
 *   per chunk       z = x_c W + b; row losses and dz = d(loss)/dz_c;
 *                   gradX_c = dz Wᵀ; gradW (+)= x_cᵀ dz; gradBias (+)= column sums of dz
 *   once            the scalar loss from the N row losses ('mean' and 'sum')
 *
 * With a metrics accumulator, each chunk's logits are also scored (shaders/metrics.wgsl) and
 * the loss is added once at the end.
 *
 * Scratch: z and dz `[R, C]`, plus `[R, D]` slices of x and gradX, `[R]` targets and row losses
 * when there is more than one chunk: bounded by `chunkRows`, whatever N. Nothing is read back.
 */
export function linearCrossEntropy(
  host: KernelHost,
  x: GpuStorage,
  weight: GpuStorage,
  bias: GpuStorage | null,
  target: GpuStorage,
  classWeights: GpuStorage | null,
  metrics: GpuStorage | null,
  plan: LinearCrossEntropyPlan,
): BackendLinearCrossEntropyResult {
  const ce = plan.crossEntropy;
  const { rows: n, classes: c, reduction, withGrad } = ce;
  const d = plan.features;
  const mean = reduction === 'mean';
  const r = chunkRows(host, plan);
  const single = r >= n;
  const targetCols = ce.target === 'probs' ? c : 1;

  const perRow = reduction === 'none' ? host.output(n, 'linearCrossEntropy loss') : null;
  const total = perRow === null ? host.output(1, 'linearCrossEntropy loss') : null;
  const gradX = withGrad && plan.withGradX ? host.output(n * d, 'linearCrossEntropy gradX') : null;
  const gradWeight = withGrad ? host.output(d * c, 'linearCrossEntropy gradWeight') : null;
  const gradBias = withGrad && bias !== null ? host.output(c, 'linearCrossEntropy gradBias') : null;

  const scratch: GPUBuffer[] = [];
  const take = (elements: number, label: string) => {
    const buffer = host.scratch(elements, `linearCrossEntropy ${label}`);
    scratch.push(buffer);
    return buffer;
  };
  const rowLossAll = perRow?.buffer ?? take(n, 'row losses');
  const norm = mean ? take(2, 'mean denominator') : null;
  const z = take(r * c, 'logits chunk');
  const dz = withGrad ? take(r * c, 'dz chunk') : null;
  // float16 x is widened a chunk at a time, so it takes a float32 chunk even when whole.
  const xChunk = single && !plan.float16X ? x.buffer : take(r * d, 'x chunk');
  const targetChunk = single ? target.buffer : take(r * targetCols, 'target chunk');
  const lossChunk = single ? rowLossAll : take(r, 'row losses chunk');
  const gradXChunk = gradX === null ? null : single ? gradX.buffer : take(r * d, 'gradX chunk');

  const flags = (classWeights === null ? 0 : WEIGHTED) | (withGrad ? WITH_GRAD : 0) | (mean ? MEAN : 0);
  const ceUniforms = (rows: number) =>
    params(['u32', rows], ['u32', c], ['i32', ce.ignoreIndex], ['f32', ce.labelSmoothing], ['u32', flags]);
  const ceBuffers = (targets: GPUBuffer, rowLoss: GPUBuffer) => [
    z,
    targets,
    classWeights?.buffer ?? host.unusedRead,
    norm ?? host.unusedWrite(3),
    rowLoss,
    dz ?? host.unusedWrite(5),
    total?.buffer ?? host.unusedWrite(6),
  ];
  const shape = `${n}x${d}x${c} ${ce.target} ${reduction}`;
  const kernels = crossEntropyKernels(host, 'linearCrossEntropy', ce.target, shape);
  if (norm !== null) {
    host.candidates(`linearCrossEntropy mean_denominator ${shape}`, kernels.single('mean_denominator'), ceBuffers(target.buffer, rowLossAll), ceUniforms(n));
  }

  const chunks = Math.max(1, Math.ceil(n / r));
  for (let chunk = 0; chunk < chunks; chunk++) {
    const first = chunk * r;
    const rows = Math.min(r, n - first);
    if (plan.float16X) gatherRowsInto(host, x, null, { rows, cols: d, start: first, widen: true }, xChunk);
    else if (!single) host.copy(x.buffer, first * d * 4, xChunk, 0, rows * d * 4);
    if (!single) host.copy(target.buffer, first * targetCols * 4, targetChunk, 0, rows * targetCols * 4);
    matmulInto(host, xChunk, weight.buffer, bias?.buffer ?? null, z, linear(rows, d, c, false, plan.transposeWeight), false);
    if (metrics !== null) {
      // Counts only: the unused binding reads as 0, times a loss scale of 0.
      const metricsPlan = { rows, classes: c, target: ce.target, ignoreIndex: ce.ignoreIndex, lossScale: 0 };
      accumulateMetrics(host, new GpuStorage(z, rows * c), new GpuStorage(targetChunk, rows * targetCols), new GpuStorage(host.unusedRead, 1), metrics, metricsPlan);
    }
    // The row kernel's variant is the one crossEntropy would choose for all N rows: chunking is
    // about memory, and must not tip a software adapter into a workgroup per row.
    host.candidates(`linearCrossEntropy rows ${rows}x${c}`, kernels.rows({ rows: n, cols: c }, rows), ceBuffers(targetChunk, lossChunk), ceUniforms(rows), rowClass('crossEntropy', c));
    if (!single) host.copy(lossChunk, 0, rowLossAll, first * 4, rows * 4);
    if (dz === null) continue;
    const accumulate = chunk > 0;
    if (gradX !== null) {
      // gradX_c [rows, D] = dz · Wᵀ, Wᵀ read from W in whichever layout it has.
      matmulInto(host, dz, weight.buffer, null, gradXChunk!, linear(rows, c, d, false, !plan.transposeWeight), false);
      if (!single) host.copy(gradXChunk!, 0, gradX.buffer, first * d * 4, rows * d * 4);
    }
    // gradW in W's layout: xᵀ · dz [D, C], or dzᵀ · x [C, D].
    const gw = plan.transposeWeight
      ? { a: dz, b: xChunk, plan: linear(c, rows, d, true, false) }
      : { a: xChunk, b: dz, plan: linear(d, rows, c, true, false) };
    matmulInto(host, gw.a, gw.b, null, gradWeight!.buffer, gw.plan, accumulate);
    if (gradBias !== null) sumRowsInto(host, dz, gradBias.buffer, { rows, cols: c }, accumulate);
  }

  if (total !== null) {
    host.candidates(`linearCrossEntropy finalize ${shape}`, kernels.single('finalize'), ceBuffers(target.buffer, rowLossAll), ceUniforms(n));
  }
  if (metrics !== null) {
    const lossOnly = { rows: 0, classes: c, target: ce.target, ignoreIndex: ce.ignoreIndex, lossScale: plan.metricsLossScale ?? 1 };
    accumulateMetrics(host, new GpuStorage(z, 0), target, perRow ?? total!, metrics, lossOnly);
  }
  for (const buffer of scratch) host.done(buffer);
  return { loss: perRow ?? total!, gradX, gradWeight, gradBias };
}

function linear(m: number, k: number, n: number, transposeA: boolean, transposeB: boolean): MatmulPlan {
  return { batch: 1, m, k, n, transposeA, transposeB, aBatchStride: 0, bBatchStride: 0 };
}
