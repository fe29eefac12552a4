import { readFileSync } from 'node:fs';
import type { FixtureCase } from './cases.js';

export const FIXTURE_FILES = ['softmax', 'matmul', 'cross-entropy', 'linear-cross-entropy', 'sum'] as const;

export function loadFixtures(file: (typeof FIXTURE_FILES)[number]): FixtureCase[] {
  const url = new URL(`../fixtures/${file}.json`, import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { cases: FixtureCase[] }).cases;
}
