import type { MatmulPlan } from '../backend.js';
import { checkArity, checkKnownKeys, keysOf } from '../check-options.js';
import { ShapeError } from '../errors.js';
import { formatShape, type Shape } from '../shape.js';

/**
 * What `ctx.matmul` takes.
 *
 * @example
 * ```ts
 * const dw = ctx.matmul(x, grad, { transposeA: true }); // xᵀ · grad
 * const z = ctx.matmul(x, w, { bias: b });             // x · w + b
 * ```
 */
export interface MatmulOptions<T> {
  /** Use `a` as `[K, M]` (or `[B, K, M]`), i.e. multiply by its transpose. */
  readonly transposeA?: boolean;
  /** Use `b` as `[N, K]` (or `[B, N, K]`), i.e. multiply by its transpose. */
  readonly transposeB?: boolean;
  /** A float32 `[N]` added to every output row. */
  readonly bias?: T;
}

const MATMUL_KEYS = keysOf<MatmulOptions<unknown>>({ transposeA: true, transposeB: true, bias: true });

/** Refuses extra arguments and options `matmul` does not know, before anything else is looked at. */
export function checkMatmulCall(given: number, options: unknown): void {
  checkArity('matmul', given, 3);
  checkKnownKeys('matmul', options, MATMUL_KEYS);
}

/**
 * Checks `op(a) · op(b) + bias` and returns the plan and the output shape. A 2-D operand is
 * shared by every entry of the other's batch; two batched operands must have equal batches.
 */
export function planMatmul(
  a: Shape,
  b: Shape,
  bias: Shape | null,
  transposeA: boolean,
  transposeB: boolean,
): { plan: MatmulPlan; shape: Shape } {
  const describe = () =>
    `a is ${formatShape(a)}${transposeA ? ' (transposed)' : ''}, ` +
    `b is ${formatShape(b)}${transposeB ? ' (transposed)' : ''}`;
  for (const [name, s] of [['a', a], ['b', b]] as const) {
    if (s.length !== 2 && s.length !== 3) {
      throw new ShapeError(`matmul: ${name} must be 2-D or 3-D, ${describe()}`);
    }
  }
  const [aRows, aCols] = a.slice(-2) as [number, number];
  const [bRows, bCols] = b.slice(-2) as [number, number];
  const [m, ka] = transposeA ? [aCols, aRows] : [aRows, aCols];
  const [kb, n] = transposeB ? [bCols, bRows] : [bRows, bCols];
  if (ka !== kb) {
    throw new ShapeError(`matmul: inner dimensions differ (${ka} vs ${kb}): ${describe()}`);
  }
  const aBatch = a.length === 3 ? a[0]! : null;
  const bBatch = b.length === 3 ? b[0]! : null;
  if (aBatch !== null && bBatch !== null && aBatch !== bBatch) {
    throw new ShapeError(`matmul: batch sizes differ (${aBatch} vs ${bBatch}): ${describe()}`);
  }
  if (bias !== null && (bias.length !== 1 || bias[0] !== n)) {
    throw new ShapeError(
      `matmul: bias must be [${n}] to match the output's ${n} columns, got ${formatShape(bias)}; ${describe()}`,
    );
  }
  const batch = aBatch ?? bBatch;
  const plan: MatmulPlan = {
    batch: batch ?? 1,
    m,
    k: ka,
    n,
    transposeA,
    transposeB,
    aBatchStride: aBatch === null ? 0 : m * ka,
    bBatchStride: bBatch === null ? 0 : ka * n,
  };
  return { plan, shape: batch === null ? [m, n] : [batch, m, n] };
}
