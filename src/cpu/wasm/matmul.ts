import type { MatmulPlan } from '../../backend.js';
import type { WasmStorage } from './heap.js';
import { PANEL, TILE_ROWS } from './kernels/matmul.js';
import type { WasmKernels } from './module.js';
import { COST, cut, MATMUL_PARALLEL_NS, type Job } from './threads/jobs.js';

/**
 * Steps of K per pass over a panel: a panel's block of packed B (256 × 8 floats, 8 KiB) stays
 * in L1 while every row tile of A's block (M × 256 floats) streams past it from L2.
 */
const KC = 256;

/**
 * `out[e] = op(a[e]) · op(b[e]) + bias` with the 4×8 kernels of kernels/matmul.ts. Per batch
 * entry, B is packed once into 8-column panels (a shared B once for the whole batch); then
 * for each block of K and each panel, one kernel call runs every full tile of 4 rows, starting
 * from the bias (first block) or from the partial sums in `out` (later blocks). A last panel
 * narrower than 8 columns keeps its sums in a scratch `[M, 8]` block, and the rows past the
 * last full tile (read from a zero-padded copy of A) in a scratch `[4, panels · 8]` strip,
 * both copied out once at the end; so no kernel reads or writes outside its tensors.
 */
export function matmul(kernels: WasmKernels, out: WasmStorage, a: WasmStorage, b: WasmStorage, bias: WasmStorage | null, plan: MatmulPlan): void {
  const { heap, threads } = kernels;
  const { batch, m, k, n, transposeA, transposeB } = plan;
  if (m === 0 || n === 0) return;
  const panels = Math.ceil(n / PANEL);
  const edgeRows = m % TILE_ROWS;
  const fullRows = m - edgeRows;
  const fullTiles = fullRows / TILE_ROWS;
  const width = panels * PANEL;
  // Scratch blocks, allocated before any view is taken: packed B, the bias row padded to whole
  // panels, the edge rows of A, the narrow panel's sums and the edge rows' sums.
  const packedBytes = width * k * 4;
  const biasBytes = width * 4;
  const edgeBytes = TILE_ROWS * k * 4;
  const sideBytes = fullRows * PANEL * 4;
  const stripBytes = TILE_ROWS * width * 4;
  const scratchBytes = packedBytes + biasBytes + edgeBytes + sideBytes + stripBytes;
  const scratch = heap.alloc(scratchBytes);
  try {
    const packed = scratch;
    const biasRow = packed + packedBytes;
    const edgeA = biasRow + biasBytes;
    const side = edgeA + edgeBytes;
    const strip = side + sideBytes;
    // Views are taken afresh after each job: running one may grow the memory.
    let f32 = heap.f32();
    f32.fill(0, biasRow >> 2, (biasRow + biasBytes) >> 2);
    if (bias !== null) f32.copyWithin(biasRow >> 2, bias.offset >> 2, (bias.offset >> 2) + n);
    let packedFrom = -1;
    const what = `matmul ${batch}x${m}x${k}x${n}`;
    const shape = { m, k, n, transposeA, edgeRows, width, packed, biasRow, edgeA, side, strip };
    for (let e = 0; e < batch; e++) {
      const aBase = a.offset + 4 * e * plan.aBatchStride;
      const bBase = b.offset + 4 * e * plan.bBatchStride;
      const cBase = out.offset + 4 * e * m * n;
      if (k === 0) {
        for (let i = 0; i < m; i++) f32.copyWithin((cBase >> 2) + i * n, biasRow >> 2, (biasRow >> 2) + n);
        continue;
      }
      const pack = packedFrom !== bBase;
      packedFrom = bBase;
      if (edgeRows !== 0) copyEdgeRows(f32, edgeA >> 2, aBase, fullRows, edgeRows, plan);
      // Threads split C into bands of whole panels, or where there are few panels (a 10-class
      // head) into bands of whole row tiles; never along K. Either way each element of C adds
      // its products in the same kernel calls in the same order, so the bits never change.
      const work = 2 * m * k * n * COST.flop;
      const byRows = panels < 2 * threads.count && fullTiles >= 2 * threads.count;
      const job = threads.job(work, byRows ? fullTiles : panels, what, MATMUL_PARALLEL_NS);
      if (byRows && job.chunks > 1) {
        // Every band reads every panel: pack them all first.
        if (pack) {
          const packing = threads.job(0, 1, what);
          packing.call('pack_b', bBase, transposeB ? 4 : 4 * n, transposeB ? 4 * k : 4, k, n, packed);
          packing.end();
          packing.run();
        }
        const bounds = cut(fullTiles, job.chunks);
        for (let chunk = 0; chunk < job.chunks; chunk++) {
          const [t0, t1] = [bounds[chunk]!, bounds[chunk + 1]!];
          const last = chunk === job.chunks - 1;
          if (t1 > t0 || (last && edgeRows !== 0)) {
            gemmCalls(job, { ...shape, aBase, cBase, t0, tiles: t1 - t0, edge: last, p0: 0, p1: panels });
          }
          job.end();
        }
      } else {
        const bounds = cut(panels, job.chunks);
        for (let chunk = 0; chunk < job.chunks; chunk++) {
          const [p0, p1] = [bounds[chunk]!, bounds[chunk + 1]!];
          if (p1 > p0) {
            // B(p, j) is b[p * n + j], or b[j * k + p] when transposed: this band's columns, packed.
            if (pack) {
              const columns = Math.min(n, p1 * PANEL) - p0 * PANEL;
              const jStride = transposeB ? 4 * k : 4;
              job.call('pack_b', bBase + p0 * PANEL * jStride, transposeB ? 4 : 4 * n, jStride, k, columns, packed + 4 * p0 * PANEL * k);
            }
            gemmCalls(job, { ...shape, aBase, cBase, t0: 0, tiles: fullTiles, edge: true, p0, p1 });
          }
          job.end();
        }
      }
      job.run();
      f32 = heap.f32();
      const narrowFrom = n - (n % PANEL);
      if (narrowFrom < n) copyBlock(f32, side >> 2, PANEL, (cBase >> 2) + narrowFrom, n, fullRows, n - narrowFrom);
      if (edgeRows !== 0) copyBlock(f32, strip >> 2, width, (cBase >> 2) + fullRows * n, n, edgeRows, n);
    }
  } finally {
    heap.free(scratch, scratchBytes);
  }
}

interface GemmBand {
  m: number;
  k: number;
  n: number;
  transposeA: boolean;
  edgeRows: number;
  width: number;
  packed: number;
  biasRow: number;
  edgeA: number;
  side: number;
  strip: number;
  aBase: number;
  cBase: number;
  /** The band's first row tile and its number of tiles. */
  t0: number;
  tiles: number;
  /** Whether the band also computes the edge rows (past the last full tile). */
  edge: boolean;
  /** The band's panels `[p0, p1)`. */
  p0: number;
  p1: number;
}

/**
 * The kernel calls of one band of C: for each block of K and each of its panels, its full
 * tiles from the bias (first block) or the sums so far, and the edge rows' strip.
 */
function gemmCalls(job: Job, g: GemmBand): void {
  const { m, k, n, transposeA } = g;
  for (let k0 = 0; k0 < k; k0 += KC) {
    const kc = Math.min(KC, k - k0);
    const first = k0 === 0;
    for (let jp = g.p0; jp < g.p1; jp++) {
      const j0 = jp * PANEL;
      const bPtr = g.packed + 4 * (jp * PANEL * k + k0 * PANEL);
      const biasPtr = g.biasRow + 4 * j0;
      const narrow = n - j0 < PANEL;
      const [c0, ldc] = narrow ? [g.side, 4 * PANEL] : [g.cBase + 4 * j0, 4 * n];
      const c = c0 + g.t0 * TILE_ROWS * ldc;
      if (g.tiles > 0) {
        const [init, initStride] = first ? [biasPtr, 0] : [c, ldc];
        if (transposeA) job.call('gemm_t', g.aBase + 4 * k0 * m + 16 * g.t0, 4 * m, 16, bPtr, kc, init, initStride, c, ldc, g.tiles);
        else job.call('gemm_n', g.aBase + 4 * k0 + 16 * k * g.t0, 4 * k, 16 * k, bPtr, kc, init, initStride, c, ldc, g.tiles);
      }
      if (g.edge && g.edgeRows !== 0) {
        const edgeC = g.strip + 4 * j0;
        const [init, initStride] = first ? [biasPtr, 0] : [edgeC, 4 * g.width];
        job.call('gemm_n', g.edgeA + 4 * k0, 4 * k, 0, bPtr, kc, init, initStride, edgeC, 4 * g.width, 1);
      }
    }
  }
}

/** Rows `from ..< from + count` of op(a) as a zero-padded `[4, k]` block at element `to`. */
function copyEdgeRows(f32: Float32Array, to: number, aBase: number, from: number, count: number, plan: MatmulPlan): void {
  const { m, k } = plan;
  const base = aBase >> 2;
  f32.fill(0, to, to + TILE_ROWS * k);
  for (let r = 0; r < count; r++) {
    const i = from + r;
    if (plan.transposeA) for (let p = 0; p < k; p++) f32[to + r * k + p] = f32[base + p * m + i]!;
    else f32.copyWithin(to + r * k, base + i * k, base + (i + 1) * k);
  }
}

/** `rows × cols` floats from a matrix with row stride `fromStride` to one with `toStride`. */
function copyBlock(f32: Float32Array, from: number, fromStride: number, to: number, toStride: number, rows: number, cols: number): void {
  // A few floats a row (the narrow panel) move faster one by one than through copyWithin.
  for (let r = 0; r < rows; r++) {
    const [src, dst] = [from + r * fromStride, to + r * toStride];
    if (cols <= PANEL) for (let j = 0; j < cols; j++) f32[dst + j] = f32[src + j]!;
    else f32.copyWithin(dst, src, src + cols);
  }
}
