import { expect } from 'vitest';

export interface Tolerance {
  readonly rtol: number;
  readonly atol: number;
}

export interface Closeness {
  /** Largest |actual - expected| over finite expected values. */
  readonly maxAbs: number;
  /** Largest |actual - expected| / |expected| over finite, nonzero expected values. */
  readonly maxRel: number;
}

/**
 * Checks `actual` against `expected` elementwise: shapes first, then
 * `|a - e| <= atol + rtol * |e|`. NaN matches only NaN and an infinity only itself.
 * Returns the largest errors so suites can report them.
 */
export function expectAllClose(
  actual: { readonly shape: readonly number[]; readonly data: ArrayLike<number> },
  expected: { readonly shape: readonly number[]; readonly data: ArrayLike<number> },
  { rtol, atol }: Tolerance,
  label = '',
): Closeness {
  expect(actual.shape, `${label}: shape`).toEqual(expected.shape);
  expect(actual.data.length, `${label}: length`).toBe(expected.data.length);
  let maxAbs = 0;
  let maxRel = 0;
  const bad: string[] = [];
  for (let i = 0; i < expected.data.length; i++) {
    const a = actual.data[i]!;
    const e = expected.data[i]!;
    let ok: boolean;
    if (Number.isNaN(e)) ok = Number.isNaN(a);
    else if (!Number.isFinite(e)) ok = a === e;
    else {
      const err = Math.abs(a - e);
      ok = err <= atol + rtol * Math.abs(e);
      if (Number.isFinite(err)) {
        maxAbs = Math.max(maxAbs, err);
        if (e !== 0) maxRel = Math.max(maxRel, err / Math.abs(e));
      }
    }
    if (!ok && bad.length < 5) bad.push(`[${i}] got ${a}, expected ${e}`);
    else if (!ok) bad.push('');
  }
  if (bad.length > 0) {
    expect.fail(
      `${label}: ${bad.length} of ${expected.data.length} elements differ beyond rtol ${rtol}, atol ${atol}: ` +
        bad.filter((s) => s !== '').join('; '),
    );
  }
  return { maxAbs, maxRel };
}
