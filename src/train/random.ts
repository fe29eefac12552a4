/**
 * A small, fast, seeded generator (mulberry32), so every random choice of a training run
 * (initial weights, shuffling, data splits) repeats exactly from its seed, on every backend.
 *
 * @example
 * const random = new Random(1);
 * const order = random.permutation(10); // the same order for seed 1, every time
 */
export class Random {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** @internal Where the stream stands (a uint32), for a checkpoint to save and restore. */
  get state(): number {
    return this.#state;
  }

  /** @internal */
  set state(state: number) {
    this.#state = state >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform in [low, high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  /** 0 .. n - 1 in a uniformly random order (Fisher-Yates). */
  permutation(n: number): Int32Array {
    const order = Int32Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
    }
    return order;
  }
}
