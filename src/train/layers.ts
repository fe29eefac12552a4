import { checkKnownKeys, keysOf } from '../check-options.js';
import type { Tensor } from '../tensor.js';
import type { MatmulPlan } from '../backend.js';
import { internals, type TrainingContext } from '../internal.js';
import { activateBackward, type Activation } from './activations.js';
import type { Random } from './random.js';

type F32 = Tensor<'float32'>;

/** One dense layer's parameters on the host: `weight` row-major `[in, out]`, `bias` `[out]`. */
export interface LayerWeights {
  /** Row-major `[in, out]`. */
  readonly weight: Float32Array;
  /** `[out]`. */
  readonly bias: Float32Array;
}

const LAYER_KEYS = keysOf<LayerWeights>({ weight: true, bias: true });

/** Refuses a layer holding more than `{ weight, bias }` (a `weights` would leave `weight` missing, said more plainly). */
export function checkLayerKeys(where: string, layers: unknown): void {
  if (Array.isArray(layers)) layers.forEach((layer, l) => checkKnownKeys(where, layer, LAYER_KEYS, `[${l}].`));
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

/** Glorot-uniform weights, U(±√(6 / (in + out))), and a zero bias, as Keras's `Dense` starts. */
export function glorotInit(random: Random, inSize: number, outSize: number): LayerWeights {
  const limit = Math.sqrt(6 / (inSize + outSize));
  const weight = new Float32Array(inSize * outSize);
  for (let i = 0; i < weight.length; i++) weight[i] = random.uniform(-limit, limit);
  return { weight, bias: new Float32Array(outSize) };
}

/** All-zero weights and bias. */
export function zerosInit(inSize: number, outSize: number): LayerWeights {
  return { weight: new Float32Array(inSize * outSize), bias: new Float32Array(outSize) };
}

/** What a forward pass keeps for the backward pass: each layer's input, and each hidden layer's pre-activation. */
export interface ForwardTape {
  readonly inputs: F32[];
  readonly preActivations: F32[];
}

/** `[rows, in] · [in, out]` (or `· [out, in]ᵀ` with `transposeB`) as a backend plan. */
function plan2d(m: number, k: number, n: number, transposeB: boolean): MatmulPlan {
  return { batch: 1, m, k, n, transposeA: false, transposeB, aBatchStride: 0, bBatchStride: 0 };
}

/** A hidden layer: its pre-activation `x·W + b` and output `act(pre)`, in one pass on WebGPU. */
function hiddenForward(ctx: TrainingContext, layer: Dense, activation: Activation, h: F32): { pre: F32; out: F32 } {
  const access = ctx[internals];
  const where = `${activation} layer`;
  const rows = h.shape[0]!;
  const { pre, out } = access.backend().linearActivation(
    access.storage(h, where, 'x'),
    access.storage(layer.weight, where, 'weight'),
    access.storage(layer.bias, where, 'bias'),
    plan2d(rows, layer.inSize, layer.outSize, false),
    activation,
  );
  return { pre: access.adopt(pre, [rows, layer.outSize], 'float32'), out: access.adopt(out, [rows, layer.outSize], 'float32') };
}

/** The gradient at hidden layer `below`'s pre-activation, `(grad · Wᵀ) * act'(pre)`, from the one at the input of the layer above. */
function hiddenBackward(ctx: TrainingContext, above: Dense, activation: Activation, grad: F32, pre: F32): F32 {
  const access = ctx[internals];
  const where = `${activation} layer backward`;
  const rows = grad.shape[0]!;
  const storage = access.backend().linearActivationBackward(
    access.storage(grad, where, 'grad'),
    access.storage(above.weight, where, 'weight'),
    access.storage(pre, where, 'pre'),
    plan2d(rows, above.outSize, above.inSize, true),
    activation,
  );
  return access.adopt(storage, [rows, above.inSize], 'float32');
}

/**
 * The logits of `x` through `layers`, activation between them (with `activateLast`, the last
 * layer's activation instead of its logits). With a `tape`, the inputs and pre-activations are
 * kept there (the caller disposes them); without, they are freed as it goes. On WebGPU each
 * hidden layer is one matmul with the bias and activation in its epilogue, and nothing is read
 * back: the whole pass is queued in the step's submit.
 */
export function forward(ctx: TrainingContext, layers: readonly Dense[], activation: Activation, x: F32, tape: ForwardTape | null, activateLast = false): F32 {
  let h = x;
  for (let l = 0; l < layers.length; l++) {
    const layer = layers[l]!;
    if (tape !== null) tape.inputs.push(h);
    if (l === layers.length - 1 && !activateLast) {
      const z = ctx.matmul(h, layer.weight, { bias: layer.bias });
      if (tape === null && h !== x) h.dispose();
      return z;
    }
    const { pre, out } = hiddenForward(ctx, layer, activation, h);
    if (tape !== null) tape.preActivations.push(pre);
    else {
      pre.dispose();
      if (h !== x) h.dispose();
    }
    h = out;
  }
  return h;
}

/**
 * The parameters' gradients, from the gradient at the logits `dz` (for the last layer) back to
 * the first, in the order `[weight0, bias0, weight1, …]`. With `lastGrads`, the last layer's
 * parameter gradients were already formed (the fused large-class path) and `dz` is the gradient
 * at its input instead. On WebGPU each step down a layer is one matmul with act' in its epilogue.
 */
export function backward(
  ctx: TrainingContext,
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
      const below = hiddenBackward(ctx, layers[l]!, activation, grad, tape.preActivations[l - 1]!);
      if (grad !== dz) grad.dispose();
      grad = below;
    }
  }
  if (grad !== dz) grad.dispose();
  return grads;
}
