import { internals } from '../internal.js';
import type { CrossEntropyOptions } from '../ops/cross-entropy.js';
import { planLinearCrossEntropy } from '../ops/linear-cross-entropy.js';
import type { Tensor } from '../tensor.js';
import { accumulateMetrics, asFloat32, type Features } from './batch-ops.js';
import { forward, backward, type ForwardTape } from './layers.js';
import type { Model } from './model.js';
import type { NonFiniteGuard } from './non-finite.js';
import type { StepGuard } from '../backend.js';

type F32 = Tensor<'float32'>;

/**
 * A training step whose batch logits `[B, classes]` would take more bytes than this (or than
 * the device binds) runs through the fused `linearCrossEntropy`, which forms them a chunk of
 * rows at a time, so any number of classes trains.
 */
export const FUSED_STEP_LOGITS_BYTES = 32 * 2 ** 20;

/**
 * One step on a batch: `x` `[B, features]`, `y` int32 class ids `[B]` or float32 targets
 * `[B, classes]`. Returns the batch's loss (a scalar tensor) without reading it back; on
 * WebGPU the whole step is submitted at once when something is read or flushed.
 */
export function trainStep(model: Model, x: Features, y: Tensor): F32 {
  model.checkBatch('trainStep', x, y);
  const x32 = asFloat32(model.ctx, x);
  try {
    return step(model, x32, y, null);
  } finally {
    if (x32 !== x) x32.dispose();
  }
}

/** What an update does under the non-finite guard: check the step, skip it if bad, keep its metrics if good. */
interface Guarded {
  readonly guard: NonFiniteGuard;
  readonly step: StepGuard;
  /** The epoch's accumulator; null for a lone step. */
  readonly metrics: F32 | null;
}

/**
 * Forward, fused loss and gradient, the backward pass and the update; `metrics` gathers
 * figures for `fit`. With a `guard`, a step whose loss or gradients are not finite updates
 * nothing (see `NonFiniteGuard`).
 */
export function step(model: Model, x: F32, y: Tensor, epochMetrics: F32 | null, guard: NonFiniteGuard | null = null): F32 {
  const ctx = model.ctx;
  const tape: ForwardTape = { inputs: [], preActivations: [] };
  const guarded = guard === null ? null : { guard, step: guard.begin(), metrics: epochMetrics };
  const metrics = guard === null || epochMetrics === null ? epochMetrics : guard.metricsFor(epochMetrics);
  try {
    const limit = ctx[internals].backend().tensorByteLimit?.bytes ?? Infinity;
    if (x.shape[0]! * model.classes * 4 > Math.min(FUSED_STEP_LOGITS_BYTES, limit)) {
      let h = x;
      if (model.layers.length > 1) {
        // The hidden layers' output is the fused step's input; the tape keeps it for the backward pass.
        h = forward(ctx, model.layers.slice(0, -1), model.activation, x, tape, true);
        tape.inputs.push(h);
      }
      return fusedStep(model, h, y, metrics, tape, guarded);
    }
    const z = forward(ctx, model.layers, model.activation, x, tape);
    const { loss, grad } = ctx.crossEntropyWithGrad(z, y, lossOptions(model));
    if (metrics !== null) accumulateMetrics(ctx, z, y, loss, metrics, x.shape[0]!);
    z.dispose();
    const grads = backward(ctx, model.layers, model.activation, tape, grad, null);
    update(model, grads, loss, guarded);
    grad.dispose();
    return loss;
  } finally {
    for (const t of tape.inputs) if (t !== x) t.dispose();
    for (const t of tape.preActivations) t.dispose();
  }
}

function lossOptions(model: Model): CrossEntropyOptions<F32> {
  return {
    labelSmoothing: model.options.labelSmoothing,
    ...(model.classWeights === null ? {} : { classWeights: model.classWeights }),
  };
}

/**
 * Applies the optimizer to every parameter, `[weight0, bias0, weight1, …]`, and frees the
 * gradients; under a guard, only where the step's loss and gradients are finite.
 */
function update(model: Model, grads: F32[], loss: F32, guarded: Guarded | null): void {
  guarded?.guard.check(guarded.step, [loss, ...grads]);
  model.optimizer.step(
    model.layers.flatMap((l, i) => [
      { param: l.weight, grad: grads[2 * i]! },
      { param: l.bias, grad: grads[2 * i + 1]! },
    ]),
    guarded?.step ?? null,
  );
  if (guarded !== null && guarded.metrics !== null) guarded.guard.commit(guarded.step, guarded.metrics);
  for (const g of grads) g.dispose();
  model.weightsChanged();
}

/**
 * `step` through `linearCrossEntropy` for the last layer: the batch's logits are never whole.
 * `h` is the last layer's input; gradX, the gradient at it, is formed only below hidden layers.
 */
function fusedStep(model: Model, h: F32, y: Tensor, metrics: F32 | null, tape: ForwardTape, guarded: Guarded | null): F32 {
  const access = model.ctx[internals];
  const where = 'trainStep';
  const options = lossOptions(model);
  const classWeights = model.classWeights;
  const last = model.layers[model.layers.length - 1]!;
  const deep = model.layers.length > 1;
  const { plan } = planLinearCrossEntropy(where, h, last.weight, [model.classes], y, access.labels(y), classWeights?.shape ?? null, options, true);
  const storage = (t: Tensor, name: string) => access.storage(t, where, name);
  const result = access.backend().linearCrossEntropy(
    storage(h, 'x'),
    storage(last.weight, 'weights'),
    storage(last.bias, 'bias'),
    storage(y, 'y'),
    classWeights === null ? null : storage(classWeights, 'classWeights'),
    metrics === null ? null : storage(metrics, 'metrics'),
    { ...plan, withGradX: deep, metricsLossScale: h.shape[0]! },
  );
  const loss = access.adopt(result.loss, [], 'float32');
  const dw = access.adopt(result.gradWeight!, [last.inSize, model.classes], 'float32');
  const db = access.adopt(result.gradBias!, [model.classes], 'float32');
  if (!deep) {
    update(model, [dw, db], loss, guarded);
    return loss;
  }
  const dh = access.adopt(result.gradX!, h.shape, 'float32');
  const grads = backward(model.ctx, model.layers, model.activation, tape, dh, [dw, db]);
  dh.dispose();
  update(model, grads, loss, guarded);
  return loss;
}
