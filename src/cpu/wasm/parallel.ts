import type { Job } from './threads/jobs.js';
import { COST, cut } from './threads/jobs.js';
import type { WasmKernels } from './module.js';

/**
 * How the row kernels, column sums and optimizer steps are cut between threads so that every
 * output is bit for bit the one a single thread writes: rows whole (each row's reductions are
 * the kernel's own), columns of a sum in bands of whole f32x4 (each column's total adds its rows
 * in the same order), optimizer steps in runs of whole f32x4.
 */

/**
 * `call(job, r0, count, redirect)` makes the calls for rows `[r0, r0 + count)`, writing the
 * rows' outputs to `redirect` instead when it is not null. A row kernel's last f32x4 may write
 * up to 3 floats past its row (kernels/rows.ts), into the next row, which one thread rewrites
 * when it gets there; on several threads that next row may be another's, already written. So
 * where rows are not whole f32x4 (and the kernel writes rows), each chunk's last row but the
 * table's last goes to a scratch row of its own and is copied into place, exactly `cols` floats.
 */
export function splitRows(
  kernels: WasmKernels,
  what: string,
  rows: number,
  cols: number,
  writesRows: boolean,
  outRow: (row: number) => number,
  call: (job: Job, r0: number, count: number, redirect: number | null) => void,
): void {
  const { heap, threads } = kernels;
  const job = threads.job(rows * cols * COST.rowElement, rows, what);
  const bounds = cut(rows, job.chunks);
  const redirect = writesRows && cols % 4 !== 0 && job.chunks > 1;
  const rowBytes = Math.ceil((cols * 4 + 16) / 64) * 64;
  const scratchBytes = redirect ? job.chunks * rowBytes : 0;
  const scratch = scratchBytes === 0 ? 0 : heap.alloc(scratchBytes);
  try {
    for (let chunk = 0; chunk < job.chunks; chunk++) {
      const [r0, r1] = [bounds[chunk]!, bounds[chunk + 1]!];
      if (!redirect || r1 === rows || r1 === r0) {
        if (r1 > r0) call(job, r0, r1 - r0, null);
      } else {
        if (r1 - 1 > r0) call(job, r0, r1 - 1 - r0, null);
        const row = scratch + chunk * rowBytes;
        call(job, r1 - 1, 1, row);
        job.copy(outRow(r1 - 1), row, cols * 4);
      }
      job.end();
    }
    job.run();
  } finally {
    if (scratchBytes !== 0) heap.free(scratch, scratchBytes);
  }
}

/** `softmax`, `log_softmax` (one input) or `softmax_backward` (two) over `[rows, cols]` into `out`. */
export function rowKernel(
  kernels: WasmKernels,
  name: 'softmax' | 'log_softmax' | 'softmax_backward',
  inputs: readonly number[],
  out: number,
  rows: number,
  cols: number,
): void {
  const at = (base: number, row: number) => base + 4 * row * cols;
  splitRows(kernels, `${name} ${rows}x${cols}`, rows, cols, true, (row) => at(out, row), (job, r0, count, redirect) => {
    const o = redirect ?? at(out, r0);
    if (name === 'softmax_backward') job.call(name, at(inputs[0]!, r0), at(inputs[1]!, r0), o, count, cols);
    else job.call(name, at(inputs[0]!, r0), o, count, cols);
  });
}

/**
 * The fused cross-entropy kernel over rows: losses into `loss` (one float a row) and, where
 * `grad` is not 0, the gradient rows.
 */
export function crossEntropyRows(
  kernels: WasmKernels,
  z: number,
  labels: number,
  weights: number,
  grad: number,
  loss: number,
  rows: number,
  cols: number,
  ignoreIndex: number,
  scale: number,
): void {
  const at = (base: number, row: number) => base + 4 * row * cols;
  splitRows(kernels, `crossEntropy ${rows}x${cols}`, rows, cols, grad !== 0, (row) => at(grad, row), (job, r0, count, redirect) => {
    const g = grad === 0 ? 0 : (redirect ?? at(grad, r0));
    job.call('cross_entropy', at(z, r0), labels + 4 * r0, weights, g, loss + 4 * r0, count, cols, ignoreIndex, scale);
  });
}

/** Column totals of `[rows, cols]` at `t` into `out`, by bands of columns. */
export function sumColumns(kernels: WasmKernels, t: number, out: number, rows: number, cols: number): void {
  const vectors = Math.ceil(cols / 4);
  const job = kernels.threads.job(rows * cols * COST.element, vectors, `sum ${rows}x${cols}`);
  const bounds = cut(vectors, job.chunks);
  for (let chunk = 0; chunk < job.chunks; chunk++) {
    const [c0, c1] = [4 * bounds[chunk]!, Math.min(cols, 4 * bounds[chunk + 1]!)];
    if (c1 > c0) job.call('sum_rows', t + 4 * c0, out + 4 * c0, rows, c1 - c0, cols);
    job.end();
  }
  job.run();
}

/**
 * An optimizer step over `elements` parameters: `call(job, offset, count)` makes the call for
 * elements `[offset, offset + count)` (`offset` in bytes, to add to each non-null buffer).
 */
export function elementwise(kernels: WasmKernels, what: string, elements: number, call: (job: Job, offset: number, count: number) => void): void {
  const vectors = Math.ceil(elements / 4);
  const job = kernels.threads.job(elements * COST.element * 4, vectors, what);
  const bounds = cut(vectors, job.chunks);
  for (let chunk = 0; chunk < job.chunks; chunk++) {
    const [e0, e1] = [4 * bounds[chunk]!, Math.min(elements, 4 * bounds[chunk + 1]!)];
    if (e1 > e0) call(job, 4 * e0, e1 - e0);
    job.end();
  }
  job.run();
}
