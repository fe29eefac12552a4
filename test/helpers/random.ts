import { Random } from '../../src/train/random.js';

/** `n` float32 values uniform in [-scale, scale), from `seed`. */
export function uniform(n: number, seed: number, scale = 1): Float32Array {
  const random = new Random(seed);
  return Float32Array.from({ length: n }, () => random.uniform(-scale, scale));
}

/** `n` class ids in [0, classes), from `seed`. */
export function labels(n: number, classes: number, seed: number): Int32Array {
  const random = new Random(seed);
  return Int32Array.from({ length: n }, () => Math.floor(random.next() * classes));
}
