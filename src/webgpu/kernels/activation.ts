import activationWgsl from '../../../shaders/activation.wgsl?raw';
import activationLibWgsl from '../../../shaders/lib/activation.wgsl?raw';
import type { ActivationPlan } from '../../backend.js';
import { params, signature, type KernelHost } from '../kernel-host.js';
import type { GpuStorage } from '../storage.js';

const WG = 256;
/** The `ACT` specialisation of shaders/lib/activation.wgsl. */
export const ACT = { relu: 0, gelu: 1, tanh: 2 } as const;

/** The activation library, for kernels that apply one. */
export const ACTIVATION_LIBRARY = { name: 'lib/activation.wgsl', code: activationLibWgsl };

/** `act(z)`, or with `grad` `grad * act'(z)` (shaders/activation.wgsl, over shaders/lib/activation.wgsl). */
export function activation(host: KernelHost, z: GpuStorage, grad: GpuStorage | null, plan: ActivationPlan): GpuStorage {
  const out = host.output(plan.elements, grad === null ? plan.activation : `${plan.activation} backward`);
  if (plan.elements === 0) return out;
  const spec = {
    shader: host.shader([ACTIVATION_LIBRARY, { name: 'activation.wgsl', code: activationWgsl }]),
    entryPoint: grad === null ? 'forward' : 'backward',
    constants: { WG, ACT: ACT[plan.activation] },
    bindings: signature(2, 1),
  };
  host.dispatch(
    `${plan.activation}${grad === null ? '' : 'Backward'} ${plan.elements}`,
    spec,
    [z.binding, grad?.binding ?? host.unusedRead, out.binding],
    params(['u32', plan.elements]),
    Math.ceil(plan.elements / WG),
  );
  return out;
}
