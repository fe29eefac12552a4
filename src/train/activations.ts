import type { Activation } from '../backend.js';
import { internals, type TrainingContext } from '../internal.js';
import type { Tensor } from '../tensor.js';

export type { Activation };

type F32 = Tensor<'float32'>;

/** The activations a classifier offers between its layers. */
export const ACTIVATIONS: readonly Activation[] = ['relu', 'gelu', 'tanh'];

/** `grad * act'(z)`: the gradient at the pre-activation `z`, from the one at the activation's output. */
export function activateBackward(ctx: TrainingContext, z: F32, grad: F32, activation: Activation): F32 {
  const access = ctx[internals];
  const where = `${activation}Backward`;
  const storage = access.backend().activationBackward(access.storage(z, where, 'z'), access.storage(grad, where, 'grad'), {
    elements: z.size,
    activation,
  });
  return access.adopt(storage, z.shape, 'float32');
}
