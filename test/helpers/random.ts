/** A small seeded generator (mulberry32), so every test input is reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` float32 values uniform in [-scale, scale). */
export function uniform(n: number, seed: number, scale = 1): Float32Array {
  const next = rng(seed);
  return Float32Array.from({ length: n }, () => (next() * 2 - 1) * scale);
}

/** `n` class ids in [0, classes). */
export function labels(n: number, classes: number, seed: number): Int32Array {
  const next = rng(seed);
  return Int32Array.from({ length: n }, () => Math.floor(next() * classes));
}
