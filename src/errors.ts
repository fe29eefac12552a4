/**
 * Every error this library throws on purpose is a `WebGPUSoftmaxError`, so callers can tell
 * our diagnostics from bugs with one `instanceof`, and the subclass says which rule was broken.
 *
 * @example
 * try { ctx.matmul(a, b); } catch (e) { if (e instanceof ShapeError) console.warn(e.message); }
 */
export class WebGPUSoftmaxError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Shapes that do not fit together, or data whose length does not match its shape. */
export class ShapeError extends WebGPUSoftmaxError {}

/** A tensor of the wrong element type for the op (for example int32 logits). */
export class DTypeError extends WebGPUSoftmaxError {}

/** An option or a value out of its allowed range (a label outside [0, C), a bad reduction). */
export class ValueError extends WebGPUSoftmaxError {}

/** A tensor used after `dispose()`, or a context used after `destroy()`. */
export class DisposedError extends WebGPUSoftmaxError {}

/** A model asked to start training while a `fit` or `fitDataset` on it has not finished. */
export class BusyError extends WebGPUSoftmaxError {}

/**
 * A training step whose loss or gradients held NaN or ±Infinity, under `fit`'s default
 * `nonFinite: 'error'`. Nothing of that step or of any later one was applied: the model holds
 * the weights (and optimizer state) from before batch `batch` of epoch `epoch`.
 *
 * @example
 * try { await model.fit(x, y); } catch (e) { if (e instanceof NonFiniteError) console.warn(`batch ${e.batch}, row ${e.row}`); }
 */
export class NonFiniteError extends WebGPUSoftmaxError {
  /** The epoch of the first bad batch, from 0. */
  readonly epoch: number;
  /** The first bad batch's index in its epoch, from 0. */
  readonly batch: number;
  /**
   * The first row holding a NaN or Infinity in `x` (or in probability targets `y`): for `fit`
   * its index in `x`, for `fitDataset` its index in the batch. Null where the inputs are
   * finite (the weights or the learning rate overflowed), or where a `fitDataset` source cannot
   * be walked again (only an array of batches can).
   */
  readonly row: number | null;

  constructor(message: string, where: { readonly epoch: number; readonly batch: number; readonly row: number | null }) {
    super(message);
    this.epoch = where.epoch;
    this.batch = where.batch;
    this.row = where.row;
  }
}

/** A tensor passed to a context that did not create it. */
export class ContextMismatchError extends WebGPUSoftmaxError {}

/** WebGPU was asked for and cannot be had (no `navigator.gpu`, no adapter, no device). */
export class WebGPUUnavailableError extends WebGPUSoftmaxError {}

/** A size beyond what the device allows; the message names the limit, the size and the maximum. */
export class LimitError extends WebGPUSoftmaxError {}

/**
 * The GPU device was lost (destroyed, driver reset); data that lived on it is gone. Where `fit`
 * lost its rows with the device, `checkpoint` holds the model as it stood at the start of the
 * epoch the loss cut short: restore it on the same context (now on the CPU) and go on with
 * `initialEpoch` (see the README's "A lost GPU").
 *
 * @example
 * try {
 *   await model.fit(x, y, { epochs: 10 });
 * } catch (e) {
 *   if (!(e instanceof DeviceLostError) || e.checkpoint === null) throw e;
 *   const again = await ctx.restore(e.checkpoint);      // on the CPU now
 *   const x2 = ctx.tensor(rows, [n, features]);           // the rows, made again
 *   await again.fit(x2, ctx.tensor(labels), { epochs: 10, initialEpoch: e.epoch! });
 * }
 */
export class DeviceLostError extends WebGPUSoftmaxError {
  /** `model.checkpoint()`'s bytes as training stood when the loss cut it short; null where none was kept. */
  readonly checkpoint: Uint8Array | null;
  /** The `initialEpoch` that resumes `checkpoint`; null without one. */
  readonly epoch: number | null;

  constructor(message: string, options?: { cause?: unknown; checkpoint?: Uint8Array; epoch?: number }) {
    super(message, options);
    this.checkpoint = options?.checkpoint ?? null;
    this.epoch = options?.epoch ?? null;
  }
}

/** The GPU reported an error while running queued work: out of memory, or a validation error (a bug here). */
export class DeviceError extends WebGPUSoftmaxError {}

/** A WGSL shader failed to compile; the message carries each diagnostic with line and column. */
export class ShaderCompileError extends WebGPUSoftmaxError {}

/**
 * A worker thread of the CPU backend failed or stopped in the middle of an op: that op's
 * result is lost, the worker is replaced, and the context stays usable.
 */
export class WorkerThreadError extends WebGPUSoftmaxError {}
