import { FunctionBuilder, type Local } from './assembler.js';

/**
 * `widen_f16(src, dst, n)`: `n` IEEE halves at `src` as float32 at `dst`, exactly (the same
 * values as src/float16.ts's table and WGSL's unpack2x16float), four per step:
 *
 *   magnitude = (h & 0x7fff) << 13   the half's exponent and mantissa in a float32's places
 *   value     = magnitude * 2^112    rebiases the exponent (15 -> 127); subnormal halves land
 *                                    on float32 normals, exactly, since Wasm SIMD keeps subnormals
 *   Inf, NaN  = magnitude | 0x7f800000, where the half's exponent is all ones (payload kept)
 *   sign      = (h & 0x8000) << 16
 *
 * The last step may read up to 3 halves past `src + n` and write up to 3 floats past
 * `dst + n`: callers widen whole rows in increasing order (the next row overwrites the
 * spill), into a block whose SLACK takes the last one's.
 */
export function widenKernel(): FunctionBuilder {
  const f = new FunctionBuilder('widen_f16', ['i32', 'i32', 'i32']);
  const [src, dst, n] = f.params as [Local, Local, Local];
  const [i, h, magnitude] = [f.local('i32'), f.local('v128'), f.local('v128')];
  f.forRange(i, 0, n, 4, () => {
    f.get(src).get(i).i32(1).op('i32.shl', 'i32.add').mem('v128.load64_zero').op('i32x4.extend_low_i16x8_u').set(h);
    f.get(h).i32x4(0x7fff).op('v128.and').i32(13).op('i32x4.shl').set(magnitude);
    // dst + 4i, then bitselect(Inf/NaN bits, rebiased value, exponent all ones) | sign.
    f.get(dst).get(i).i32(2).op('i32.shl', 'i32.add');
    f.get(magnitude).i32x4(0x7f800000).op('v128.or');
    f.get(magnitude).f32x4(2 ** 112).op('f32x4.mul');
    f.get(magnitude).i32x4(0x0f7fffff).op('i32x4.gt_s');
    f.op('v128.bitselect');
    f.get(h).i32x4(0x8000).op('v128.and').i32(16).op('i32x4.shl').op('v128.or');
    f.mem('v128.store');
  });
  return f;
}
