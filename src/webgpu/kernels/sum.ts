import sumRowsWgsl from '../../../shaders/sum_rows.wgsl?raw';
import sumRowsSerialWgsl from '../../../shaders/sum_rows_serial.wgsl?raw';
import type { RowsPlan } from '../../backend.js';
import { sumRows as cpuSumRows } from '../../cpu/reduce.js';
import { seeded, type Candidate, type Probe } from '../candidates.js';
import type { Bindable } from '../command-queue.js';
import { params, signature, type KernelHost } from '../kernel-host.js';
import type { GpuStorage } from '../storage.js';

const WG = 256;
const SERIAL_WG = 64;

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
  const label = `sum ${plan.rows}x${plan.cols}${accumulate ? ' +=' : ''}`;
  const tree: Candidate = {
    name: 'sum/tree',
    label,
    spec: { shader: host.shader([{ name: 'sum_rows.wgsl', code: sumRowsWgsl }]), entryPoint: 'main', constants: { WG, COLS: cols, ACCUMULATE: accumulate ? 1 : 0 }, bindings: signature(1, 1) },
    grid: host.grid(label, Math.ceil(plan.cols / cols)),
    needs: { workgroupBytes: WG * 4, invocations: WG },
    probe: () => probe(cols, accumulate, (probeCols) => [Math.ceil(probeCols / cols), 1, 1]),
  };
  const serial: Candidate = {
    name: 'sum/serial',
    label: `sum serial ${plan.rows}x${plan.cols}${accumulate ? ' +=' : ''}`,
    spec: { shader: host.shader([{ name: 'sum_rows_serial.wgsl', code: sumRowsSerialWgsl }]), entryPoint: 'main', constants: { WG: SERIAL_WG, ACCUMULATE: accumulate ? 1 : 0 }, bindings: signature(1, 1) },
    grid: host.grid(label, Math.ceil(plan.cols / SERIAL_WG)),
    needs: { workgroupBytes: 0, invocations: SERIAL_WG },
    probe: () => probe(cols, accumulate, (probeCols) => [Math.ceil(probeCols / SERIAL_WG), 1, 1]),
  };
  host.candidates(label, [tree, serial], [t, out], params(['u32', plan.rows], ['u32', plan.cols]), 'sum');
}

/** Column sums of a few rows (as many columns as a workgroup owns, and some), against the CPU backend's. */
function probe(cols: number, accumulate: boolean, grid: (cols: number) => [number, number, number]): Probe {
  const plan = { rows: 37, cols: cols + 3 };
  const t = seeded(plan.rows * plan.cols, 13);
  const initial = seeded(plan.cols, 14);
  const expected = cpuSumRows(t, plan);
  if (accumulate) for (let i = 0; i < plan.cols; i++) expected[i] = expected[i]! + initial[i]!;
  return { buffers: [t, initial, null], uniforms: params(['u32', plan.rows], ['u32', plan.cols]), grid: grid(plan.cols), expected: new Map([[1, expected]]) };
}
