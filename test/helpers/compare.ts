/**
 * How close is close. `rtol` is relative to each expected element. `atol` is in units of the
 * output's own scale (see `scaleOf`) wherever that scale is below 1, and absolute above it: an
 * absolute 1e-5 would be all of a 2x100 000 softmax (values about 1e-5) or of a mean gradient
 * over 70 000 rows (about 1e-6), so a 10 % error there would pass where at 4x5 it fails. Scaled,
 * an error of e relative to the output's typical magnitude fails alike at every size once
 * e > rtol + atol; and no output is held more loosely than an absolute `atol` would hold it.
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
 * An output's typical magnitude: the median |value| over its finite, nonzero elements (1 when
 * there are none). A median, not a mean or a norm, so that the one huge loss of a row of
 * -1e30 logits, or the zeros of masked classes, do not set the scale of everything else.
 */
export function scaleOf(data: ArrayLike<number>): number {
  const magnitudes = new Float64Array(data.length);
  let n = 0;
  for (let i = 0; i < data.length; i++) {
    const v = Math.abs(data[i]!);
    if (v > 0 && Number.isFinite(v)) magnitudes[n++] = v;
  }
  if (n === 0) return 1;
  const sorted = magnitudes.subarray(0, n).sort();
  return n % 2 === 1 ? sorted[n >> 1]! : (sorted[(n >> 1) - 1]! + sorted[n >> 1]!) / 2;
}

/**
 * Compares elementwise: shapes first, then `|a - e| <= atol * min(1, scale) + rtol * |e|`.
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
  const absolute = atol * Math.min(1, scale);
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
    failures.unshift(`${bad} of ${expected.data.length} elements differ beyond rtol ${rtol}, atol ${atol} × scale ${scale.toExponential(2)} = ${absolute.toExponential(2)}`);
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
