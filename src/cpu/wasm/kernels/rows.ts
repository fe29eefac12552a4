import { FunctionBuilder, type FunctionImport, type Local } from './assembler.js';

// The row kernels (softmax, log-softmax, softmax backward, cross-entropy against class ids),
// column sums and the optimizer steps, on f32x4.
//
// Rows are walked four floats at a time. A row whose length is not a multiple of 4 ends in a
// partial vector: reductions mask its extra lanes, and element-wise passes just compute them.
// That reads and writes up to 3 floats past the row, which is safe because every tensor's
// block in the heap has 12 bytes to spare past its end (SLACK in ../heap.ts), outputs are fresh
// blocks, and rows are written in order, so whatever spills into the next row is overwritten
// when its turn comes. The optimizer steps run whole vectors over their parameters likewise.

/** `env.log`: Math.log, once per row (Wasm has no logarithm instruction). */
export const ROW_IMPORTS: readonly FunctionImport[] = [{ name: 'log', params: ['f64'], results: ['f64'] }];
const LOG = 0;

/** Floats summed into one partial f32x4 before it joins the row's total: blocked accumulation. */
const CHUNK_BYTES = 1024;

/** exp's range: below -87.34 the result is under float32's smallest normal, and taken as 0. */
const EXP_MIN = -87.33654;
/**
 * 1.5 · 2^23 + 127: adding it to x / ln 2 rounds that to an integer n, which lands in the low
 * mantissa bits already biased by 127, so shifting the bits left by 23 gives the float 2^n.
 */
const ROUNDER = 12583039;
/** ln 2 in two parts, the first with zeros in its low bits so that n · LN2_HI is exact. */
const LN2_HI = 0.693145751953125;
const LN2_LO = 1.428606765330187e-6;
/** XNNPACK's minimax polynomial for (e^r - 1) / r on [-ln 2 / 2, ln 2 / 2], highest term first. */
const EXP_POLY = [8.3011105e-3, 4.1906617e-2, 1.6667527e-1, 4.9999693e-1, 9.9999994e-1];

/** Locals and emitters shared by the kernels of one function. */
class RowEmitter {
  readonly i: Local;
  readonly chunkEnd: Local;
  readonly chunk: Local;
  readonly mask: Local;
  readonly #xc: Local;
  readonly #t: Local;
  readonly #r: Local;
  readonly #p: Local;

  constructor(
    readonly f: FunctionBuilder,
    readonly fma = false,
  ) {
    [this.i, this.chunkEnd, this.chunk] = [f.local('i32'), f.local('i32'), f.local('v128')];
    [this.mask, this.#xc, this.#t, this.#r, this.#p] = [f.local('v128'), f.local('v128'), f.local('v128'), f.local('v128'), f.local('v128')];
  }

  /** `mask` = the lanes of a row's last vector that lie inside the row (all of them when cols % 4 == 0). */
  setMask(cols: Local): void {
    const f = this.f;
    f.i32x4(0, 1, 2, 3).get(cols).i32(3).op('i32.and', 'i32x4.splat', 'i32x4.lt_s').set(this.mask);
  }

  /**
   * `out` = exp(x) lane by lane for x ≤ 0 (or NaN, kept), within 2 ulp: XNNPACK's rr2-p5,
   * e^x = 2^n · e^r with n = round(x / ln 2), whose multiply-adds fuse in the relaxed-SIMD
   * build. The rounding goes through ROUNDER rather than `nearest` and `trunc_sat`, whose
   * NaN-safe x64 sequences would cost more than the rest of the function.
   */
  exp(x: Local, out: Local): void {
    const f = this.f;
    const [xc, t, r, p] = [this.#xc, this.#t, this.#r, this.#p];
    const madd = (a: () => void, b: () => void, c: () => void) => {
      if (this.fma) {
        a(), b(), c();
        f.op('f32x4.relaxed_madd');
      } else {
        c(), a(), b();
        f.op('f32x4.mul', 'f32x4.add');
      }
    };
    const n = () => f.get(p);
    f.get(x).f32x4(EXP_MIN).op('f32x4.pmax').set(xc);
    madd(() => f.get(xc), () => f.f32x4(Math.LOG2E), () => f.f32x4(ROUNDER));
    f.tee(t).f32x4(ROUNDER).op('f32x4.sub').set(p);
    // p holds n until the polynomial needs it.
    madd(n, () => f.f32x4(-LN2_HI), () => f.get(xc));
    f.set(r);
    madd(n, () => f.f32x4(-LN2_LO), () => f.get(r));
    f.set(r);
    f.f32x4(EXP_POLY[0]!).set(p);
    for (const c of EXP_POLY.slice(1)) {
      madd(() => f.get(p), () => f.get(r), () => f.f32x4(c));
      f.set(p);
    }
    // e^x = s + (r s) p with s = 2^n; lanes below the range are 0, and NaN fails `x < EXP_MIN`.
    f.get(r).get(t).i32(23).op('i32x4.shl', 'f32x4.mul').set(r);
    madd(() => f.get(r), () => f.get(p), () => f.get(t).i32(23).op('i32x4.shl'));
    f.get(x).f32x4(EXP_MIN).op('f32x4.lt', 'v128.andnot').set(out);
  }

  /**
   * For each whole vector of the row at byte offset `i` (`body` reads `this.i`), then for the
   * partial one with `this.mask` set, in chunks of CHUNK_BYTES: `body` leaves an f32x4 on the
   * stack, chunk sums are added to `total` (an f32x4 local).
   */
  sumRow(cols: Local, total: Local, body: (partial: boolean) => void): void {
    const f = this.f;
    const { i, chunk, chunkEnd } = this;
    const full = f.local('i32');
    f.get(cols).i32(-4).op('i32.and').i32(2).op('i32.shl').set(full);
    f.f32x4(0).set(total);
    f.i32(0).set(i);
    f.block(() => {
      f.loop(() => {
        f.get(i).get(full).op('i32.ge_s').brIf(1);
        f.get(i).i32(CHUNK_BYTES).op('i32.add').set(chunkEnd);
        f.get(chunkEnd).get(full).get(chunkEnd).get(full).op('i32.lt_s', 'select').set(chunkEnd);
        f.f32x4(0).set(chunk);
        f.loop(() => {
          f.get(chunk);
          body(false);
          f.op('f32x4.add').set(chunk);
          f.get(i).i32(16).op('i32.add').tee(i).get(chunkEnd).op('i32.lt_s').brIf(0);
        });
        f.get(total).get(chunk).op('f32x4.add').set(total);
        f.br(0);
      });
    });
    f.get(cols).i32(3).op('i32.and').if(() => {
      f.get(total);
      body(true);
      f.op('f32x4.add').set(total);
    });
  }

  /** `body` once per vector of the row, the partial one included, with `this.i` its byte offset. */
  eachVector(cols: Local, body: () => void): void {
    const f = this.f;
    const end = f.local('i32');
    f.get(cols).i32(3).op('i32.add').i32(-4).op('i32.and').i32(2).op('i32.shl').set(end);
    f.forRange(this.i, 0, end, 16, body);
  }

  /**
   * The largest element of the row at `row` into `m`: NaN if any is NaN, -Infinity for an
   * empty row. `pmax` (one `maxps`) drops NaN, so NaN lanes are tracked on the side, which
   * costs less than `f32x4.max`'s NaN-propagating sequence.
   */
  rowMax(row: Local, cols: Local, m: Local): void {
    const f = this.f;
    const [acc, nan, v] = [f.local('v128'), f.local('v128'), f.local('v128')];
    const full = f.local('i32');
    const take = () => {
      f.get(acc).get(v).op('f32x4.pmax').set(acc);
      f.get(nan).get(v).get(v).op('f32x4.ne', 'v128.or').set(nan);
    };
    f.get(cols).i32(-4).op('i32.and').i32(2).op('i32.shl').set(full);
    f.f32x4(-Infinity).set(acc);
    f.i32x4(0).set(nan);
    f.forRange(this.i, 0, full, 16, () => {
      f.get(row).get(this.i).op('i32.add').mem('v128.load').set(v);
      take();
    });
    f.get(cols).i32(3).op('i32.and').if(() => {
      f.get(row).get(full).op('i32.add').mem('v128.load').f32x4(-Infinity).get(this.mask).op('v128.bitselect').set(v);
      take();
    });
    this.horizontal(acc, 'f32.max', m);
    f.f32(NaN).get(m).get(nan).op('v128.any_true', 'select').set(m);
  }

  /** `(l0 op l1) op (l2 op l3)` of the f32x4 `v` into the f32 `out`. */
  horizontal(v: Local, op: 'f32.max' | 'f32.add', out: Local): void {
    const f = this.f;
    f.get(v).lane('extract', 0).get(v).lane('extract', 1).op(op);
    f.get(v).lane('extract', 2).get(v).lane('extract', 3).op(op);
    f.op(op).set(out);
  }

  /** Natural log of the f32 on the stack, through `env.log`. */
  log(): void {
    this.f.op('f64.promote_f32').call(LOG).op('f32.demote_f64');
  }

  /** `rowPtr = base + r · cols · 4`. */
  rowAddress(base: Local, r: Local, cols: Local, out: Local): void {
    this.f.get(base).get(r).get(cols).op('i32.mul').i32(2).op('i32.shl', 'i32.add').set(out);
  }
}

/**
 * `softmax(z, out, rows, cols)` and `log_softmax(z, out, rows, cols)`: per row, the max, then
 * `e = exp(z - max)` summed in blocks, then `e / sum` or `(z - max) - log(sum)`. A row without
 * a finite maximum of -Infinity gives zeros (softmax) or -Infinity (log-softmax); NaN spreads.
 */
function softmaxKernel(log: boolean, fma: boolean): FunctionBuilder {
  const f = new FunctionBuilder(log ? 'log_softmax' : 'softmax', ['i32', 'i32', 'i32', 'i32']);
  const [z, out, rows, cols] = f.params as [Local, Local, Local, Local];
  const e = new RowEmitter(f, fma);
  const [r, zRow, outRow] = [f.local('i32'), f.local('i32'), f.local('i32')];
  const [m, sum] = [f.local('f32'), f.local('f32')];
  const [mv, v, ex, total, k] = [f.local('v128'), f.local('v128'), f.local('v128'), f.local('v128'), f.local('v128')];
  e.setMask(cols);
  f.forRange(r, 0, rows, 1, () => {
    e.rowAddress(z, r, cols, zRow);
    e.rowAddress(out, r, cols, outRow);
    e.rowMax(zRow, cols, m);
    f.get(m).f32(-Infinity).op('f32.eq').if(
      () => e.eachVector(cols, () => f.get(outRow).get(e.i).op('i32.add').f32x4(log ? -Infinity : 0).mem('v128.store')),
      () => {
        f.get(m).op('f32x4.splat').set(mv);
        e.sumRow(cols, total, (partial) => {
          f.get(zRow).get(e.i).op('i32.add').mem('v128.load').get(mv).op('f32x4.sub');
          if (partial) f.f32x4(-Infinity).get(e.mask).op('v128.bitselect');
          f.set(v);
          e.exp(v, ex);
          if (!log) f.get(outRow).get(e.i).op('i32.add').get(ex).mem('v128.store');
          f.get(ex);
        });
        e.horizontal(total, 'f32.add', sum);
        if (log) {
          f.get(sum);
          e.log();
          f.op('f32x4.splat').set(k);
          e.eachVector(cols, () => {
            f.get(outRow).get(e.i).op('i32.add');
            f.get(zRow).get(e.i).op('i32.add').mem('v128.load').get(mv).op('f32x4.sub').get(k).op('f32x4.sub');
            f.mem('v128.store');
          });
        } else {
          f.f32(1).get(sum).op('f32.div', 'f32x4.splat').set(k);
          e.eachVector(cols, () => {
            f.get(outRow).get(e.i).op('i32.add').tee(e.chunkEnd).get(e.chunkEnd).mem('v128.load').get(k).op('f32x4.mul').mem('v128.store');
          });
        }
      },
    );
  });
  return f;
}

/** `softmax_backward(p, dp, out, rows, cols)`: `p * (dp - sum(dp * p))` per row. */
function softmaxBackwardKernel(): FunctionBuilder {
  const f = new FunctionBuilder('softmax_backward', ['i32', 'i32', 'i32', 'i32', 'i32']);
  const [p, dp, out, rows, cols] = f.params as [Local, Local, Local, Local, Local];
  const e = new RowEmitter(f);
  const [r, rowBytes, pRow, dpRow, outRow] = [f.local('i32'), f.local('i32'), f.local('i32'), f.local('i32'), f.local('i32')];
  const [dot, total, dv] = [f.local('f32'), f.local('v128'), f.local('v128')];
  e.setMask(cols);
  f.get(cols).i32(2).op('i32.shl').set(rowBytes);
  f.forRange(r, 0, rows, 1, () => {
    e.rowAddress(p, r, cols, pRow);
    e.rowAddress(dp, r, cols, dpRow);
    e.rowAddress(out, r, cols, outRow);
    e.sumRow(cols, total, (partial) => {
      f.get(pRow).get(e.i).op('i32.add').mem('v128.load').get(dpRow).get(e.i).op('i32.add').mem('v128.load').op('f32x4.mul');
      if (partial) f.get(e.mask).op('v128.and');
    });
    e.horizontal(total, 'f32.add', dot);
    f.get(dot).op('f32x4.splat').set(dv);
    e.eachVector(cols, () => {
      f.get(outRow).get(e.i).op('i32.add');
      f.get(pRow).get(e.i).op('i32.add').mem('v128.load');
      f.get(dpRow).get(e.i).op('i32.add').mem('v128.load').get(dv).op('f32x4.sub', 'f32x4.mul');
      f.mem('v128.store');
    });
  });
  return f;
}

/**
 * `cross_entropy(z, labels, weights, grad, loss, rows, cols, ignoreIndex, scale)`: softmax
 * cross-entropy against int32 class ids without label smoothing, the training case. Per row:
 * `loss[r] = w[y] ((max - z_y) + log(sum))` (0 where `w[y]` is 0 or the row is ignored) and,
 * when `grad` is not 0, `grad = (exp(z - max) / sum · w[y] - w[y] onehot(y)) · scale`.
 * `weights` 0 means every class weighs 1.
 */
function crossEntropyKernel(fma: boolean): FunctionBuilder {
  const f = new FunctionBuilder('cross_entropy', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'f32']);
  const [z, labels, weights, grad, loss, rows, cols, ignoreIndex, scale] = f.params as [Local, Local, Local, Local, Local, Local, Local, Local, Local];
  const e = new RowEmitter(f, fma);
  const [r, y, zRow, gRow, yAt] = [f.local('i32'), f.local('i32'), f.local('i32'), f.local('i32'), f.local('i32')];
  const [w, m, sum] = [f.local('f32'), f.local('f32'), f.local('f32')];
  const [mv, v, ex, total, k] = [f.local('v128'), f.local('v128'), f.local('v128'), f.local('v128'), f.local('v128')];
  const zeroGradRow = () =>
    f.get(grad).if(() => e.eachVector(cols, () => f.get(gRow).get(e.i).op('i32.add').f32x4(0).mem('v128.store')));
  const lossAt = () => f.get(loss).get(r).i32(2).op('i32.shl', 'i32.add');
  e.setMask(cols);
  f.forRange(r, 0, rows, 1, () => {
    e.rowAddress(z, r, cols, zRow);
    e.rowAddress(grad, r, cols, gRow);
    f.get(labels).get(r).i32(2).op('i32.shl', 'i32.add').mem('i32.load').set(y);
    f.get(gRow).get(y).i32(2).op('i32.shl', 'i32.add').set(yAt);
    f.get(y).get(ignoreIndex).op('i32.eq').if(
      () => {
        lossAt().f32(0).mem('f32.store');
        zeroGradRow();
      },
      () => {
        f.f32(1).set(w);
        f.get(weights).if(() => f.get(weights).get(y).i32(2).op('i32.shl', 'i32.add').mem('f32.load').set(w));
        e.rowMax(zRow, cols, m);
        f.get(m).f32(-Infinity).op('f32.eq').if(
          () => {
            // No finite logit: p = 0 everywhere, so the loss is w · ∞ and the gradient -w · scale at y.
            lossAt().get(w).f32(Infinity).op('f32.mul').f32(0).get(w).f32(0).op('f32.ne', 'select').mem('f32.store');
            zeroGradRow();
          },
          () => {
            f.get(m).op('f32x4.splat').set(mv);
            e.sumRow(cols, total, (partial) => {
              f.get(zRow).get(e.i).op('i32.add').mem('v128.load').get(mv).op('f32x4.sub');
              if (partial) f.f32x4(-Infinity).get(e.mask).op('v128.bitselect');
              f.set(v);
              e.exp(v, ex);
              f.get(grad).if(() => f.get(gRow).get(e.i).op('i32.add').get(ex).mem('v128.store'));
              f.get(ex);
            });
            e.horizontal(total, 'f32.add', sum);
            lossAt().get(m).get(zRow).get(y).i32(2).op('i32.shl', 'i32.add').mem('f32.load').op('f32.sub').get(sum);
            e.log();
            f.op('f32.add').get(w).op('f32.mul').f32(0).get(w).f32(0).op('f32.ne', 'select').mem('f32.store');
            f.get(grad).if(() => {
              f.get(w).get(scale).op('f32.mul').get(sum).op('f32.div', 'f32x4.splat').set(k);
              e.eachVector(cols, () => {
                f.get(gRow).get(e.i).op('i32.add').tee(e.chunkEnd).get(e.chunkEnd).mem('v128.load').get(k).op('f32x4.mul').mem('v128.store');
              });
            });
          },
        );
        f.get(grad).if(() => {
          f.get(yAt).get(yAt).mem('f32.load').get(w).get(scale).op('f32.mul', 'f32.sub').mem('f32.store');
        });
      },
    );
  });
  return f;
}

/**
 * `sum_rows(t, out, rows, cols, stride)`: totals of `cols` columns of rows `stride` floats
 * apart, four columns at a time; each total adds up blocks of 64 rows summed on their own, so
 * rounding grows with 64 + rows / 64, not rows. A thread sums a band of columns (`stride`
 * the whole row's), so every column's total is the same on any number of threads.
 */
function sumRowsKernel(): FunctionBuilder {
  const f = new FunctionBuilder('sum_rows', ['i32', 'i32', 'i32', 'i32', 'i32']);
  const [t, out, rows, cols, stride] = f.params as [Local, Local, Local, Local, Local];
  const e = new RowEmitter(f);
  const [rowBytes, r0, r, rEnd, at] = [f.local('i32'), f.local('i32'), f.local('i32'), f.local('i32'), f.local('i32')];
  const [total, part] = [f.local('v128'), f.local('v128')];
  f.get(stride).i32(2).op('i32.shl').set(rowBytes);
  e.eachVector(cols, () => {
    f.f32x4(0).set(total);
    f.forRange(r0, 0, rows, 64, () => {
      f.get(r0).i32(64).op('i32.add').set(rEnd);
      f.get(rEnd).get(rows).get(rEnd).get(rows).op('i32.lt_s', 'select').set(rEnd);
      f.f32x4(0).set(part);
      f.get(t).get(e.i).op('i32.add').get(r0).get(rowBytes).op('i32.mul', 'i32.add').set(at);
      f.forRange(r, r0, rEnd, 1, () => {
        f.get(part).get(at).mem('v128.load').op('f32x4.add').set(part);
        f.get(at).get(rowBytes).op('i32.add').set(at);
      });
      f.get(total).get(part).op('f32x4.add').set(total);
    });
    f.get(out).get(e.i).op('i32.add').get(total).mem('v128.store');
  });
  return f;
}

/**
 * `sgd(p, g, v, n, lr, momentum, decay, nesterov)`,
 * `adam(p, g, m, v, n, stepSize, beta1, beta2, epsilon, decay, correction2Sqrt)`,
 * `adamw(p, g, m, v, n, stepSize, beta1, beta2, epsilon, paramScale, correction2Sqrt)` and
 * `rmsprop(p, g, s, a, b, n, lr, alpha, epsilon, decay, momentum)`: in place, each
 * operation rounded to float32 in the order of the reference (../../train.ts) and the WGSL
 * kernels, with no fused multiply-add, so all three take the same steps to the bit. `v` 0 in
 * `sgd` means no momentum buffer; `a` 0 in `rmsprop` means not centered, `b` 0 no momentum.
 */
function optimizerKernels(): FunctionBuilder[] {
  const sgd = new FunctionBuilder('sgd', ['i32', 'i32', 'i32', 'i32', 'f32', 'f32', 'f32', 'i32']);
  {
    const f = sgd;
    const [p, g, v, n, lr, momentum, decay, nesterov] = f.params as [Local, Local, Local, Local, Local, Local, Local, Local];
    const [i, end] = [f.local('i32'), f.local('i32')];
    const [lrv, mv, dv, d, vel] = [f.local('v128'), f.local('v128'), f.local('v128'), f.local('v128'), f.local('v128')];
    f.get(lr).op('f32x4.splat').set(lrv);
    f.get(momentum).op('f32x4.splat').set(mv);
    f.get(decay).op('f32x4.splat').set(dv);
    f.get(n).i32(3).op('i32.add').i32(-4).op('i32.and').i32(2).op('i32.shl').set(end);
    /** Pushes the f32x4 at `base + i`, or (`address`) only its address. */
    const at = (base: Local, address = false) => {
      f.get(base).get(i).op('i32.add');
      if (!address) f.mem('v128.load');
      return f;
    };
    f.forRange(i, 0, end, 16, () => {
      at(g).get(dv);
      at(p).op('f32x4.mul', 'f32x4.add').set(d);
      f.get(v).if(() => {
        at(v, true).get(mv);
        at(v).op('f32x4.mul').get(d).op('f32x4.add').tee(vel).mem('v128.store');
        f.get(nesterov).if(
          () => f.get(d).get(mv).get(vel).op('f32x4.mul', 'f32x4.add').set(d),
          () => f.get(vel).set(d),
        );
      });
      at(p, true);
      at(p).get(lrv).get(d).op('f32x4.mul', 'f32x4.sub').mem('v128.store');
    });
  }
  return [sgd, adamKernel(false), adamKernel(true), rmspropKernel()];
}

/** Adam, or with `decoupled` AdamW, whose `decay` parameter is then the factor that scales `p` first. */
function adamKernel(decoupled: boolean): FunctionBuilder {
  const f = new FunctionBuilder(decoupled ? 'adamw' : 'adam', ['i32', 'i32', 'i32', 'i32', 'i32', 'f32', 'f32', 'f32', 'f32', 'f32', 'f32']);
  const [p, g, m, v, n, stepSize, b1, b2, eps, decay, c2] = f.params as Local[] as [Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local];
  const [i, end] = [f.local('i32'), f.local('i32')];
  const splat = (x: Local) => {
    const l = f.local('v128');
    f.get(x).op('f32x4.splat').set(l);
    return l;
  };
  const [sv, b1v, b2v, epsv, dv, c2v] = [splat(stepSize), splat(b1), splat(b2), splat(eps), splat(decay), splat(c2)];
  const [ob1, ob2] = [f.local('v128'), f.local('v128')];
  f.f32(1).get(b1).op('f32.sub', 'f32x4.splat').set(ob1);
  f.f32(1).get(b2).op('f32.sub', 'f32x4.splat').set(ob2);
  const [d, mi, vi] = [f.local('v128'), f.local('v128'), f.local('v128')];
  f.get(n).i32(3).op('i32.add').i32(-4).op('i32.and').i32(2).op('i32.shl').set(end);
  const at = (base: Local, address = false) => {
    f.get(base).get(i).op('i32.add');
    if (!address) f.mem('v128.load');
    return f;
  };
  f.forRange(i, 0, end, 16, () => {
    if (decoupled) {
      at(g).set(d);
    } else {
      at(g).get(dv);
      at(p).op('f32x4.mul', 'f32x4.add').set(d);
    }
    at(m, true).get(b1v);
    at(m).op('f32x4.mul').get(ob1).get(d).op('f32x4.mul', 'f32x4.add').tee(mi).mem('v128.store');
    at(v, true).get(b2v);
    at(v).op('f32x4.mul').get(ob2).get(d).op('f32x4.mul').get(d).op('f32x4.mul', 'f32x4.add').tee(vi).mem('v128.store');
    at(p, true);
    at(p);
    if (decoupled) f.get(dv).op('f32x4.mul');
    f.get(sv).get(mi);
    f.get(vi).op('f32x4.sqrt').get(c2v).op('f32x4.div').get(epsv).op('f32x4.add');
    f.op('f32x4.div', 'f32x4.mul', 'f32x4.sub').mem('v128.store');
  });
  return f;
}

function rmspropKernel(): FunctionBuilder {
  const f = new FunctionBuilder('rmsprop', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'f32', 'f32', 'f32', 'f32', 'f32']);
  const [p, g, s, a, b, n, lr, alpha, eps, decay, momentum] = f.params as Local[] as [Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local];
  const [i, end] = [f.local('i32'), f.local('i32')];
  const splat = (x: Local) => {
    const l = f.local('v128');
    f.get(x).op('f32x4.splat').set(l);
    return l;
  };
  const [lrv, alphav, epsv, dv, mv] = [splat(lr), splat(alpha), splat(eps), splat(decay), splat(momentum)];
  const rest = f.local('v128');
  f.f32(1).get(alpha).op('f32.sub', 'f32x4.splat').set(rest);
  const [d, si, ai, variance, step] = [f.local('v128'), f.local('v128'), f.local('v128'), f.local('v128'), f.local('v128')];
  f.get(n).i32(3).op('i32.add').i32(-4).op('i32.and').i32(2).op('i32.shl').set(end);
  const at = (base: Local, address = false) => {
    f.get(base).get(i).op('i32.add');
    if (!address) f.mem('v128.load');
    return f;
  };
  f.forRange(i, 0, end, 16, () => {
    at(g).get(dv);
    at(p).op('f32x4.mul', 'f32x4.add').set(d);
    at(s, true).get(alphav);
    at(s).op('f32x4.mul').get(rest).get(d).op('f32x4.mul').get(d).op('f32x4.mul', 'f32x4.add').tee(si).mem('v128.store');
    f.get(si).set(variance);
    f.get(a).if(() => {
      at(a, true).get(alphav);
      at(a).op('f32x4.mul').get(rest).get(d).op('f32x4.mul', 'f32x4.add').tee(ai).mem('v128.store');
      f.get(si).get(ai).get(ai).op('f32x4.mul', 'f32x4.sub').set(variance);
    });
    f.get(d).get(variance).op('f32x4.sqrt').get(epsv).op('f32x4.add', 'f32x4.div').set(step);
    f.get(b).if(() => {
      at(b, true).get(mv);
      at(b).op('f32x4.mul').get(step).op('f32x4.add').tee(step).mem('v128.store');
    });
    at(p, true);
    at(p).get(lrv).get(step).op('f32x4.mul', 'f32x4.sub').mem('v128.store');
  });
  return f;
}

/** The kernels of this file; `fma` lets exp's multiply-adds fuse (the optimizers never do). */
export function rowKernels(fma: boolean): FunctionBuilder[] {
  return [softmaxKernel(false, fma), softmaxKernel(true, fma), softmaxBackwardKernel(), crossEntropyKernel(fma), sumRowsKernel(), ...optimizerKernels()];
}
