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
import type { BindingKind, KernelSpec } from '../pipeline-cache.js';
import { seeded, type Candidate, type Probe } from '../candidates.js';
import { matmul as cpuMatmul } from '../../cpu/matmul.js';
import { activation as cpuActivation, activationBackward as cpuActivationBackward } from '../../cpu/activation.js';
import { ACT, ACTIVATION_LIBRARY } from './activation.js';
import type { Bindable } from '../command-queue.js';
import { params, signature, type KernelHost } from '../kernel-host.js';
import type { ShaderPart } from '../shader.js';
import type { GpuStorage } from '../storage.js';

const TILE = 64;
const SKINNY_MAX_COLS = 16;
/** Invocations of a blocked workgroup, per side, each owning an 8x8 block of outputs. */
const BLOCK = 8;
type Variant = 'tiled' | 'skinny' | 'blocked';

/**
 * One candidate of a kernel: its override constants (tiled: DEPTH, K per pass through workgroup
 * memory; skinny: ROWS per workgroup and the SLICES of K; blocked: the workgroup's WG_X x WG_Y
 * invocations). The first of each kind is the rules' choice; the others are for the tuner.
 */
interface Shape {
  readonly kind: Variant;
  readonly name: string;
  readonly overrides: Readonly<Record<string, number>>;
}

const SHAPES: readonly Shape[] = [
  { kind: 'tiled', name: 'matmul/tiled', overrides: { DEPTH: 16 } },
  { kind: 'skinny', name: 'matmul/skinny', overrides: { ROWS: 16, SLICES: 8 } },
  { kind: 'blocked', name: 'matmul/blocked', overrides: { WG_X: 8, WG_Y: 8 } },
  { kind: 'tiled', name: 'matmul/tiled-k32', overrides: { DEPTH: 32 } },
  { kind: 'tiled', name: 'matmul/tiled-k64', overrides: { DEPTH: 64 } },
  { kind: 'skinny', name: 'matmul/skinny-32rows', overrides: { ROWS: 32, SLICES: 8 } },
  { kind: 'skinny', name: 'matmul/skinny-4slices', overrides: { ROWS: 32, SLICES: 4 } },
  { kind: 'blocked', name: 'matmul/blocked-16x16', overrides: { WG_X: 16, WG_Y: 16 } },
];

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
  const constants = {
    TRANSPOSE_A: plan.transposeA ? 1 : 0,
    TRANSPOSE_B: plan.transposeB ? 1 : 0,
    HAS_BIAS: bias === null ? 0 : 1,
    ACCUMULATE: accumulate ? 1 : 0,
    ...(epilogue === null ? {} : { FORWARD: epilogue.forward ? 1 : 0, ACT: ACT[epilogue.activation] }),
  };
  const buffers = epilogue === null ? [a, b, bias ?? host.unusedRead, out] : [a, b, bias ?? host.unusedRead, out, out, epilogue.extra];
  const uniforms = params(['u32', m], ['u32', k], ['u32', n], ['u32', plan.aBatchStride], ['u32', plan.bBatchStride]);
  const fused = epilogue === null ? '' : ` ${epilogue.activation}${epilogue.forward ? '' : "'"}`;
  const shape = `${batch}x${m}x${k}x${n}${plan.transposeA ? ' aT' : ''}${plan.transposeB ? ' bT' : ''}${accumulate ? ' +=' : ''}${fused}`;
  const candidates = order(host, n).map((variant) => candidate(host, variant, plan, constants, epilogue, shape));
  const klass = `matmul ${n <= SKINNY_MAX_COLS ? 'n<=16' : 'n>16'}${plan.transposeA ? ' aT' : ''}${plan.transposeB ? ' bT' : ''}`;
  host.candidates(`matmul ${shape}`, candidates, buffers, uniforms, klass);
}

/**
 * The candidates in the order they are tried: the rule's choice (see `chooseVariant`), then
 * the other kinds' defaults, so a device that refuses or miscompiles one still runs the op
 * (`blocked` needs neither workgroup memory nor barriers), then the alternatives the tuner times.
 */
function order(host: KernelHost, n: number): Shape[] {
  const allowed = SHAPES.filter((s) => s.kind !== 'skinny' || n <= SKINNY_MAX_COLS);
  const first = allowed.find((s) => s.kind === chooseVariant(host, n))!;
  return [first, ...allowed.filter((s) => s !== first)];
}

type Constants = Readonly<Record<string, number>>;

function candidate(host: KernelHost, variant: Shape, plan: MatmulPlan, constants: Constants, epilogue: Epilogue | null, shape: string): Candidate {
  const o = variant.overrides;
  const tag = variant.name.includes('-') ? ` ${variant.name.split('-')[1]}` : '';
  const { batch, m, k, n } = plan;
  // The epilogue's buffer sits at binding 5, after the uniforms (binding 4), which take no buffer.
  const bindings: readonly BindingKind[] = epilogue === null ? signature(3, 1) : [...signature(3, 1), 'write'];
  const store =
    epilogue === null
      ? [{ name: 'matmul/store.wgsl', code: storeWgsl }]
      : [ACTIVATION_LIBRARY, { name: 'matmul/store_activation.wgsl', code: storeActivationWgsl }];
  const spec = (parts: readonly ShaderPart[], extra: Record<string, number> = {}): KernelSpec => ({
    shader: host.shader([{ name: 'matmul/interface.wgsl', code: interfaceWgsl }, ...store, ...parts]),
    entryPoint: 'main',
    constants: { ...constants, ...o, ...extra },
    bindings,
  });
  if (variant.kind === 'skinny') {
    const rows = o['ROWS']!;
    const s = spec([{ name: 'matmul/skinny.wgsl', code: skinnyWgsl }], { NC: n });
    const label = `matmul skinny${tag} ${shape}`;
    return {
      name: variant.name,
      label,
      spec: s,
      grid: host.grid(label, Math.ceil(m / rows), batch),
      needs: { workgroupBytes: rows * o['SLICES']! * n * 4, invocations: rows * o['SLICES']! },
      probe: () => probe(s, { vec4A: false, vec4B: false, n, grid: (pm) => [Math.ceil(pm / rows), 1, PROBE_BATCH] }),
    };
  }
  if (variant.kind === 'blocked') {
    const s = spec([{ name: 'matmul/blocked.wgsl', code: blockedWgsl }]);
    const [x, y] = [o['WG_X']! * BLOCK, o['WG_Y']! * BLOCK];
    return {
      name: variant.name,
      label: `matmul blocked${tag} ${shape}`,
      spec: s,
      grid: [Math.ceil(n / x), Math.ceil(m / y), batch],
      needs: { workgroupBytes: 0, invocations: o['WG_X']! * o['WG_Y']! },
      probe: () => probe(s, { vec4A: false, vec4B: false, n: null, grid: (pm, pn) => [Math.ceil(pn / x), Math.ceil(pm / y), PROBE_BATCH] }),
    };
  }
  const vec4 = host.variants.vec4 !== false;
  const aVec4 = vec4 && (plan.transposeA ? m : k) % 4 === 0;
  const bVec4 = vec4 && (plan.transposeB ? k : n) % 4 === 0;
  const s = spec([
    aVec4 ? { name: 'matmul/load_a_vec4.wgsl', code: loadAVec4 } : { name: 'matmul/load_a_scalar.wgsl', code: loadAScalar },
    bVec4 ? { name: 'matmul/load_b_vec4.wgsl', code: loadBVec4 } : { name: 'matmul/load_b_scalar.wgsl', code: loadBScalar },
    { name: 'matmul/tiled.wgsl', code: tiledWgsl },
  ]);
  return {
    name: variant.name,
    label: `matmul tiled${tag}${aVec4 ? ' a4' : ''}${bVec4 ? ' b4' : ''} ${shape}`,
    spec: s,
    grid: [Math.ceil(n / TILE), Math.ceil(m / TILE), batch],
    needs: { workgroupBytes: 2 * TILE * o['DEPTH']! * 4, invocations: 256 },
    probe: () => probe(s, { vec4A: aVec4, vec4B: bVec4, n: null, grid: (pm, pn) => [Math.ceil(pn / TILE), Math.ceil(pm / TILE), PROBE_BATCH] }),
  };
}

const PROBE_BATCH = 2;

interface ProbeShape {
  readonly vec4A: boolean;
  readonly vec4B: boolean;
  /** The columns the pipeline is specialised for (skinny's NC), or null for any. */
  readonly n: number | null;
  readonly grid: (m: number, n: number) => [number, number, number];
}

/**
 * Two small products through `spec` with its transposes, bias, accumulation and epilogue, and
 * the CPU backend's answer. Sizes are multiples of 4 where the pipeline loads vec4s, odd
 * otherwise, so edges are exercised.
 */
function probe(spec: KernelSpec, shape: ProbeShape): Probe {
  const c = spec.constants;
  const vec4 = shape.vec4A || shape.vec4B;
  const m = vec4 ? 8 : 5;
  const k = vec4 ? 20 : 19;
  const n = shape.n ?? (vec4 ? 12 : 7);
  const plan: MatmulPlan = {
    batch: PROBE_BATCH,
    m,
    k,
    n,
    transposeA: c['TRANSPOSE_A'] === 1,
    transposeB: c['TRANSPOSE_B'] === 1,
    aBatchStride: m * k,
    bBatchStride: k * n,
  };
  const a = seeded(PROBE_BATCH * m * k, 1);
  const b = seeded(PROBE_BATCH * k * n, 2);
  const bias = seeded(n, 3);
  const elements = PROBE_BATCH * m * n;
  const initial = seeded(elements, 4);
  const product = cpuMatmul(a, b, c['HAS_BIAS'] === 1 ? bias : null, plan);
  if (c['ACCUMULATE'] === 1) for (let i = 0; i < elements; i++) product[i] = product[i]! + initial[i]!;
  const uniforms = params(['u32', m], ['u32', k], ['u32', n], ['u32', plan.aBatchStride], ['u32', plan.bBatchStride]);
  const grid = shape.grid(m, n);
  if (c['ACT'] === undefined) return { buffers: [a, b, bias, initial, null], uniforms, grid, expected: new Map([[3, product]]) };
  const act = (Object.keys(ACT) as Activation[]).find((name) => ACT[name] === c['ACT'])!;
  const extra = seeded(elements, 5);
  const applied = new Float32Array(elements);
  if (c['FORWARD'] === 1) {
    cpuActivation(product, applied, { elements, activation: act });
    return { buffers: [a, b, bias, initial, null, extra], uniforms, grid, expected: new Map([[3, product], [5, applied]]) };
  }
  cpuActivationBackward(extra, product, applied, { elements, activation: act });
  return { buffers: [a, b, bias, initial, null, extra], uniforms, grid, expected: new Map([[3, applied]]) };
}
