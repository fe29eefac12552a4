import type { CrossEntropyPlan } from '../../backend.js';
import type { WasmStorage } from './heap.js';
import type { WasmKernels } from './module.js';
import { crossEntropyRows } from './parallel.js';

/** Whether the Wasm kernel covers a plan: class ids without label smoothing (the training case). */
export function wasmCoversCrossEntropy(plan: CrossEntropyPlan): boolean {
  return plan.target === 'index' && plan.labelSmoothing === 0;
}

/**
 * Cross-entropy against class ids with the fused kernel of kernels/rows.ts: per-row losses
 * (and the gradient) in Wasm, then the reduction over rows here in float64, as the reference
 * does. `'mean'` divides by the summed weights of the rows not ignored, as PyTorch does.
 */
export function crossEntropy(
  kernels: WasmKernels,
  z: WasmStorage,
  labels: WasmStorage,
  weights: WasmStorage | null,
  plan: CrossEntropyPlan,
): { loss: WasmStorage; grad: WasmStorage | null } {
  const { heap } = kernels;
  const { rows, classes, reduction } = plan;
  const grad = plan.withGrad ? heap.storage(rows * classes) : null;
  const rowLoss = heap.storage(rows);
  const loss = reduction === 'none' ? rowLoss : heap.storage(1);
  const i32 = heap.i32();
  const f32 = heap.f32();
  let denominator = 0;
  if (reduction === 'mean') {
    for (let r = 0; r < rows; r++) {
      const y = i32[(labels.offset >> 2) + r]!;
      if (y !== plan.ignoreIndex) denominator += weights === null ? 1 : f32[(weights.offset >> 2) + y]!;
    }
  }
  const scale = reduction !== 'mean' ? 1 : denominator !== 0 ? 1 / denominator : 0;
  crossEntropyRows(kernels, z.offset, labels.offset, weights?.offset ?? 0, grad?.offset ?? 0, rowLoss.offset, rows, classes, plan.ignoreIndex, scale);
  if (reduction !== 'none') {
    // Summed here, in row order, on any number of threads.
    const f32 = heap.f32();
    let sum = 0;
    for (let r = 0; r < rows; r++) sum += f32[(rowLoss.offset >> 2) + r]!;
    f32[loss.offset >> 2] = reduction === 'sum' ? sum : denominator !== 0 ? sum / denominator : NaN;
    heap.release(rowLoss);
  }
  return { loss, grad };
}
