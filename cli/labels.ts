// Class ids from label values, as scikit-learn's LabelEncoder gives them: the distinct values
// sorted, numbers by value when every label is a number (as pandas would have read the column),
// else strings by code point (as Python sorts str), each value's id its place in that order.

/** Collects the labels of a stream of rows; `finish` turns them into class ids and names. */
export class LabelCollector {
  readonly #provisional = new Map<string, number>();
  readonly #firstSeen: string[] = [];
  #ids = new Int32Array(1024);
  #rows = 0;
  #numeric = true;

  add(value: string): void {
    const key = value.trim();
    let id = this.#provisional.get(key);
    if (id === undefined) {
      id = this.#firstSeen.length;
      this.#provisional.set(key, id);
      this.#firstSeen.push(key);
      if (key === '' || !Number.isFinite(Number(key))) this.#numeric = false;
    }
    if (this.#rows === this.#ids.length) {
      const grown = new Int32Array(this.#ids.length * 2);
      grown.set(this.#ids);
      this.#ids = grown;
    }
    this.#ids[this.#rows++] = id;
  }

  get rows(): number {
    return this.#rows;
  }

  /** The class id of every row and the class names, in LabelEncoder's order. */
  finish(): { ids: Int32Array; names: string[] } {
    const keys = this.#firstSeen;
    // Numeric labels that spell one number two ways ("1", "1.0") are one class, as in pandas.
    const nameOf = (key: string) => (this.#numeric ? String(Number(key)) : key);
    const names = [...new Set(keys.map(nameOf))].sort(this.#numeric ? (a, b) => Number(a) - Number(b) : compareCodePoints);
    const idOfName = new Map(names.map((name, id) => [name, id]));
    const remap = Int32Array.from(keys, (key) => idOfName.get(nameOf(key))!);
    const ids = this.#ids.slice(0, this.#rows);
    for (let i = 0; i < ids.length; i++) ids[i] = remap[ids[i]!]!;
    return { ids, names };
  }
}

/** Python's order of str: by Unicode code point (JavaScript's `<` compares UTF-16 units). */
export function compareCodePoints(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}
