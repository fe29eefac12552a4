import { checkKnownKeys } from '../check-options.js';
import { ShapeError, ValueError } from '../errors.js';
import type { NamedTensor } from '../export/safetensors.js';
import type { Tensor } from '../tensor.js';
import { ACTIVATIONS, type Activation } from './activations.js';
import type { LayerWeights } from './layers.js';
import type { Model, ModelKind, Progress } from './model.js';
import { optimizerSlots } from './optimizers.js';
import { CHECKPOINT_KEYS, type CheckpointOptions, type OptimizerOptions } from './options.js';

// A checkpoint is a safetensors file, so that any safetensors reader can open it and a
// 100 000-class head's hundreds of MB of state travel as bytes, not as JSON numbers:
//   layers.<l>.weight [in, out], layers.<l>.bias [out]         the weights, in our layout
//   optimizer.layers.<l>.<weight|bias>.<slot>                  the optimizer's state, once it stepped
//   loss.classWeights [classes]                                when the model has class weights
// and in __metadata__ (strings, as the format requires): format, version, and two JSON
// documents, `model` (kind and options) and `training` (progress and the optimizer's steps).

/** Names a checkpoint's `__metadata__.format`. */
export const CHECKPOINT_FORMAT = 'webgpu-softmax/checkpoint';
/** The one version this code writes and reads; a reader refuses any other. */
export const CHECKPOINT_VERSION = 1;

/** A model's options as a checkpoint saves them (the weights are tensors beside them). */
interface SavedModel {
  readonly kind: ModelKind;
  readonly features: number;
  readonly classes: number;
  readonly hidden: number[];
  readonly activation: Activation;
  readonly seed: number;
  readonly optimizer: OptimizerOptions;
  readonly labelSmoothing: number;
  readonly classWeights: boolean;
}

interface SavedTraining extends Progress {
  readonly optimizerSteps: number;
}

/** A checkpoint read and checked whole, on the host: what `restore` makes a model of. */
export interface ReadCheckpoint extends HostState, Omit<SavedModel, 'classWeights'> {
  /** The loss's class weights, saved as a tensor; null without. */
  readonly classWeights: Float32Array | null;
  readonly layers: LayerWeights[];
  /** Per parameter position (`weight0, bias0, weight1, …`), its optimizer slots; empty before the first step. */
  readonly slots: Float32Array[][];
  readonly optimizerSteps: number;
  readonly progress: Progress;
}

const layerName = (l: number, field: 'weight' | 'bias') => `layers.${l}.${field}`;
const slotName = (p: number, slot: string) => `optimizer.${layerName(p >> 1, p % 2 === 0 ? 'weight' : 'bias')}.${slot}`;

/** A model's training state on the host: a checkpoint before it is encoded, and what a lost device leaves. */
export interface HostState {
  readonly layers: LayerWeights[];
  /** Per parameter position, its optimizer slots; empty before the first step. */
  readonly slots: Float32Array[][];
  readonly optimizerSteps: number;
  readonly progress: Progress;
}

/** The model's weights and optimizer state read back (every read queued at once) with its progress now. */
export async function readHostState(model: Model, where: string): Promise<HostState> {
  model.alive(where);
  const progress: Progress = { ...model.progress };
  const optimizerSteps = model.optimizer.steps;
  const [layers, slots] = await Promise.all([
    model.getLayers(where),
    Promise.all(model.optimizer.state().map((slots) => Promise.all(slots.map((t: Tensor<'float32'>) => t.read())))),
  ]);
  return { layers, slots, optimizerSteps, progress };
}

/** The bytes `readHostState` takes on the device: weights and optimizer state. */
export function hostStateBytes(model: Model): number {
  const params = model.layers.reduce((n, l) => n + (l.inSize + 1) * l.outSize, 0);
  return params * (1 + optimizerSlots(model.options.optimizer).length) * 4;
}

/** The model's checkpoint bytes: its state read back and written beside its options. */
export async function writeCheckpoint(model: Model, where: string): Promise<Uint8Array> {
  return encodeCheckpoint(model, await readHostState(model, where));
}

/** `state` of `model` as checkpoint bytes. */
export async function encodeCheckpoint(model: Model, state: HostState): Promise<Uint8Array> {
  const { layers, slots, optimizerSteps, progress } = state;
  const names = optimizerSlots(model.options.optimizer);
  const tensors: NamedTensor[] = [];
  layers.forEach(({ weight, bias }, l) => {
    const { inSize, outSize } = model.layers[l]!;
    tensors.push({ name: layerName(l, 'weight'), shape: [inSize, outSize], data: weight });
    tensors.push({ name: layerName(l, 'bias'), shape: [outSize], data: bias });
  });
  slots.forEach((values, p) => {
    const shape = p % 2 === 0 ? [model.layers[p >> 1]!.inSize, model.layers[p >> 1]!.outSize] : [model.layers[p >> 1]!.outSize];
    values.forEach((data, k) => tensors.push({ name: slotName(p, names[k]!), shape, data }));
  });
  const o = model.options;
  if (o.classWeights !== null) tensors.push({ name: 'loss.classWeights', shape: [o.classes], data: o.classWeights });
  const saved: SavedModel = {
    kind: model.kind,
    features: o.features,
    classes: o.classes,
    hidden: [...model.hidden],
    activation: model.activation,
    seed: o.seed,
    optimizer: o.optimizer,
    labelSmoothing: o.labelSmoothing,
    classWeights: o.classWeights !== null,
  };
  const training: SavedTraining = { ...progress, optimizerSteps };
  // The safetensors code loads on first use, as the exports' writers do.
  const { writeSafetensorsFile } = await import('../export/safetensors.js');
  return writeSafetensorsFile(tensors, {
    format: CHECKPOINT_FORMAT,
    version: String(CHECKPOINT_VERSION),
    model: JSON.stringify(saved),
    training: JSON.stringify(training),
  });
}

/**
 * Reads checkpoint bytes and checks all of them before anything is made of them: the file's
 * framing, its format and version, the model's kind and options, the training progress, and
 * that exactly the tensors those call for are there, each of its shape, float32 and finite.
 * Errors start with `where` and name the field or tensor at fault.
 */
export async function readCheckpoint(bytes: Uint8Array, where: string): Promise<ReadCheckpoint> {
  const file = (await import('../export/safetensors.js')).parseSafetensorsFile(bytes, where);
  const meta = file.metadata;
  if (meta['format'] !== CHECKPOINT_FORMAT) {
    throw new ValueError(
      `${where}: not a webgpu-softmax checkpoint: its __metadata__.format is ${JSON.stringify(meta['format'])}, not '${CHECKPOINT_FORMAT}'` +
        `${meta['format'] === undefined ? ' (a safetensors export of the weights loads with ctx.importClassifier)' : ''}`,
    );
  }
  if (meta['version'] !== String(CHECKPOINT_VERSION)) {
    throw new ValueError(`${where}: the checkpoint's version is ${JSON.stringify(meta['version'])}; this version of webgpu-softmax reads version ${CHECKPOINT_VERSION}`);
  }
  const model = readModel(where, metaJson(where, meta, 'model'));
  const training = readTraining(where, metaJson(where, meta, 'training'));

  const sizes = [model.features, ...model.hidden, model.classes];
  const expected = new Map<string, number[]>();
  for (let l = 0; l < sizes.length - 1; l++) {
    expected.set(layerName(l, 'weight'), [sizes[l]!, sizes[l + 1]!]);
    expected.set(layerName(l, 'bias'), [sizes[l + 1]!]);
  }
  const slots = optimizerSlots(model.optimizer);
  const positions = training.optimizerSteps > 0 && slots.length > 0 ? 2 * (sizes.length - 1) : 0;
  for (let p = 0; p < positions; p++) {
    const shape = p % 2 === 0 ? [sizes[p >> 1]!, sizes[(p >> 1) + 1]!] : [sizes[(p >> 1) + 1]!];
    for (const slot of slots) expected.set(slotName(p, slot), shape);
  }
  if (model.classWeights) expected.set('loss.classWeights', [model.classes]);

  const entries = new Map(file.entries.map((e) => [e.name, e]));
  for (const [name, shape] of expected) {
    const entry = entries.get(name);
    if (entry === undefined) {
      throw new ShapeError(`${where}: tensor '${name}' [${shape.join(', ')}] is missing (the checkpoint's options call for it)`);
    }
    if (entry.shape.length !== shape.length || entry.shape.some((d, i) => d !== shape[i])) {
      throw new ShapeError(`${where}: tensor '${name}' has shape [${entry.shape.join(', ')}]; the checkpoint's options call for [${shape.join(', ')}]`);
    }
  }
  const extra = [...entries.keys()].filter((name) => !expected.has(name));
  if (extra.length > 0) throw new ShapeError(`${where}: unexpected tensor(s) ${extra.map((n) => `'${n}'`).join(', ')}: the checkpoint's options call for none of them`);

  const read = (name: string) => file.read(entries.get(name)!);
  return {
    ...model,
    classWeights: model.classWeights ? read('loss.classWeights') : null,
    layers: sizes.slice(1).map((_, l) => ({ weight: read(layerName(l, 'weight')), bias: read(layerName(l, 'bias')) })),
    slots: Array.from({ length: positions }, (_, p) => slots.map((slot) => read(slotName(p, slot)))),
    optimizerSteps: training.optimizerSteps,
    progress: { epoch: training.epoch, batch: training.batch, step: training.step, random: training.random },
  };
}

/** Puts a restored checkpoint's optimizer state and progress into a model made from its options and weights. */
export function applyCheckpoint(model: Model, saved: HostState): void {
  model.optimizer.load(saved.optimizerSteps, saved.slots, model.layers.flatMap((l) => [l.weight, l.bias]));
  model.random.state = saved.progress.random;
  Object.assign(model.progress, saved.progress);
}

/** Makes the model again from host state on the context's backend now (the CPU, after a lost device). */
export function rebuild(model: Model, where: string, state: HostState): void {
  model.setLayers(where, state.layers, (l, field) => `layers[${l}].${field}`);
  model.reuploadClassWeights();
  applyCheckpoint(model, state);
}

/** When a run checkpoints, checked before it starts. */
export interface CheckpointPlan {
  readonly everyEpochs: number | null;
  readonly everySteps: number | null;
  readonly save: CheckpointOptions['save'];
}

/** Checks `fit`'s or `fitDataset`'s `checkpoint` option; null without one. */
export function checkpointPlan(where: string, options: CheckpointOptions | undefined): CheckpointPlan | null {
  if (options === undefined) return null;
  checkKnownKeys(where, options, CHECKPOINT_KEYS, 'checkpoint.');
  if (typeof options !== 'object' || options === null) throw new ValueError(`${where}: checkpoint must be an object, got ${String(options)}`);
  if (typeof options.save !== 'function') throw new ValueError(`${where}: checkpoint.save must be a function (bytes, { epoch, step }) => void | Promise<void>, got ${typeof options.save}`);
  const every = (name: 'everyEpochs' | 'everySteps') => {
    const value = options[name];
    if (value === undefined) return null;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw new ValueError(`${where}: checkpoint.${name} must be a positive integer, got ${String(value)}`);
    return value;
  };
  const everyEpochs = every('everyEpochs');
  const everySteps = every('everySteps');
  return { everyEpochs: everyEpochs ?? (everySteps === null ? 1 : null), everySteps, save: options.save };
}

/**
 * A run's checkpoints: due after a step (`everySteps`), written before the next step or at the
 * epoch's end; due at an epoch's end (`everyEpochs`). Each waits for the app's `save`.
 */
export class Checkpointer {
  readonly #model: Model;
  readonly #where: string;
  readonly #plan: CheckpointPlan | null;
  #pending = false;

  constructor(model: Model, where: string, plan: CheckpointPlan | null) {
    this.#model = model;
    this.#where = where;
    this.#plan = plan;
  }

  /** A step was queued: a step checkpoint may now be due. */
  stepped(): void {
    const every = this.#plan?.everySteps ?? null;
    if (every !== null && this.#model.progress.step % every === 0) this.#pending = true;
  }

  /**
   * Whether a step checkpoint fell due: the loops await `beforeStep` only then, so that a step
   * without one awaits nothing more (a dispose queued in a microtask is seen where it was).
   */
  get due(): boolean {
    return this.#pending;
  }

  /** Before a step is queued: writes the step checkpoint that fell due. */
  async beforeStep(): Promise<void> {
    if (this.#pending) await this.#save();
  }

  /** After an epoch ended (`model.endEpoch()`): writes a checkpoint due then. */
  async epochEnded(): Promise<void> {
    const every = this.#plan?.everyEpochs ?? null;
    if (this.#pending || (every !== null && this.#model.progress.epoch % every === 0)) await this.#save();
  }

  async #save(): Promise<void> {
    this.#pending = false;
    const { epoch, step } = this.#model.progress;
    const bytes = await writeCheckpoint(this.#model, this.#where);
    this.#model.stillAlive(this.#where);
    await this.#plan!.save(bytes, { epoch, step });
    this.#model.stillAlive(this.#where);
  }
}

function metaJson(where: string, meta: Readonly<Record<string, string>>, key: string): Record<string, unknown> {
  const text = meta[key];
  if (text === undefined) throw new ValueError(`${where}: the checkpoint's __metadata__.${key} is missing`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new ValueError(`${where}: the checkpoint's __metadata__.${key} is not JSON (${String(cause)})`, { cause });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ValueError(`${where}: the checkpoint's __metadata__.${key} must be a JSON object`);
  return value as Record<string, unknown>;
}

function integer(where: string, name: string, value: unknown, low: number, high = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < low || value > high) {
    throw new ValueError(`${where}: the checkpoint's ${name} is ${JSON.stringify(value) ?? 'missing'}; it must be an integer in [${low}, ${high}]`);
  }
  return value;
}

const KINDS: readonly ModelKind[] = ['softmax-regression', 'classifier'];
const OPTIMIZER_TYPES: readonly OptimizerOptions['type'][] = ['sgd', 'adam', 'adamw', 'rmsprop'];

function readModel(where: string, m: Record<string, unknown>): SavedModel {
  if (!KINDS.includes(m['kind'] as ModelKind)) {
    throw new ValueError(`${where}: the checkpoint's model kind is ${JSON.stringify(m['kind']) ?? 'missing'}; this version knows ${KINDS.map((k) => `'${k}'`).join(' and ')}`);
  }
  const kind = m['kind'] as ModelKind;
  const features = integer(where, 'model.features', m['features'], 1);
  const classes = integer(where, 'model.classes', m['classes'], 1);
  const hidden = m['hidden'];
  if (!Array.isArray(hidden)) throw new ValueError(`${where}: the checkpoint's model.hidden must be an array of layer widths`);
  hidden.forEach((w, i) => integer(where, `model.hidden[${i}]`, w, 1));
  if (kind === 'softmax-regression' && hidden.length > 0) throw new ValueError(`${where}: the checkpoint is of a softmax regression, which has no hidden layers, but model.hidden is [${hidden.join(', ')}]`);
  const activation = m['activation'] as Activation;
  if (!ACTIVATIONS.includes(activation)) throw new ValueError(`${where}: the checkpoint's model.activation is ${JSON.stringify(activation) ?? 'missing'}, not one of ${ACTIVATIONS.join(', ')}`);
  const seed = integer(where, 'model.seed', m['seed'], Number.MIN_SAFE_INTEGER);
  const optimizer = m['optimizer'] as OptimizerOptions | undefined;
  if (typeof optimizer !== 'object' || optimizer === null || !OPTIMIZER_TYPES.includes(optimizer.type)) {
    throw new ValueError(`${where}: the checkpoint's model.optimizer.type is ${JSON.stringify(optimizer?.type) ?? 'missing'}, not one of ${OPTIMIZER_TYPES.join(', ')}`);
  }
  const labelSmoothing = m['labelSmoothing'];
  if (typeof labelSmoothing !== 'number') throw new ValueError(`${where}: the checkpoint's model.labelSmoothing must be a number, got ${JSON.stringify(labelSmoothing) ?? 'nothing'}`);
  if (typeof m['classWeights'] !== 'boolean') throw new ValueError(`${where}: the checkpoint's model.classWeights must be true or false`);
  return { kind, features, classes, hidden: hidden as number[], activation, seed, optimizer, labelSmoothing, classWeights: m['classWeights'] };
}

function readTraining(where: string, t: Record<string, unknown>): SavedTraining {
  return {
    epoch: integer(where, 'training.epoch', t['epoch'], 0),
    batch: integer(where, 'training.batch', t['batch'], 0),
    step: integer(where, 'training.step', t['step'], 0),
    random: integer(where, 'training.random', t['random'], 0, 0xffffffff),
    optimizerSteps: integer(where, 'training.optimizerSteps', t['optimizerSteps'], 0),
  };
}
