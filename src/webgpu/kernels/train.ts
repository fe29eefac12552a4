import gatherRowsWgsl from '../../../shaders/gather_rows.wgsl?raw';
import metricsWgsl from '../../../shaders/metrics.wgsl?raw';
import optimizersWgsl from '../../../shaders/optimizers.wgsl?raw';
import type { AdamPlan, AdamWPlan, GatherPlan, MetricsPlan, RmspropPlan, SgdPlan, StepGuard } from '../../backend.js';
import type { Bindable } from '../command-queue.js';
import { params, signature, type KernelHost } from '../kernel-host.js';
import type { GpuStorage } from '../storage.js';
import { singleVariants } from './rows.js';
import type { Candidate } from '../candidates.js';

const WG = 256;

/** The rows of a batch, in order or by index, float16 rows widened (shaders/gather_rows.wgsl). */
export function gatherRows(host: KernelHost, t: GpuStorage, indices: GpuStorage | null, plan: GatherPlan): GpuStorage {
  const out = host.output(plan.rows * plan.cols, plan.widen ? 'batch (widened from float16)' : 'batch');
  gatherRowsInto(host, t, indices, plan, out.binding);
  return out;
}

/** `gatherRows` into a buffer the caller owns. */
export function gatherRowsInto(host: KernelHost, t: GpuStorage, indices: GpuStorage | null, plan: GatherPlan, out: Bindable): void {
  const elements = plan.rows * plan.cols;
  if (elements === 0) return;
  const spec = {
    shader: host.shader([{ name: 'gather_rows.wgsl', code: gatherRowsWgsl }]),
    entryPoint: 'main',
    constants: { WG, IN_ORDER: indices === null ? 1 : 0, WIDEN: plan.widen ? 1 : 0 },
    bindings: signature(2, 1),
  };
  host.dispatch(
    `gatherRows${plan.widen ? ' f16' : ''} ${plan.rows}x${plan.cols}`,
    spec,
    [t.binding, indices?.binding ?? host.unusedRead, out],
    params(['u32', plan.rows], ['u32', plan.cols], ['u32', plan.start]),
    Math.ceil(elements / WG),
  );
}

function optimizerSpec(host: KernelHost, entryPoint: 'sgd' | 'adam' | 'adamw' | 'rmsprop') {
  return {
    shader: host.shader([{ name: 'optimizers.wgsl', code: optimizersWgsl }]),
    entryPoint,
    constants: { WG },
    bindings: signature(2, entryPoint === 'rmsprop' ? 4 : 3),
  };
}

/** The guard's uniform fields (mode, step) and its words' binding, as optimizers.wgsl reads them. */
function guardFields(host: KernelHost, guard: GpuStorage | null, step: StepGuard | null | undefined) {
  const mode = step == null ? 0 : step.sticky ? 2 : 1;
  return {
    fields: [['u32', mode], ['u32', step?.step ?? 0]] as const,
    binding: guard?.binding ?? host.unusedRead,
  };
}

/** One SGD step in place (shaders/optimizers.wgsl, entry point sgd). */
export function sgdStep(host: KernelHost, param: GpuStorage, grad: GpuStorage, velocity: GpuStorage | null, plan: SgdPlan, guard: GpuStorage | null, step: StepGuard | null | undefined): void {
  const g = guardFields(host, guard, step);
  host.dispatch(
    `sgd ${plan.elements}`,
    optimizerSpec(host, 'sgd'),
    [grad.binding, g.binding, param.binding, velocity?.binding ?? host.unusedWrite(3), host.unusedWrite(4)],
    params(
      ['u32', plan.elements],
      ...g.fields,
      ['f32', plan.learningRate],
      ['f32', plan.momentum],
      ['f32', plan.weightDecay],
      ['u32', velocity === null ? 0 : 1],
      ['u32', plan.nesterov ? 1 : 0],
    ),
    Math.ceil(plan.elements / WG),
  );
}

/** One Adam step in place (shaders/optimizers.wgsl, entry point adam). */
export function adamStep(host: KernelHost, param: GpuStorage, grad: GpuStorage, m: GpuStorage, v: GpuStorage, plan: AdamPlan, guard: GpuStorage | null, step: StepGuard | null | undefined): void {
  const g = guardFields(host, guard, step);
  host.dispatch(
    `adam ${plan.elements}`,
    optimizerSpec(host, 'adam'),
    [grad.binding, g.binding, param.binding, m.binding, v.binding],
    params(
      ['u32', plan.elements],
      ...g.fields,
      ['f32', plan.stepSize],
      ['f32', plan.beta1],
      ['f32', plan.beta2],
      ['f32', plan.epsilon],
      ['f32', plan.weightDecay],
      ['f32', plan.correction2Sqrt],
    ),
    Math.ceil(plan.elements / WG),
  );
}

/** One AdamW step in place (shaders/optimizers.wgsl, entry point adamw). */
export function adamwStep(host: KernelHost, param: GpuStorage, grad: GpuStorage, m: GpuStorage, v: GpuStorage, plan: AdamWPlan, guard: GpuStorage | null, step: StepGuard | null | undefined): void {
  const g = guardFields(host, guard, step);
  host.dispatch(
    `adamw ${plan.elements}`,
    optimizerSpec(host, 'adamw'),
    [grad.binding, g.binding, param.binding, m.binding, v.binding],
    params(
      ['u32', plan.elements],
      ...g.fields,
      ['f32', plan.paramScale],
      ['f32', plan.stepSize],
      ['f32', plan.beta1],
      ['f32', plan.beta2],
      ['f32', plan.epsilon],
      ['f32', plan.correction2Sqrt],
    ),
    Math.ceil(plan.elements / WG),
  );
}

/** One RMSprop step in place (shaders/optimizers.wgsl, entry point rmsprop). */
export function rmspropStep(
  host: KernelHost,
  param: GpuStorage,
  grad: GpuStorage,
  square: GpuStorage,
  mean: GpuStorage | null,
  buffer: GpuStorage | null,
  plan: RmspropPlan,
  guard: GpuStorage | null,
  step: StepGuard | null | undefined,
): void {
  const g = guardFields(host, guard, step);
  host.dispatch(
    `rmsprop ${plan.elements}`,
    optimizerSpec(host, 'rmsprop'),
    [grad.binding, g.binding, param.binding, square.binding, mean?.binding ?? host.unusedWrite(4), buffer?.binding ?? host.unusedWrite(5)],
    params(
      ['u32', plan.elements],
      ...g.fields,
      ['f32', plan.learningRate],
      ['f32', plan.alpha],
      ['f32', plan.epsilon],
      ['f32', plan.weightDecay],
      ['f32', plan.momentum],
      ['u32', mean === null ? 0 : 1],
      ['u32', buffer === null ? 0 : 1],
    ),
    Math.ceil(plan.elements / WG),
  );
}

/** Adds a batch's loss and counts into the accumulator (shaders/metrics.wgsl). */
export function accumulateMetrics(host: KernelHost, z: GpuStorage, target: GpuStorage, loss: GpuStorage, acc: GpuStorage, plan: MetricsPlan): void {
  const label = `metrics ${plan.rows}x${plan.classes}`;
  const candidates = singleVariants(host, WG).map(({ serial, wg, library, needs }): Candidate => ({
    name: serial ? 'metrics/serial' : 'metrics',
    label: serial ? `metrics serial ${plan.rows}x${plan.classes}` : label,
    spec: {
      shader: host.shader([...library, { name: 'metrics.wgsl', code: metricsWgsl }]),
      entryPoint: 'main',
      constants: { WG: wg, PROBS: plan.target === 'probs' ? 1 : 0 },
      bindings: signature(3, 1),
    },
    grid: [1, 1, 1],
    needs,
  }));
  host.candidates(
    label,
    candidates,
    [z.binding, target.binding, loss.binding, acc.binding],
    params(['u32', plan.rows], ['u32', plan.classes], ['i32', plan.ignoreIndex], ['f32', plan.lossScale]),
  );
}
