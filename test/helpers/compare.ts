/**
 * How close is close: `|a - e| <= rtol * |e| + min(atol, rtol * scale)`, where `scale` is the
 * output's typical magnitude (`scaleOf`). `rtol` holds each element to its own size; near zero
 * (a cancellation in a gradient or a matmul) an element may be off by `rtol` of the output's
 * scale, but never by more than the absolute `atol`. An absolute atol alone of 1e-5 would be
 * all of a 2x100 000 softmax (values about 1e-5) or of a mean gradient over 70 000 rows (about
 * 1e-6), where a 10 % error would then pass; scaled, an error that is a share of the output's
 * own size fails alike at every size, and nothing is held more loosely than `atol` held it.
 */
export interface Tolerance {
  readonly rtol: number;
  readonly atol: number;
}

export interface Result {
  readonly shape: readonly number[];
  readonly data: ArrayLike<number>;
}

export interface Comparison {
  /** What differs, first the shape, then up to five elements; empty when all is close. */
  readonly failures: readonly string[];
  /** Largest |actual - expected| over finite expected values. */
  readonly maxAbs: number;
  /** Largest |actual - expected| / |expected| over finite, nonzero expected values. */
  readonly maxRel: number;
  /** Largest |actual - expected| / (atol' + rtol |expected|): the share of the tolerance used, at most 1 when close. */
  readonly used: number;
  /** The output's scale (`scaleOf(expected)`), and the absolute tolerance it gave. */
  readonly scale: number;
  readonly atol: number;
}

/**
 * An output's typical magnitude: the root mean square of its finite values (1 when it has none).
 * The rounding of float32 arithmetic is relative to the size of the terms an element is made
 * of, which the output's RMS follows and a near-zero element does not. A huge outlier (the loss
 * of a row of -1e30 logits) inflates it, but only where the scale is large, where `atol` caps it.
 */
export function scaleOf(data: ArrayLike<number>): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (Number.isFinite(v)) {
      sum += v * v;
      n++;
    }
  }
  const rms = Math.sqrt(sum / n);
  return n === 0 || rms === 0 ? 1 : Number.isFinite(rms) ? rms : Number.MAX_VALUE;
}

/**
 * Compares elementwise: shapes first, then `|a - e| <= rtol * |e| + min(atol, rtol * scale)`.
 * NaN matches only NaN and an infinity only itself. Plain code, so the browser suites use it too.
 */
export function compare(actual: Result, expected: Result, { rtol, atol }: Tolerance): Comparison {
  const sameShape = actual.shape.length === expected.shape.length && actual.shape.every((d, i) => d === expected.shape[i]);
  if (!sameShape || actual.data.length !== expected.data.length) {
    return {
      failures: [`shape [${actual.shape.join(', ')}] (${actual.data.length} values), expected [${expected.shape.join(', ')}] (${expected.data.length})`],
      maxAbs: Infinity,
      maxRel: Infinity,
      used: Infinity,
      scale: NaN,
      atol: NaN,
    };
  }
  const scale = scaleOf(expected.data);
  const absolute = Math.min(atol, rtol * scale);
  let maxAbs = 0;
  let maxRel = 0;
  let used = 0;
  let bad = 0;
  const failures: string[] = [];
  for (let i = 0; i < expected.data.length; i++) {
    const a = actual.data[i]!;
    const e = expected.data[i]!;
    let ok: boolean;
    if (Number.isNaN(e)) ok = Number.isNaN(a);
    else if (!Number.isFinite(e)) ok = a === e;
    else {
      const err = Math.abs(a - e);
      const allowed = absolute + rtol * Math.abs(e);
      ok = err <= allowed;
      used = Math.max(used, allowed === 0 ? (err === 0 ? 0 : Infinity) : err / allowed);
      if (Number.isFinite(err)) {
        maxAbs = Math.max(maxAbs, err);
        if (e !== 0) maxRel = Math.max(maxRel, err / Math.abs(e));
      }
    }
    if (!ok && bad++ < 5) failures.push(`[${i}] got ${a}, expected ${e}`);
  }
  if (bad > 0) {
    failures.unshift(`${bad} of ${expected.data.length} elements differ beyond rtol ${rtol} and min(atol ${atol}, rtol × scale ${scale.toExponential(2)}) = ${absolute.toExponential(2)}`);
  }
  return { failures, maxAbs, maxRel, used, scale, atol: absolute };
}

/** A case's outputs by name; null where the op returned none (a `gradBias` without a bias). */
export type Outputs = Readonly<Record<string, Result | null>>;

/**
 * Compares every EXPECTED output: one that is missing, or null where a value is expected (or
 * the reverse), fails, so an output that goes missing cannot slip through uncompared. Outputs
 * the expectation does not name are not compared (a fixture may leave out a large gradient).
 */
export function compareOutputs(actual: Outputs, expected: Outputs, tolerance: Tolerance): Map<string, Comparison> {
  const results = new Map<string, Comparison>();
  const missing = (failure: string): Comparison => ({ failures: [failure], maxAbs: Infinity, maxRel: Infinity, used: Infinity, scale: NaN, atol: NaN });
  for (const [name, want] of Object.entries(expected)) {
    const got = Object.hasOwn(actual, name) ? actual[name] : undefined;
    if (got === undefined) results.set(name, missing(`${name}: missing; the op returned only ${Object.keys(actual).join(', ') || 'nothing'}`));
    else if (want === null && got === null) continue;
    else if (want === null) results.set(name, missing(`${name}: expected none (null), got a [${got!.shape.join(', ')}] result`));
    else if (got === null) results.set(name, missing(`${name}: null, expected [${want.shape.join(', ')}]`));
    else {
      const c = compare(got, want, tolerance);
      results.set(name, { ...c, failures: c.failures.map((f) => `${name}: ${f}`) });
    }
  }
  return results;
}
