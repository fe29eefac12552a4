// IEEE 754 binary16 ("half") on the host: the rounding `ctx.tensor(float32s, shape, 'float16')`
// applies and the widening `read()` applies. The kernels widen in the same exact way
// (WGSL's unpack2x16float, the Wasm kernel in cpu/wasm/kernels/float16.ts), so every backend
// computes on the very same float32 values.

const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);
let table: Float32Array | null = null;

/** The float32 value of every half, indexed by its bits: exact, NaN payloads kept. */
export function halfTable(): Float32Array {
  if (table !== null) return table;
  const bits = new Uint32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = (h & 0x8000) << 16;
    const exponent = (h >> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    if (exponent === 0x1f) bits[h] = sign | 0x7f800000 | (mantissa << 13);
    else if (exponent !== 0) bits[h] = sign | ((exponent + 112) << 23) | (mantissa << 13);
    else {
      // A subnormal half, m * 2^-24, is a normal float32: set it through its exact value.
      scratch[0] = (sign === 0 ? 1 : -1) * mantissa * 2 ** -24;
      bits[h] = scratchBits[0]! | sign;
    }
  }
  table = new Float32Array(bits.buffer);
  return table;
}

/**
 * The half nearest to float32 `x`, ties to even, as IEEE 754 rounds: beyond 65504 (from
 * 65520 on) it is Infinity, below 2^-25 it is a signed zero, in between subnormals where due;
 * a NaN stays a NaN with its sign and the top bits of its payload.
 */
export function halfBits(x: number): number {
  scratch[0] = x;
  const b = scratchBits[0]!;
  const sign = (b >>> 16) & 0x8000;
  const exponent = (b >>> 23) & 0xff;
  const mantissa = b & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa === 0 ? 0 : mantissa >>> 13 || 0x200);
  const e = exponent - 112;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e > 0) {
    // Drop 13 bits, rounding to nearest even; a carry out of the mantissa steps the exponent
    // (and from the largest half, to Infinity), as it should.
    let h = (e << 10) | (mantissa >>> 13);
    const rest = mantissa & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h++;
    return sign | h;
  }
  // A subnormal half: the significand with its leading 1, in units of 2^-24.
  const shift = 14 - e;
  if (shift > 24) return sign;
  const m = mantissa | 0x800000;
  let h = m >>> shift;
  const rest = m & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  if (rest > half || (rest === half && (h & 1) === 1)) h++;
  return sign | h;
}

/** Each float32 of `values` rounded to the nearest half, as bits. */
export function toHalves(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = halfBits(values[i]!);
  return out;
}

/** Each half of `bits` as the float32 it is exactly. */
export function fromHalves(bits: Uint16Array): Float32Array {
  const t = halfTable();
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = t[bits[i]!]!;
  return out;
}
