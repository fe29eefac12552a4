import loadAScalar from '../../../shaders/matmul/load_a_scalar.wgsl?raw';
import loadAVec4 from '../../../shaders/matmul/load_a_vec4.wgsl?raw';
import loadBScalar from '../../../shaders/matmul/load_b_scalar.wgsl?raw';
import loadBVec4 from '../../../shaders/matmul/load_b_vec4.wgsl?raw';
import blockedWgsl from '../../../shaders/matmul/blocked.wgsl?raw';
import interfaceWgsl from '../../../shaders/matmul/interface.wgsl?raw';
import storeWgsl from '../../../shaders/matmul/store.wgsl?raw';
import storeActivationWgsl from '../../../shaders/matmul/store_activation.wgsl?raw';
import skinnyWgsl from '../../../shaders/matmul/skinny.wgsl?raw';
import tiledWgsl from '../../../shaders/matmul/tiled.wgsl?raw';
import type { Activation, MatmulPlan } from '../../backend.js';
import type { BindingKind } from '../pipeline-cache.js';
import { ACT, ACTIVATION_LIBRARY } from './activation.js';
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
 * A hidden layer's matmul with its activation in the epilogue (shaders/matmul/store_activation.wgsl).
 * Forward (`pre` null): `op(a) · op(b) + bias` and its activation, as `pre` and `out`.
 * Backward: `(op(a) · op(b)) * act'(pre)`, the gradient at the pre-activation.
 */
export function matmulActivation(
  host: KernelHost,
  a: GpuStorage,
  b: GpuStorage,
  bias: GpuStorage | null,
  pre: GpuStorage | null,
  plan: MatmulPlan,
  activation: Activation,
): { readonly out: GpuStorage; readonly pre: GpuStorage | null } {
  const elements = plan.batch * plan.m * plan.n;
  if (pre === null) {
    const preOut = host.output(elements, `${activation} pre-activation`);
    const out = host.output(elements, activation);
    matmulInto(host, a.binding, b.binding, bias?.binding ?? null, preOut.buffer, plan, false, { forward: true, activation, extra: out.binding });
    return { out, pre: preOut };
  }
  const out = host.output(elements, `${activation} backward`);
  matmulInto(host, a.binding, b.binding, bias?.binding ?? null, out.buffer, plan, false, { forward: false, activation, extra: pre.binding });
  return { out, pre: null };
}

/** A fused activation epilogue: `extra` is the activation's output (forward) or the pre-activation (backward). */
interface Epilogue {
  readonly forward: boolean;
  readonly activation: Activation;
  readonly extra: Bindable;
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
  epilogue: Epilogue | null = null,
): void {
  const { batch, m, k, n } = plan;
  if (batch * m * n === 0) return;
  const variant = chooseVariant(host, n);
  const constants = {
    TRANSPOSE_A: plan.transposeA ? 1 : 0,
    TRANSPOSE_B: plan.transposeB ? 1 : 0,
    HAS_BIAS: bias === null ? 0 : 1,
    ACCUMULATE: accumulate ? 1 : 0,
    ...(epilogue === null ? {} : { FORWARD: epilogue.forward ? 1 : 0, ACT: ACT[epilogue.activation] }),
  };
  // The epilogue's buffer sits at binding 5, after the uniforms (binding 4), which take no buffer.
  const bindings: readonly BindingKind[] = epilogue === null ? signature(3, 1) : [...signature(3, 1), 'write'];
  const store =
    epilogue === null
      ? [{ name: 'matmul/store.wgsl', code: storeWgsl }]
      : [ACTIVATION_LIBRARY, { name: 'matmul/store_activation.wgsl', code: storeActivationWgsl }];
  const spec = (parts: readonly ShaderPart[], extra: Record<string, number> = {}) => ({
    shader: host.shader([{ name: 'matmul/interface.wgsl', code: interfaceWgsl }, ...store, ...parts]),
    entryPoint: 'main',
    constants: { ...constants, ...extra },
    bindings,
  });
  const buffers = epilogue === null ? [a, b, bias ?? host.unusedRead, out] : [a, b, bias ?? host.unusedRead, out, out, epilogue.extra];
  const uniforms = params(['u32', m], ['u32', k], ['u32', n], ['u32', plan.aBatchStride], ['u32', plan.bBatchStride]);
  const fused = epilogue === null ? '' : ` ${epilogue.activation}${epilogue.forward ? '' : "'"}`;
  const shape = `${batch}x${m}x${k}x${n}${plan.transposeA ? ' aT' : ''}${plan.transposeB ? ' bT' : ''}${accumulate ? ' +=' : ''}${fused}`;
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
