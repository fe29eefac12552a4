// The benchmark's cases, described once: Node and the browser run exactly this list, and the
// report turns times into rates with the work models below. No environment-specific imports.

interface CaseBase {
  /** Stable id, used in the JSON and with `--cases`. */
  readonly id: string;
  /** What a reader sees in the tables and the chart. */
  readonly title: string;
  /**
   * Part of `--quick`. Left out: the cases where the slowest contenders (tfjs-webgpu and
   * tfjs-cpu on a software adapter) need seconds to tens of seconds per iteration.
   */
  readonly quick: boolean;
}

/** `op(a) · b` with `a` `[m, k]` (stored `[k, m]` when `transposeA`) and `b` `[k, n]`. */
export interface MatmulCase extends CaseBase {
  readonly kind: 'matmul';
  readonly m: number;
  readonly k: number;
  readonly n: number;
  readonly transposeA: boolean;
}

/** A row-wise kernel on logits `[rows, cols]`: softmax, or the mean cross-entropy with its gradient. */
export interface RowsCase extends CaseBase {
  readonly kind: 'softmax' | 'crossEntropy';
  readonly rows: number;
  readonly cols: number;
}

/** One SGD step of softmax regression on a fixed synthetic batch. */
export interface TrainStepCase extends CaseBase {
  readonly kind: 'trainStep';
  readonly batch: number;
  readonly features: number;
  readonly classes: number;
  readonly learningRate: number;
}

/**
 * One Adam step of a one-hidden-layer MLP head, `features → hidden (relu) → classes`, on a
 * fixed synthetic batch. Forward and backward are about 6·batch·(features·hidden +
 * hidden·classes) FLOPs (61 MFLOP at 128×784→100→10), the report's figure stays ms per step.
 */
export interface MlpStepCase extends CaseBase {
  readonly kind: 'mlpStep';
  readonly batch: number;
  readonly features: number;
  readonly hidden: number;
  readonly classes: number;
  readonly learningRate: number;
}

/** One epoch of SGD over the project's fixed MNIST training split, shuffled batches. */
export interface EpochCase extends CaseBase {
  readonly kind: 'epoch';
  readonly rows: number;
  readonly batch: number;
  readonly features: number;
  readonly classes: number;
  readonly learningRate: number;
  /** Seeds the shuffling, so every contender sees the same batches. */
  readonly seed: number;
}

/**
 * Loss and gradients of a linear layer under cross-entropy, `x` `[rows, features]`, `W`
 * `[features, classes]`, a bias: `fused` through `linearCrossEntropyWithGrad`, else the chain
 * matmul → crossEntropyWithGrad → dz·Wᵀ, xᵀ·dz, Σdz (TensorFlow.js: `softmaxCrossEntropy` of
 * `matMul` under `grads`). A `beyond` case's logits exceed what one buffer may bind, so only the
 * fused op runs it, and only on the GPU.
 */
export interface LinearCrossEntropyCase extends CaseBase {
  readonly kind: 'linearCrossEntropy';
  readonly rows: number;
  readonly features: number;
  readonly classes: number;
  readonly fused: boolean;
  readonly beyond: boolean;
}

export type BenchCase = MatmulCase | RowsCase | TrainStepCase | MlpStepCase | EpochCase | LinearCrossEntropyCase;

/** Which panel of the report a case belongs to. */
export type CaseGroup = 'matmul' | 'rows' | 'training' | 'linear';

function matmul(id: string, title: string, m: number, k: number, n: number, transposeA: boolean, quick: boolean): MatmulCase {
  return { kind: 'matmul', id, title, m, k, n, transposeA, quick };
}

function rows(kind: RowsCase['kind'], r: number, c: number, quick: boolean): RowsCase {
  const name = kind === 'softmax' ? 'softmax' : 'CE + grad';
  return { kind, id: `${kind === 'softmax' ? 'softmax' : 'ce'}-${r}x${c}`, title: `${name} ${r}×${c}`, rows: r, cols: c, quick };
}

function linearCe(r: number, d: number, c: number, fused: boolean, beyond = false): LinearCrossEntropyCase {
  return {
    kind: 'linearCrossEntropy',
    id: `lce-${fused ? 'fused' : 'unfused'}-${r}x${d}x${c}`,
    title: `${fused ? 'fused' : 'unfused'} linear CE ${r}×${d}→${c}`,
    rows: r,
    features: d,
    classes: c,
    fused,
    beyond,
    quick: false,
  };
}

/** Every case, in report order. */
export const CASES: readonly BenchCase[] = [
  matmul('matmul-512', 'matmul 512³', 512, 512, 512, false, true),
  matmul('matmul-1024', 'matmul 1024³', 1024, 1024, 1024, false, false),
  // The classifier's own shapes: logits xW, and the weight gradient xᵀ dz (a transposed, K-heavy product).
  matmul('matmul-xw', 'xW 1024×784·784×10', 1024, 784, 10, false, true),
  matmul('matmul-dw', 'xᵀdz 784×1024·1024×10', 784, 1024, 10, true, true),
  rows('softmax', 4096, 10, true),
  rows('crossEntropy', 4096, 10, true),
  rows('softmax', 1024, 1000, true),
  rows('crossEntropy', 1024, 1000, true),
  // GPT-2's vocabulary: few long rows.
  rows('softmax', 64, 50257, false),
  rows('crossEntropy', 64, 50257, false),
  { kind: 'trainStep', id: 'step-1024x784x10', title: 'train step 1024×784→10', batch: 1024, features: 784, classes: 10, learningRate: 0.5, quick: true },
  { kind: 'trainStep', id: 'step-256x512x10000', title: 'train step 256×512→10000', batch: 256, features: 512, classes: 10000, learningRate: 0.5, quick: false },
  // A classifier head as users train it on embeddings: one hidden layer, Adam.
  { kind: 'mlpStep', id: 'mlp-128x784x100x10', title: 'MLP Adam step 128×784→100→10', batch: 128, features: 784, hidden: 100, classes: 10, learningRate: 1e-3, quick: true },
  // Fused against unfused linear cross-entropy with gradients, at GPT-2's vocabulary too, and
  // one shape whose logits (6144 × 50257 × 4 bytes = 1.24 GB) no binding can hold (the unfused
  // chain is refused there).
  ...[[1024, 256, 1000], [256, 256, 10_000], [256, 128, 50_257]].flatMap(([r, d, c]) => [linearCe(r!, d!, c!, true), linearCe(r!, d!, c!, false)]),
  linearCe(6144, 32, 50_257, true, true),
  linearCe(6144, 32, 50_257, false, true),
  { kind: 'epoch', id: 'mnist-epoch', title: 'MNIST epoch (8000 rows, batch 128)', rows: 8000, batch: 128, features: 784, classes: 10, learningRate: 0.5, seed: 1, quick: false },
];

export function groupOf(c: BenchCase): CaseGroup {
  if (c.kind === 'matmul') return 'matmul';
  if (c.kind === 'softmax' || c.kind === 'crossEntropy') return 'rows';
  if (c.kind === 'linearCrossEntropy') return 'linear';
  return 'training';
}

/**
 * How a time becomes a figure worth comparing.
 * - matmul: 2·m·k·n floating-point operations (a multiply and an add per term).
 * - softmax: 8 bytes per logit, the least traffic the op needs (read each logit once, write
 *   each probability once).
 * - cross-entropy with gradient: 8 bytes per logit (read the logits once, write the gradient
 *   once); the 4-byte class ids, the loss and any one-hot copy a library makes are not counted.
 * - training: plain milliseconds per step or per epoch, lower is better.
 */
export type WorkModel =
  | { readonly unit: 'GFLOP/s'; readonly flops: number }
  | { readonly unit: 'GB/s'; readonly bytes: number }
  | { readonly unit: 'ms'; readonly per: 'step' | 'epoch' };

export function workOf(c: BenchCase): WorkModel {
  switch (c.kind) {
    case 'matmul':
      return { unit: 'GFLOP/s', flops: 2 * c.m * c.k * c.n };
    case 'softmax':
    case 'crossEntropy':
      return { unit: 'GB/s', bytes: 8 * c.rows * c.cols };
    case 'trainStep':
    case 'mlpStep':
    case 'linearCrossEntropy':
      return { unit: 'ms', per: 'step' };
    case 'epoch':
      return { unit: 'ms', per: 'epoch' };
  }
}

/** The figure for one iteration of `ms` milliseconds: GFLOP/s, GB/s, or the milliseconds themselves. */
export function rate(c: BenchCase, ms: number): number {
  const work = workOf(c);
  if (work.unit === 'GFLOP/s') return work.flops / ms / 1e6;
  if (work.unit === 'GB/s') return work.bytes / ms / 1e6;
  return ms;
}

/** The cases a run covers: all of them, the quick subset, or those named by `--cases`. */
export function selectCases(quick: boolean, ids: readonly string[] | null): readonly BenchCase[] {
  if (ids !== null) {
    const unknown = ids.filter((id) => !CASES.some((c) => c.id === id));
    if (unknown.length > 0) throw new Error(`unknown case ${unknown.join(', ')}; cases are ${CASES.map((c) => c.id).join(', ')}`);
    return CASES.filter((c) => ids.includes(c.id));
  }
  return quick ? CASES.filter((c) => c.quick) : CASES;
}
