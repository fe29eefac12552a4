import sumRowsWgsl from '../../../shaders/sum_rows.wgsl?raw';
import type { RowsPlan } from '../../backend.js';
import type { Bindable } from '../command-queue.js';
import { params, signature, type KernelHost } from '../kernel-host.js';
import type { GpuStorage } from '../storage.js';

const WG = 256;

/** Column sums of [rows, cols] (shaders/sum_rows.wgsl). */
export function sumRows(host: KernelHost, t: GpuStorage, plan: RowsPlan): GpuStorage {
  const out = host.output(plan.cols, 'sum');
  sumRowsInto(host, t.binding, out.buffer, plan, false);
  return out;
}

/** `sumRows` into a buffer the caller owns; with `accumulate`, added to what `out` holds. */
export function sumRowsInto(host: KernelHost, t: Bindable, out: GPUBuffer, plan: RowsPlan, accumulate: boolean): void {
  if (plan.cols === 0) return;
  // Few columns leave more invocations per column to split the rows between.
  const cols = Math.min(64, 2 ** Math.ceil(Math.log2(plan.cols)));
  const spec = {
    shader: host.shader([{ name: 'sum_rows.wgsl', code: sumRowsWgsl }]),
    entryPoint: 'main',
    constants: { WG, COLS: cols, ACCUMULATE: accumulate ? 1 : 0 },
    bindings: signature(1, 1),
  };
  host.dispatch(
    `sum ${plan.rows}x${plan.cols}${accumulate ? ' +=' : ''}`,
    spec,
    [t, out],
    params(['u32', plan.rows], ['u32', plan.cols]),
    Math.ceil(plan.cols / cols),
  );
}
