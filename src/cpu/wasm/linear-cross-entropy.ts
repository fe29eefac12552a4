import type { BackendLinearCrossEntropyResult, LinearCrossEntropyPlan, MatmulPlan } from '../../backend.js';
import { fromHalves } from '../../float16.js';
import { meanDenominator } from '../cross-entropy.js';
import { linearCrossEntropy as referenceLinearCrossEntropy } from '../linear-cross-entropy.js';
import { accumulateMetrics } from '../train.js';
import { wasmCoversCrossEntropy } from './cross-entropy.js';
import { WasmStorage } from './heap.js';
import { matmul } from './matmul.js';
import type { WasmKernels } from './module.js';
import { crossEntropyRows, sumColumns } from './parallel.js';

/**
 * A chunk's logits stay within this many bytes unless `chunkRows` says otherwise, as on WebGPU:
 * large enough that a batch's gradient is usually formed in one chunk, with nothing to add up.
 */
const LOGITS_CHUNK_BYTES = 32 * 2 ** 20;
/** A chunk of float16 x widened to float32 stays within this many bytes unless `chunkRows` says otherwise. */
const WIDE_X_CHUNK_BYTES = 2 ** 20;

/**
 * `linearCrossEntropy` on the Wasm kernels, a chunk of rows at a time as the reference runs it
 * (src/cpu/linear-cross-entropy.ts), so the only logits held are a chunk's `[R, C]`. Per
 * chunk: `z = x_c·W + b` (the Wasm matmul, reading `x_c` in place), the fused cross-entropy
 * kernel's row losses and `dz`, already scaled by 1 / the mean's denominator (known from all
 * N targets before the first chunk), `gradX_c = dz·Wᵀ`, and `gradW += x_cᵀ·dz`,
 * `gradBias += Σ dz`. What the fused kernel does not cover (label smoothing, probability
 * targets) runs the reference over views of the memory.
 */
export function linearCrossEntropy(
  kernels: WasmKernels,
  x: WasmStorage,
  weight: WasmStorage,
  bias: WasmStorage | null,
  target: WasmStorage,
  classWeights: WasmStorage | null,
  metrics: WasmStorage | null,
  plan: LinearCrossEntropyPlan,
): BackendLinearCrossEntropyResult {
  const { heap, fns } = kernels;
  const ce = plan.crossEntropy;
  if (!wasmCoversCrossEntropy(ce)) return viaReference(kernels, x, weight, bias, target, classWeights, metrics, plan);
  const { rows: n, classes: c, reduction, withGrad } = ce;
  const d = plan.features;
  // A float16 x is widened a chunk at a time, within WIDE_X_CHUNK_BYTES as on WebGPU.
  const byDefault = Math.min(Math.floor(LOGITS_CHUNK_BYTES / (4 * c)), plan.float16X ? Math.floor(WIDE_X_CHUNK_BYTES / (4 * d)) : Infinity);
  const chunk = Math.max(1, Math.min(n, plan.chunkRows ?? byDefault));
  const denominator = meanDenominator(view(heap.i32(), target), classWeights === null ? null : view(heap.f32(), classWeights), ce);
  const scale = reduction !== 'mean' ? 1 : denominator !== 0 ? 1 / denominator : 0;

  const rowLoss = heap.storage(n);
  const gradX = withGrad && plan.withGradX ? heap.storage(n * d) : null;
  const gradWeight = withGrad ? heap.storage(d * c) : null;
  const gradBias = withGrad && bias !== null ? heap.storage(c) : null;
  const z = heap.storage(chunk * c);
  const dz = withGrad ? heap.storage(chunk * c) : null;
  // float16 x: each chunk's rows widened here (kernels/float16.ts), so x is never held as float32 whole.
  const xWide = plan.float16X ? heap.storage(chunk * d) : null;
  // The first chunk writes the parameter gradients; later ones add theirs through these.
  const part = withGrad && chunk < n ? heap.storage(d * c) : null;
  const columns = gradBias !== null && chunk < n ? heap.storage(c) : null;
  if (n === 0) {
    for (const g of [gradWeight, gradBias]) if (g !== null) view(heap.f32(), g).fill(0);
  }
  // The matmul may allocate scratch and grow the memory: views are taken afresh after each one.
  for (let first = 0; first < n; first += chunk) {
    const r = Math.min(chunk, n - first);
    let xc = new WasmStorage(heap, x.offset + first * d * 4, r * d);
    if (xWide !== null) {
      fns.widen_f16(x.offset + first * d * 2, xWide.offset, r * d);
      xc = new WasmStorage(heap, xWide.offset, r * d);
    }
    const yc = new WasmStorage(heap, target.offset + first * 4, r);
    const zc = new WasmStorage(heap, z.offset, r * c);
    matmul(kernels, zc, xc, weight, bias, linear(r, d, c, false, plan.transposeWeight));
    if (metrics !== null) {
      const metricsPlan = { rows: r, classes: c, target: ce.target, ignoreIndex: ce.ignoreIndex, lossScale: 0 };
      accumulateMetrics(view(heap.f32(), zc), view(heap.i32(), yc), 0, view(heap.f32(), metrics), metricsPlan);
    }
    const lossRows = rowLoss.offset + first * 4;
    crossEntropyRows(kernels, zc.offset, yc.offset, classWeights?.offset ?? 0, dz?.offset ?? 0, lossRows, r, c, ce.ignoreIndex, scale);
    if (dz === null || gradWeight === null) continue;
    const dzc = new WasmStorage(heap, dz.offset, r * c);
    if (gradX !== null) {
      const gx = new WasmStorage(heap, gradX.offset + first * d * 4, r * d);
      matmul(kernels, gx, dzc, weight, null, linear(r, c, d, false, !plan.transposeWeight));
    }
    const firstChunk = first === 0;
    // gradW in W's layout: x_cᵀ·dz [D, C], or dzᵀ·x_c [C, D].
    const gw = firstChunk ? gradWeight : part!;
    if (plan.transposeWeight) matmul(kernels, gw, dzc, xc, null, linear(c, r, d, true, false));
    else matmul(kernels, gw, xc, dzc, null, linear(d, r, c, true, false));
    if (!firstChunk) add(view(heap.f32(), gradWeight), view(heap.f32(), part!));
    if (gradBias !== null) {
      sumColumns(kernels, dzc.offset, (firstChunk ? gradBias : columns!).offset, r, c);
      if (!firstChunk) add(view(heap.f32(), gradBias), view(heap.f32(), columns!));
    }
  }
  for (const s of [z, dz, part, columns, xWide]) if (s !== null) heap.release(s);

  let loss = rowLoss;
  if (reduction !== 'none') {
    let sum = 0;
    for (const v of view(heap.f32(), rowLoss)) sum += v;
    heap.release(rowLoss);
    loss = heap.storage(1);
    heap.f32()[loss.offset >> 2] = reduction === 'sum' ? sum : denominator !== 0 ? sum / denominator : NaN;
  }
  if (metrics !== null) {
    const acc = view(heap.f32(), metrics);
    const f = Math.fround;
    acc[0] = f(acc[0]! + f(heap.f32()[loss.offset >> 2]! * plan.metricsLossScale!));
  }
  return { loss, gradX, gradWeight, gradBias };
}

/** The reference kernel over views of the memory, its results copied in. */
function viaReference(
  kernels: WasmKernels,
  x: WasmStorage,
  weight: WasmStorage,
  bias: WasmStorage | null,
  target: WasmStorage,
  classWeights: WasmStorage | null,
  metrics: WasmStorage | null,
  plan: LinearCrossEntropyPlan,
): BackendLinearCrossEntropyResult {
  const { heap, fns } = kernels;
  const f32 = heap.f32();
  const r = referenceLinearCrossEntropy(
    plan.float16X ? fromHalves(heap.u16().subarray(x.offset >> 1, (x.offset >> 1) + x.length)) : view(f32, x),
    view(f32, weight),
    bias === null ? null : view(f32, bias),
    plan.crossEntropy.target === 'index' ? view(heap.i32(), target) : view(f32, target),
    classWeights === null ? null : view(f32, classWeights),
    metrics === null ? null : view(f32, metrics),
    plan,
  );
  const upload = (a: Float32Array | null) => {
    if (a === null) return null;
    const s = heap.storage(a.length);
    heap.f32().set(a, s.offset >> 2);
    return s;
  };
  return { loss: upload(r.loss)!, gradX: upload(r.gradX), gradWeight: upload(r.gradWeight), gradBias: upload(r.gradBias) };
}

function view<T extends Float32Array | Int32Array>(all: T, s: WasmStorage): T {
  return all.subarray(s.offset >> 2, (s.offset >> 2) + s.length) as T;
}

function add(into: Float32Array, from: Float32Array): void {
  for (let i = 0; i < into.length; i++) into[i]! += from[i]!;
}

function linear(m: number, k: number, n: number, transposeA: boolean, transposeB: boolean): MatmulPlan {
  return { batch: 1, m, k, n, transposeA, transposeB, aBatchStride: 0, bBatchStride: 0 };
}
