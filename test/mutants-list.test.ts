import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script, without types.
import { MUTANTS } from '../scripts/mutants.mjs';

// `npm run mutants` finds each mutant's text in its file and plants it; it is not part of
// `npm test`. Code that moves leaves a mutant pointing at nothing, which only that run would
// notice (four had gone stale when src/train was split and the optimizers reworked): this keeps
// every mutant aimed at text that is there, once.
describe('npm run mutants', () => {
  it.each((MUTANTS as { id: string; file: string; find: string }[]).map((m) => [m.id, m] as const))('%s finds its text once in its file', (_id, m) => {
    const source = readFileSync(new URL(`../${m.file}`, import.meta.url), 'utf8');
    expect(source.split(m.find).length - 1).toBe(1);
  });
});
