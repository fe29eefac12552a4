import { FunctionBuilder, type Local } from './assembler.js';

// The matmul kernels: a 4×8 register tile as XNNPACK runs it on WebAssembly SIMD (eight f32x4
// accumulators, B packed in panels of 8 columns, each A value broadcast with one
// `v128.load32_splat`), and the packing of B. The host loops over tiles (../matmul.ts).

/** Panel width: two f32x4 per row of the tile. */
export const PANEL = 8;
/** Tile height: rows of A per kernel call. */
export const TILE_ROWS = 4;

/**
 * `acc += x * y` on f32x4: one `relaxed_madd` in the FMA build (a fused multiply-add where the
 * core has one), a multiply and an add in the plain-SIMD build.
 */
export function madd(f: FunctionBuilder, fma: boolean, acc: Local, x: Local, y: Local): void {
  if (fma) f.get(x).get(y).get(acc).op('f32x4.relaxed_madd').set(acc);
  else f.get(acc).get(x).get(y).op('f32x4.mul', 'f32x4.add').set(acc);
}

/**
 * `gemm_n(a, lda, aTile, b, k, init, initStride, c, ldc, tiles)` (A rows contiguous) and
 * `gemm_t(a, astep, aTile, b, k, init, initStride, c, ldc, tiles)` (A stored transposed):
 * for each of `tiles` tiles of 4 rows, `c[r] = init[r] + sum_p A(r, p) · B(p, 0..8)` over `k`
 * steps of a packed panel `b`. Addresses and strides are in bytes. In a tile, A(r, p) is at
 * `a + r·lda + 4p` (`gemm_n`) or `a + 4r + p·astep` (`gemm_t`); the next tile's A is `aTile`
 * further on. `init` rows are `initStride` apart (0 broadcasts a bias row), `c` rows `ldc`
 * apart. The loop over p is not unrolled: unrolled by four (constant offsets for A), V8's code
 * ran at 70 % of the rolled loop's speed on a Zen 4, which reaches the core's f32x4 ceiling.
 */
export function gemmKernel(fma: boolean, transposedA: boolean): FunctionBuilder {
  const f = new FunctionBuilder(transposedA ? 'gemm_t' : 'gemm_n', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32']);
  const [a, stride, aTile, b, k, init, initStride, c, ldc, tiles] = f.params as [Local, Local, Local, Local, Local, Local, Local, Local, Local, Local];
  const acc = Array.from({ length: TILE_ROWS }, () => [f.local('v128'), f.local('v128')] as const);
  const [b0, b1, x] = [f.local('v128'), f.local('v128'), f.local('v128')];
  const [row, left, pb, tile] = [f.local('i32'), f.local('i32'), f.local('i32'), f.local('i32')];
  // gemm_n reads each row of A through its own pointer; gemm_t one pointer for the tile.
  const rows = transposedA ? [f.local('i32')] : [f.local('i32'), f.local('i32'), f.local('i32'), f.local('i32')];

  /** One step p: B's row from `pb`, A's column through the row pointers. */
  const step = () => {
    f.get(pb).mem('v128.load', 0).set(b0);
    f.get(pb).mem('v128.load', 16).set(b1);
    for (const [r, [lo, hi]] of acc.entries()) {
      if (transposedA) f.get(rows[0]!).mem('v128.load32_splat', 4 * r).set(x);
      else f.get(rows[r]!).mem('v128.load32_splat').set(x);
      madd(f, fma, lo, x, b0);
      madd(f, fma, hi, x, b1);
    }
  };
  const advance = (local: Local, by: Local | number) => {
    f.get(local);
    if (typeof by === 'number') f.i32(by);
    else f.get(by);
    f.op('i32.add').set(local);
  };
  /** `TILE_ROWS` rows `stride` apart from `from`: loads into the accumulators, or stores from them. */
  const rowsOf = (from: Local, rowStride: Local, load: boolean) => {
    f.get(from).set(row);
    for (const [r, [lo, hi]] of acc.entries()) {
      if (load) {
        f.get(row).mem('v128.load', 0).set(lo);
        f.get(row).mem('v128.load', 16).set(hi);
      } else {
        f.get(row).get(lo).mem('v128.store', 0);
        f.get(row).get(hi).mem('v128.store', 16);
      }
      if (r < TILE_ROWS - 1) advance(row, rowStride);
    }
  };

  f.forRange(tile, 0, tiles, 1, () => {
    rowsOf(init, initStride, true);
    f.get(a).set(rows[0]!);
    if (!transposedA) for (let r = 1; r < TILE_ROWS; r++) f.get(rows[r - 1]!).get(stride).op('i32.add').set(rows[r]!);
    f.get(b).set(pb);
    f.get(k).set(left);
    f.block(() => {
      f.get(left).i32(0).op('i32.le_s').brIf(0);
      f.loop(() => {
        step();
        if (transposedA) advance(rows[0]!, stride);
        else for (const r of rows) advance(r, 4);
        advance(pb, 32);
        f.get(left).i32(1).op('i32.sub').tee(left).brIf(0);
      });
    });
    rowsOf(c, ldc, false);
    advance(a, aTile);
    for (let r = 0; r < TILE_ROWS; r++) {
      advance(init, initStride);
      advance(c, ldc);
    }
  });
  return f;
}

/**
 * `pack_b(src, pStride, jStride, k, n, dst)`: B(p, j) at `src + p·pStride + j·jStride` (bytes)
 * laid out as panels of 8 columns, each panel `k` rows of 8 floats, the last one padded with
 * zeros. A panel of a row-major B (`jStride` 4) moves as two v128 per row.
 */
export function packB(): FunctionBuilder {
  const f = new FunctionBuilder('pack_b', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32']);
  const [src, pStride, jStride, k, n, dst] = f.params as [Local, Local, Local, Local, Local, Local];
  const [j0, p, l, width, from, colBase] = [f.local('i32'), f.local('i32'), f.local('i32'), f.local('i32'), f.local('i32'), f.local('i32')];
  const eight = f.local('i32');
  f.i32(PANEL).set(eight);
  f.forRange(j0, 0, n, PANEL, () => {
    // width = min(8, n - j0)
    f.get(n).get(j0).op('i32.sub').set(width);
    f.get(width).i32(PANEL).get(width).i32(PANEL).op('i32.lt_s', 'select').set(width);
    f.get(src).get(j0).get(jStride).op('i32.mul', 'i32.add').set(colBase);
    f.forRange(p, 0, k, 1, () => {
      f.get(colBase).get(p).get(pStride).op('i32.mul', 'i32.add').set(from);
      f.get(width).i32(PANEL).op('i32.eq').get(jStride).i32(4).op('i32.eq', 'i32.and');
      f.if(
        () => {
          f.get(dst).get(from).mem('v128.load', 0).mem('v128.store', 0);
          f.get(dst).get(from).mem('v128.load', 16).mem('v128.store', 16);
        },
        () => {
          f.forRange(l, 0, width, 1, () => {
            f.get(dst).get(l).i32(2).op('i32.shl', 'i32.add');
            f.get(from).get(l).get(jStride).op('i32.mul', 'i32.add').mem('f32.load');
            f.mem('f32.store');
          });
          f.forRange(l, width, eight, 1, () => {
            f.get(dst).get(l).i32(2).op('i32.shl', 'i32.add').f32(0).mem('f32.store');
          });
        },
      );
      f.get(dst).i32(4 * PANEL).op('i32.add').set(dst);
    });
  });
  return f;
}
