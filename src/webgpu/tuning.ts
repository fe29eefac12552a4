import type { Candidate } from './candidates.js';
import type { TunedChoice } from '../tuning-table.js';

/**
 * The tuned choice per shape class, consulted by every dispatch: a class with a choice runs
 * that candidate first, the rest in the rule's order behind it (a refused or failing choice
 * still falls back). Classes without one keep the rule.
 */
export class TunedChoices {
  readonly #choices = new Map<string, TunedChoice>();
  /** The candidates' names of each class dispatched so far, in the rule's order. */
  readonly seen = new Map<string, readonly string[]>();
  /** While set, dispatches of this class run only the candidate of this name (the tuner timing it). */
  forced: { readonly klass: string; readonly name: string } | null = null;

  get entries(): Readonly<Record<string, TunedChoice>> {
    return Object.fromEntries(this.#choices);
  }

  set(klass: string, choice: TunedChoice): void {
    this.#choices.set(klass, choice);
  }

  has(klass: string): boolean {
    return this.#choices.has(klass);
  }

  /** `candidates` with the tuned one for `klass` first (or only the forced one, while tuning). */
  order(klass: string, candidates: readonly Candidate[]): readonly Candidate[] {
    if (!this.seen.has(klass)) this.seen.set(klass, candidates.map((c) => c.name));
    if (this.forced?.klass === klass) return candidates.filter((c) => c.name === this.forced!.name);
    const choice = this.#choices.get(klass)?.choice;
    const tuned = choice === undefined ? undefined : candidates.find((c) => c.name === choice);
    return tuned === undefined ? candidates : [tuned, ...candidates.filter((c) => c !== tuned)];
  }
}

/** A row op's shape class: its length, bucketed where the best launch changes. */
export function rowClass(op: string, cols: number): string {
  return `${op} cols<=${cols <= 32 ? 32 : cols <= 1024 ? 1024 : cols <= 8192 ? 8192 : 'inf'}`;
}
