import loadAScalar from '../../../shaders/matmul/load_a_scalar.wgsl?raw';
import loadAVec4 from '../../../shaders/matmul/load_a_vec4.wgsl?raw';
import loadBScalar from '../../../shaders/matmul/load_b_scalar.wgsl?raw';
import loadBVec4 from '../../../shaders/matmul/load_b_vec4.wgsl?raw';
import blockedWgsl from '../../../shaders/matmul/blocked.wgsl?raw';
import interfaceWgsl from '../../../shaders/matmul/interface.wgsl?raw';
import skinnyWgsl from '../../../shaders/matmul/skinny.wgsl?raw';
import tiledWgsl from '../../../shaders/matmul/tiled.wgsl?raw';
import type { MatmulPlan } from '../../backend.js';
import type { Bindable } from '../command-queue.js';
import { params, signature, type KernelHost } from '../kernel-host.js';
import type { ShaderPart } from '../shader.js';
import type { GpuStorage } from '../storage.js';

const TILE = 64;
const SKINNY_MAX_COLS = 16;
const SKINNY_ROWS = 16;
/** Output rows and columns of a blocked workgroup: 8x8 invocations of 8x8 each. */
const BLOCKED_TILE = 64;

type Variant = 'tiled' | 'skinny' | 'blocked';

/**
 * On a GPU, outputs of at most 16 columns (a classifier's logits and weight gradient) take
 * the skinny kernel and the rest the 64x64 tiled one; on a software adapter, the blocked
 * kernel. A forced variant is honoured where the shape allows (skinny needs n <= 16).
 */
function chooseVariant(host: KernelHost, n: number): Variant {
  const forced = host.variants.matmul;
  if (forced === 'skinny') return n <= SKINNY_MAX_COLS ? 'skinny' : 'tiled';
  if (forced !== undefined) return forced;
  if (host.software) return 'blocked';
  return n <= SKINNY_MAX_COLS ? 'skinny' : 'tiled';
}

/**
 * Batched `op(a) · op(b) + bias` (shaders/matmul/: tiled.wgsl, skinny.wgsl, blocked.wgsl).
 * The tiled kernel loads each operand as vec4 where its rows in memory hold a multiple of 4
 * elements (load_*_vec4.wgsl), and as floats otherwise (load_*_scalar.wgsl).
 */
export function matmul(host: KernelHost, a: GpuStorage, b: GpuStorage, bias: GpuStorage | null, plan: MatmulPlan): GpuStorage {
  const out = host.output(plan.batch * plan.m * plan.n, 'matmul');
  matmulInto(host, a.binding, b.binding, bias?.binding ?? null, out.buffer, plan, false);
  return out;
}

/**
 * `matmul` into a buffer the caller owns; with `accumulate`, the product is added to what
 * `out` holds (a gradient summed over chunks of rows).
 */
export function matmulInto(
  host: KernelHost,
  a: Bindable,
  b: Bindable,
  bias: Bindable | null,
  out: GPUBuffer,
  plan: MatmulPlan,
  accumulate: boolean,
): void {
  const { batch, m, k, n } = plan;
  if (batch * m * n === 0) return;
  const variant = chooseVariant(host, n);
  const constants = {
    TRANSPOSE_A: plan.transposeA ? 1 : 0,
    TRANSPOSE_B: plan.transposeB ? 1 : 0,
    HAS_BIAS: bias === null ? 0 : 1,
    ACCUMULATE: accumulate ? 1 : 0,
  };
  const spec = (parts: readonly ShaderPart[], extra: Record<string, number> = {}) => ({
    shader: host.shader([{ name: 'matmul/interface.wgsl', code: interfaceWgsl }, ...parts]),
    entryPoint: 'main',
    constants: { ...constants, ...extra },
    bindings: signature(3, 1),
  });
  const buffers = [a, b, bias ?? host.unusedRead, out];
  const uniforms = params(['u32', m], ['u32', k], ['u32', n], ['u32', plan.aBatchStride], ['u32', plan.bBatchStride]);
  const shape = `${batch}x${m}x${k}x${n}${plan.transposeA ? ' aT' : ''}${plan.transposeB ? ' bT' : ''}${accumulate ? ' +=' : ''}`;
  if (variant === 'skinny') {
    const skinny = spec([{ name: 'matmul/skinny.wgsl', code: skinnyWgsl }], { NC: n });
    host.dispatch(`matmul skinny ${shape}`, skinny, buffers, uniforms, Math.ceil(m / SKINNY_ROWS), batch);
  } else if (variant === 'blocked') {
    const blocked = spec([{ name: 'matmul/blocked.wgsl', code: blockedWgsl }]);
    const grid = [Math.ceil(n / BLOCKED_TILE), Math.ceil(m / BLOCKED_TILE), batch] as const;
    host.dispatchGrid(`matmul blocked ${shape}`, blocked, buffers, uniforms, grid);
  } else {
    const vec4 = host.variants.vec4 !== false;
    const aVec4 = vec4 && (plan.transposeA ? m : k) % 4 === 0;
    const bVec4 = vec4 && (plan.transposeB ? k : n) % 4 === 0;
    const tiled = spec([
      aVec4 ? { name: 'matmul/load_a_vec4.wgsl', code: loadAVec4 } : { name: 'matmul/load_a_scalar.wgsl', code: loadAScalar },
      bVec4 ? { name: 'matmul/load_b_vec4.wgsl', code: loadBVec4 } : { name: 'matmul/load_b_scalar.wgsl', code: loadBScalar },
      { name: 'matmul/tiled.wgsl', code: tiledWgsl },
    ]);
    const label = `matmul tiled${aVec4 ? ' a4' : ''}${bVec4 ? ' b4' : ''} ${shape}`;
    host.dispatchGrid(label, tiled, buffers, uniforms, [Math.ceil(n / TILE), Math.ceil(m / TILE), batch]);
  }
}
