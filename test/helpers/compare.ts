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
  /** Largest |actual - expected| / (atol + rtol |expected|): the share of the tolerance used, at most 1 when close. */
  readonly used: number;
}

/**
 * Compares elementwise: shapes first, then `|a - e| <= atol + rtol * |e|`. NaN matches only
 * NaN and an infinity only itself. Plain code, so the browser suites use it too.
 */
export function compare(actual: Result, expected: Result, { rtol, atol }: Tolerance): Comparison {
  const sameShape = actual.shape.length === expected.shape.length && actual.shape.every((d, i) => d === expected.shape[i]);
  if (!sameShape || actual.data.length !== expected.data.length) {
    return {
      failures: [`shape [${actual.shape.join(', ')}] (${actual.data.length} values), expected [${expected.shape.join(', ')}] (${expected.data.length})`],
      maxAbs: Infinity,
      maxRel: Infinity,
      used: Infinity,
    };
  }
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
      ok = err <= atol + rtol * Math.abs(e);
      used = Math.max(used, err / (atol + rtol * Math.abs(e)));
      if (Number.isFinite(err)) {
        maxAbs = Math.max(maxAbs, err);
        if (e !== 0) maxRel = Math.max(maxRel, err / Math.abs(e));
      }
    }
    if (!ok && bad++ < 5) failures.push(`[${i}] got ${a}, expected ${e}`);
  }
  if (bad > 0) failures.unshift(`${bad} of ${expected.data.length} elements differ beyond rtol ${rtol}, atol ${atol}`);
  return { failures, maxAbs, maxRel, used };
}
