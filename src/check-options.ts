import { describe } from './describe.js';
import { ValueError } from './errors.js';

/**
 * Refuses an options object holding a key the API does not know, naming the key and, where a
 * known key is close to it, the one probably meant. In plain JavaScript nothing else catches a
 * typo, and an ignored `epoch: 50` trains one epoch in silence. `path` prefixes nested objects'
 * keys (`'optimizer.'`). `undefined` and `null` options pass: they mean "all defaults".
 *
 * @example
 * checkKnownKeys('fit', { epoch: 50 }, ['epochs', 'batchSize']);
 * // ValueError: fit: unknown option 'epoch' (did you mean 'epochs'?)
 */
export function checkKnownKeys(where: string, options: unknown, known: readonly string[], path = ''): void {
  if (options === undefined || options === null) return;
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new ValueError(`${where}: ${path === '' ? 'options' : path.slice(0, -1)} must be an object, got ${Array.isArray(options) ? 'an array' : describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const near = closest(key, known);
    throw new ValueError(`${where}: unknown option '${path}${key}'${near === null ? '' : ` (did you mean '${path}${near}'?)`}`);
  }
}

/**
 * `checkKnownKeys` for a union tagged by `type` (an optimizer, a schedule): the keys of the
 * member `options.type` names, or, where the type is unknown, the keys of every member, so
 * that `{ typ: 'adam' }` is told about `typ` before `type` is found missing.
 */
export function checkTaggedKeys(where: string, options: unknown, byType: Readonly<Record<string, readonly string[]>>, path = ''): void {
  const type = (options as { type?: unknown } | null | undefined)?.type;
  const known = typeof type === 'string' && Object.hasOwn(byType, type) ? byType[type]! : [...new Set(Object.values(byType).flat())];
  checkKnownKeys(where, options, known, path);
}

/**
 * The keys of an options type, as the list `checkKnownKeys` takes. Written as an object with
 * every key of `T` set to `true`, so the compiler holds list and type together: a key added to
 * the type and not here, or listed here and not in the type, fails to typecheck.
 *
 * @example
 * export const SUM_KEYS = keysOf<SumOptions>({ axis: true });
 */
export function keysOf<T extends object>(keys: { readonly [K in keyof Required<T>]: true }): readonly string[] {
  return Object.keys(keys);
}

/**
 * Refuses a call with more arguments than the function takes: `ctx.softmax(z, 'float16')`
 * must not drop its second argument in silence. Pass `arguments.length`; `hint` says what the
 * caller may have meant.
 */
export function checkArity(where: string, given: number, most: number, hint = ''): void {
  if (given > most) {
    throw new ValueError(`${where}: takes at most ${most} argument${most === 1 ? '' : 's'}, got ${given}${hint === '' ? '' : `; ${hint}`}`);
  }
}

/** The known key a typo most likely meant: the same letters in another case, within a few edits, or its stem (`reduce`, `reduction`). */
function closest(key: string, known: readonly string[]): string | null {
  const lower = key.toLowerCase();
  let best: string | null = null;
  let bestDistance = Math.max(1, Math.floor(key.length / 3)) + 1;
  for (const candidate of known) {
    const other = candidate.toLowerCase();
    if (other === lower) return candidate;
    const d = Math.min(editDistance(lower, other), stem(lower, other));
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** 1 where two words begin alike for 4 letters and most of the shorter one (a shared stem); else Infinity. */
function stem(a: string, b: string): number {
  let shared = 0;
  while (shared < a.length && a[shared] === b[shared]) shared++;
  return shared >= Math.max(4, 0.75 * Math.min(a.length, b.length)) ? 1 : Infinity;
}

/** Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of two neighbours. */
function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d = new Array<number>(rows * cols).fill(0);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[(i - 1) * cols + j]! + 1, d[i * cols + j - 1]! + 1, d[(i - 1) * cols + j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[(i - 2) * cols + j - 2]! + 1);
      d[i * cols + j] = v;
    }
  }
  return d[rows * cols - 1]!;
}
