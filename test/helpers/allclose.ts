import { expect } from 'vitest';
import { compare, type Comparison, type Result, type Tolerance } from './compare.js';

/** `compare`, as a Vitest assertion that names `label` and returns the largest errors. */
export function expectAllClose(actual: Result, expected: Result, tolerance: Tolerance, label = ''): Comparison {
  const comparison = compare(actual, expected, tolerance);
  if (comparison.failures.length > 0) expect.fail(`${label}: ${comparison.failures.join('; ')}`);
  return comparison;
}
