import type { KernelVariants } from '../../src/index.js';

/**
 * The kernel-variant sets the parity suites run under: every variant runs in at least one,
 * whatever the heuristics would pick on the machine at hand. The tiled matmul meets both
 * vec4 and scalar loads through the shapes (dimensions divisible by 4 or not).
 */
export const VARIANT_SETS: readonly (readonly [string, KernelVariants])[] = [
  ['variants chosen from the shapes', {}],
  ['tiled matmul, a row per invocation, workgroup-memory reductions', { matmul: 'tiled', rows: 'thread', reduce: 'workgroup' }],
  ['skinny matmul, a cached row per workgroup, subgroup reductions', { matmul: 'skinny', rows: 'workgroup', reduce: 'subgroup' }],
  [
    'blocked matmul, an uncached row per workgroup, workgroup-memory reductions',
    { matmul: 'blocked', rows: 'workgroup', rowCache: false, reduce: 'workgroup' },
  ],
];

/**
 * `kernels`, with subgroup reductions traded for workgroup ones where the adapter has no
 * `subgroups` (SwiftShader has them; some GPUs do not), so a forced variant set runs on any
 * adapter instead of failing there for want of a feature.
 */
export function withoutMissingFeatures(kernels: KernelVariants, features: ReadonlySet<string> | undefined): KernelVariants {
  return kernels.reduce === 'subgroup' && features?.has('subgroups') !== true ? { ...kernels, reduce: 'workgroup' } : kernels;
}
