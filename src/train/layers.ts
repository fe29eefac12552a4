import type { Context } from '../context.js';
import type { Tensor } from '../tensor.js';
import { activate, activateBackward, type Activation } from './activations.js';
import type { Random } from './random.js';

type F32 = Tensor<'float32'>;

/** One dense layer's parameters on the host: `weight` row-major `[in, out]`, `bias` `[out]`. */
export interface LayerWeights {
  readonly weight: Float32Array;
  readonly bias: Float32Array;
}

/** One dense layer's parameters on the device. */
export interface Dense {
  readonly inSize: number;
  readonly outSize: number;
  weight: F32;
  bias: F32;
}

/** `[in, out]` for each layer of a network `features → hidden… → classes`. */
export function layerShapes(features: number, hidden: readonly number[], classes: number): [number, number][] {
  const sizes = [features, ...hidden, classes];
  return sizes.slice(1).map((out, i) => [sizes[i]!, out]);
}

/**
 * PyTorch's `nn.Linear` initialisation: Kaiming-uniform with a = √5 for the weights and the
 * same bound for the bias, which both come to U(±1/√in). Weights are drawn first, then the bias.
 */
export function linearInit(random: Random, inSize: number, outSize: number): LayerWeights {
  const bound = 1 / Math.sqrt(inSize);
  const weight = new Float32Array(inSize * outSize);
  for (let i = 0; i < weight.length; i++) weight[i] = random.uniform(-bound, bound);
  const bias = new Float32Array(outSize);
  for (let i = 0; i < bias.length; i++) bias[i] = random.uniform(-bound, bound);
  return { weight, bias };
}

/** What a forward pass keeps for the backward pass: each layer's input, and each hidden layer's pre-activation. */
export interface ForwardTape {
  readonly inputs: F32[];
  readonly preActivations: F32[];
}

/**
 * The logits of `x` through `layers`, activation between them. With a `tape`, the inputs and
 * pre-activations are kept there (the caller disposes them); without, they are freed as it goes.
 * On WebGPU nothing here is read back: the whole pass is queued in the step's submit.
 */
export function forward(ctx: Context, layers: readonly Dense[], activation: Activation, x: F32, tape: ForwardTape | null): F32 {
  let h = x;
  for (let l = 0; l < layers.length; l++) {
    const layer = layers[l]!;
    const z = ctx.matmul(h, layer.weight, { bias: layer.bias });
    if (tape !== null) tape.inputs.push(h);
    else if (h !== x) h.dispose();
    if (l === layers.length - 1) return z;
    h = activate(ctx, z, activation);
    if (tape !== null) tape.preActivations.push(z);
    else z.dispose();
  }
  throw new Error('forward: a network has at least one layer');
}

/**
 * The parameters' gradients, from the gradient at the logits `dz` (for the last layer) back to
 * the first, in the order `[weight0, bias0, weight1, …]`. With `lastGrads`, the last layer's
 * parameter gradients were already formed (the fused large-class path) and `dz` is the gradient
 * at its input instead.
 */
export function backward(
  ctx: Context,
  layers: readonly Dense[],
  activation: Activation,
  tape: ForwardTape,
  dz: F32,
  lastGrads: readonly [F32, F32] | null,
): F32[] {
  const grads: F32[] = [];
  let grad = dz;
  let l = layers.length - 1;
  if (lastGrads !== null) {
    grads.unshift(...lastGrads);
    l--;
    grad = activateBackward(ctx, tape.preActivations[l]!, dz, activation);
  }
  for (; l >= 0; l--) {
    const input = tape.inputs[l]!;
    grads.unshift(ctx.matmul(input, grad, { transposeA: true }), ctx.sum(grad, { axis: 0 }));
    if (l > 0) {
      const dh = ctx.matmul(grad, layers[l]!.weight, { transposeB: true });
      if (grad !== dz) grad.dispose();
      grad = activateBackward(ctx, tape.preActivations[l - 1]!, dh, activation);
      dh.dispose();
    }
  }
  if (grad !== dz) grad.dispose();
  return grads;
}
