import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Classifier, Context, createContext, SoftmaxRegression, Tensor, ValueError } from '../src/index.js';
import { labels, uniform } from './helpers/random.js';
import { publicInputTypes } from './helpers/public-types.js';

// In plain JavaScript nothing catches a misspelt option: `fit(x, y, { epoch: 50 })` trained one
// epoch in silence. Every options object of the public API, nested ones included, refuses a
// key it does not know (src/check-options.ts), and every method refuses extra arguments. The
// tables below must name every public options type and every public method: a new one
// without an entry fails here, so a new option cannot ship unchecked.

const FEATURES = 4;
const CLASSES = 3;
const ROWS = 8;

interface Env {
  readonly ctx: Context;
  readonly x: Tensor<'float32'>;
  readonly y: Tensor<'int32'>;
  readonly z: Tensor<'float32'>;
  readonly w: Tensor<'float32'>;
  readonly regression: SoftmaxRegression;
  readonly classifier: Classifier;
  readonly onnx: Uint8Array;
}

/** An unknown key at one place of one call, and the error it must give. */
interface Probe {
  readonly call: (env: Env) => unknown;
  readonly error: string;
}

// Plain JavaScript's view: the calls below are what a user without a compiler might write.
type Loose = any;
const loose = (v: unknown): Loose => v;

const weights = () => ({ weights: new Float32Array(FEATURES * CLASSES), bias: new Float32Array(CLASSES) });
const layers = () => [{ weight: new Float32Array(FEATURES * 5), bias: new Float32Array(5) }, { weight: new Float32Array(5 * CLASSES), bias: new Float32Array(CLASSES) }];

/** Per public options type (as src/ names it): the probes that put an unknown key in it. */
const PROBES: Record<string, readonly Probe[]> = {
  ContextOptions: [
    { call: () => createContext(loose({ backend: 'cpu', backnd: 'webgpu' })), error: "createContext: unknown option 'backnd' (did you mean 'backend'?)" },
  ],
  TuneOptions: [{ call: ({ ctx }) => ctx.tune(loose({ budget: 100 })), error: "tune: unknown option 'budget' (did you mean 'budgetMs'?)" }],
  KernelVariants: [
    { call: () => createContext(loose({ backend: 'cpu', kernels: { matmull: 'tiled' } })), error: "createContext: unknown option 'kernels.matmull' (did you mean 'kernels.matmul'?)" },
  ],
  MatmulOptions: [{ call: ({ ctx, x, w }) => ctx.matmul(x, w, loose({ transposeb: true })), error: "matmul: unknown option 'transposeb' (did you mean 'transposeB'?)" }],
  SumOptions: [{ call: ({ ctx, z }) => ctx.sum(z, loose({ axes: 0 })), error: "sum: unknown option 'axes' (did you mean 'axis'?)" }],
  ReadOptions: [{ call: ({ z }) => z.read(loose({ type: 'float16' })), error: "read: unknown option 'type' (did you mean 'dtype'?)" }],
  CrossEntropyOptions: [
    { call: ({ ctx, z, y }) => ctx.crossEntropy(z, y, loose({ reduce: 'sum' })), error: "crossEntropy: unknown option 'reduce' (did you mean 'reduction'?)" },
    { call: ({ ctx, z, y }) => ctx.crossEntropyWithGrad(z, y, loose({ ignore_index: 1 })), error: "crossEntropyWithGrad: unknown option 'ignore_index' (did you mean 'ignoreIndex'?)" },
  ],
  LinearCrossEntropyOptions: [
    { call: ({ ctx, x, w, y }) => ctx.linearCrossEntropy(x, w, y, loose({ transposeWeights: true })), error: "linearCrossEntropy: unknown option 'transposeWeights' (did you mean 'transposeWeight'?)" },
    { call: ({ ctx, x, w, y }) => ctx.linearCrossEntropyWithGrad(x, w, y, loose({ reduce: 'none' })), error: "linearCrossEntropyWithGrad: unknown option 'reduce' (did you mean 'reduction'?)" },
  ],
  SoftmaxRegressionOptions: [
    {
      call: ({ ctx }) => ctx.softmaxRegression(loose({ features: 4, classes: 3, optimzer: { type: 'adam' } })),
      error: "softmaxRegression: unknown option 'optimzer' (did you mean 'optimizer'?)",
    },
  ],
  Init: [{ call: ({ ctx }) => ctx.softmaxRegression(loose({ features: FEATURES, classes: CLASSES, init: { ...weights(), scale: 1 } })), error: "softmaxRegression: unknown option 'init.scale'" }],
  SgdOptions: [
    {
      call: ({ ctx }) => ctx.softmaxRegression(loose({ features: 4, classes: 3, optimizer: { type: 'sgd', learningRate: 0.1, momentun: 0.9 } })),
      error: "softmaxRegression: unknown option 'optimizer.momentun' (did you mean 'optimizer.momentum'?)",
    },
    // Adam's key on SGD: known to another optimizer, not to this one.
    { call: ({ ctx }) => ctx.softmaxRegression(loose({ features: 4, classes: 3, optimizer: { type: 'sgd', learningRate: 0.1, beta1: 0.9 } })), error: "softmaxRegression: unknown option 'optimizer.beta1'" },
    { call: ({ ctx }) => ctx.softmaxRegression(loose({ features: 4, classes: 3, optimizer: { typ: 'sgd', learningRate: 0.1 } })), error: "softmaxRegression: unknown option 'optimizer.typ' (did you mean 'optimizer.type'?)" },
  ],
  AdamOptions: [
    { call: ({ ctx }) => ctx.classifier(loose({ features: 4, classes: 3, optimizer: { type: 'adam', learningRate: 0.01, beta_1: 0.8 } })), error: "classifier: unknown option 'optimizer.beta_1' (did you mean 'optimizer.beta1'?)" },
  ],
  AdamWOptions: [
    {
      call: ({ ctx }) => ctx.softmaxRegression(loose({ features: 4, classes: 3, optimizer: { type: 'adamw', learningRate: 0.01, weight_decay: 0.1 } })),
      error: "softmaxRegression: unknown option 'optimizer.weight_decay' (did you mean 'optimizer.weightDecay'?)",
    },
  ],
  RmspropOptions: [
    {
      call: ({ ctx }) => ctx.softmaxRegression(loose({ features: 4, classes: 3, optimizer: { type: 'rmsprop', learningRate: 0.01, centred: true } })),
      error: "softmaxRegression: unknown option 'optimizer.centred' (did you mean 'optimizer.centered'?)",
    },
  ],
  LossOptions: [
    { call: ({ ctx }) => ctx.softmaxRegression(loose({ features: 4, classes: 3, loss: { labelSmooting: 0.1 } })), error: "softmaxRegression: unknown option 'loss.labelSmooting' (did you mean 'loss.labelSmoothing'?)" },
    { call: ({ ctx }) => ctx.classifier(loose({ features: 4, classes: 3, loss: { reduction: 'sum' } })), error: "classifier: unknown option 'loss.reduction'" },
  ],
  SoftmaxRegressionWeights: [{ call: ({ regression }) => regression.setWeights(loose({ ...weights(), biases: new Float32Array(3) })), error: "setWeights: unknown option 'biases' (did you mean 'bias'?)" }],
  ClassifierOptions: [{ call: ({ ctx }) => ctx.classifier(loose({ features: 4, classes: 3, hiden: [5] })), error: "classifier: unknown option 'hiden' (did you mean 'hidden'?)" }],
  LayerWeights: [
    {
      call: ({ classifier }) => classifier.setWeights(loose([layers()[0], { ...layers()[1], weights: new Float32Array(15) }])),
      error: "setWeights: layers: unknown option '[1].weights' (did you mean '[1].weight'?)",
    },
    { call: ({ ctx }) => ctx.classifier(loose({ features: FEATURES, classes: CLASSES, hidden: [5], init: [layers()[0], { ...layers()[1], bais: 0 }] })), error: "classifier: init: unknown option '[1].bais' (did you mean '[1].bias'?)" },
  ],
  ImportClassifierOptions: [
    { call: ({ ctx, onnx }) => ctx.importClassifier(onnx, loose({ format: 'onnx', activaton: 'relu' })), error: "importClassifier: unknown option 'activaton' (did you mean 'activation'?)" },
    { call: ({ ctx, onnx }) => ctx.importClassifier(onnx, loose({ format: 'onnx', optimizer: { type: 'adam', learningRate: 1, lr: 1 } })), error: "importClassifier: unknown option 'optimizer.lr'" },
  ],
  FitOptions: [
    { call: ({ regression, x, y }) => regression.fit(x, y, loose({ epoch: 50 })), error: "fit: unknown option 'epoch' (did you mean 'epochs'?)" },
    { call: ({ classifier, x, y }) => classifier.fit(x, y, loose({ batchsize: 4 })), error: "fit: unknown option 'batchsize' (did you mean 'batchSize'?)" },
    { call: ({ classifier, x, y }) => classifier.fit(x, y, loose({ nonFinte: 'skip' })), error: "fit: unknown option 'nonFinte' (did you mean 'nonFinite'?)" },
  ],
  EarlyStoppingOptions: [
    {
      call: ({ regression, x, y }) => regression.fit(x, y, loose({ validationSplit: 0.5, earlyStopping: { patiense: 2 } })),
      error: "fit: unknown option 'earlyStopping.patiense' (did you mean 'earlyStopping.patience'?)",
    },
    {
      call: ({ regression, x, y }) => regression.fitDataset([{ x, y }], loose({ validationData: [x, y], earlyStopping: { monitr: 'valLoss' } })),
      error: "fitDataset: unknown option 'earlyStopping.monitr' (did you mean 'earlyStopping.monitor'?)",
    },
  ],
  StepSchedule: [
    { call: ({ regression, x, y }) => regression.fit(x, y, loose({ learningRate: { type: 'step', stepSize: 2, gama: 0.5 } })), error: "fit: unknown option 'learningRate.gama' (did you mean 'learningRate.gamma'?)" },
  ],
  CosineSchedule: [
    { call: ({ regression, x, y }) => regression.fit(x, y, loose({ learningRate: { type: 'cosine', totalStep: 10 } })), error: "fit: unknown option 'learningRate.totalStep' (did you mean 'learningRate.totalSteps'?)" },
    // A step schedule's key on a cosine.
    { call: ({ regression }) => regression.fitDataset([], loose({ learningRate: { type: 'cosine', totalSteps: 10, stepSize: 2 } })), error: "fitDataset: unknown option 'learningRate.stepSize'" },
  ],
  Warmup: [
    {
      call: ({ regression, x, y }) => regression.fit(x, y, loose({ learningRate: { type: 'cosine', totalSteps: 10, warmupStep: 2 } })),
      error: "fit: unknown option 'learningRate.warmupStep' (did you mean 'learningRate.warmupSteps'?)",
    },
  ],
  FitDatasetOptions: [
    { call: ({ regression, x, y }) => regression.fitDataset([{ x, y }], loose({ epochs: 1, batchSize: 4 })), error: "fitDataset: unknown option 'batchSize'" },
    { call: ({ regression, x, y }) => regression.fitDataset([{ x, y }], loose({ nonfinite: 'skip' })), error: "fitDataset: unknown option 'nonfinite' (did you mean 'nonFinite'?)" },
  ],
  Batch: [
    {
      call: ({ regression }) => regression.fitDataset(loose([{ x: uniform(FEATURES, 1), y: new Int32Array([0]), weight: new Float32Array([2]) }])),
      error: "fitDataset: batch 0 of epoch 0: unknown option 'weight'",
    },
  ],
  CheckpointOptions: [
    { call: ({ regression, x, y }) => regression.fit(x, y, loose({ checkpoint: { everyEpoch: 1, save: () => {} } })), error: "fit: unknown option 'checkpoint.everyEpoch' (did you mean 'checkpoint.everyEpochs'?)" },
    {
      call: ({ classifier }) => classifier.fitDataset([], loose({ checkpoint: { everystep: 1, save: () => {} } })),
      error: "fitDataset: unknown option 'checkpoint.everystep' (did you mean 'checkpoint.everySteps'?)",
    },
  ],
  PredictOptions: [{ call: ({ classifier, x }) => classifier.predict(x, loose({ top: 2 })), error: "predict: unknown option 'top' (did you mean 'topK'?)" }],
  WriteOnnxOptions: [
    { call: ({ classifier }) => classifier.export('onnx', loose({ opSet: 20 })), error: "export('onnx'): unknown option 'opSet' (did you mean 'opset'?)" },
    { call: ({ regression }) => regression.export('safetensors', loose({ opset: 20 })), error: "export('safetensors'): unknown option 'opset'" },
  ],
};

/** Types the API hands out, or documents it reads field by field: not options, so not probed. */
const OUTPUTS: Record<string, string> = {
  MemoryInfo: 'returned by ctx.memory()',
  AdapterReport: 'returned by ctx.adapter',
  DeviceLoss: 'returned by ctx.lost',
  KernelTiming: 'returned by ctx.profile()',
  Profile: 'returned by ctx.profile()',
  EpochLogs: "handed to fit's onEpochEnd",
  CheckpointInfo: "handed to fit's checkpoint.save",
  Evaluation: 'returned by evaluate()',
  History: 'returned by fit()',
  TfjsModelArtifacts: "returned by export('tfjs')",
  TfjsModelTopology: "part of what export('tfjs') returns",
  TfjsLayerJson: "part of what export('tfjs') returns",
  TfjsWeightSpec: "part of what export('tfjs') returns",
  TopK: 'returned by predict(x, { topK })',
  SoftmaxRegressionJSON: 'a saved model: loadSoftmaxRegression checks its every field and value (test/load-model.test.ts)',
  ClassifierJSON: 'a saved model: loadClassifier checks its layers and rebuilds ClassifierOptions from named fields',
  TuningTable: 'returned by ctx.tuning(); createContext({ tuning }) checks its version, library and adapter, and a mismatch is ignored with a reason (test/tuning.test.ts)',
  TunedAdapter: 'part of what ctx.tuning() returns',
  TunedChoice: 'part of what ctx.tuning() returns',
  RejectedKernel: 'part of what ctx.tuning() returns',
  SelfCheckCost: 'part of what ctx.tuning() returns',
};

describe('every options type of the public API is probed with an unknown key', () => {
  it('the probe table names every options type src/ has, nested ones included, and nothing else', () => {
    const found = publicInputTypes(new Set(Object.keys(OUTPUTS)));
    const unprobed = found.filter((t) => !(t.name in PROBES) && !(t.name in OUTPUTS)).map((t) => `${t.name} (${t.via})`);
    expect(unprobed, 'options types with no probe here: add one to PROBES (or, for a type only handed out, to OUTPUTS)').toEqual([]);
    const names = new Set(found.map((t) => t.name));
    expect([...Object.keys(PROBES), ...Object.keys(OUTPUTS)].filter((n) => !names.has(n)), 'table entries for types src/ no longer takes').toEqual([]);
  });

  let env: Env;
  beforeAll(async () => {
    const ctx = await createContext({ backend: 'cpu' });
    const x = ctx.tensor(uniform(ROWS * FEATURES, 1), [ROWS, FEATURES]);
    const y = ctx.tensor(labels(ROWS, CLASSES, 2));
    const regression = ctx.softmaxRegression({ features: FEATURES, classes: CLASSES });
    const classifier = ctx.classifier({ features: FEATURES, classes: CLASSES, hidden: [5] });
    env = {
      ctx,
      x,
      y,
      z: ctx.tensor(uniform(ROWS * CLASSES, 3), [ROWS, CLASSES]),
      w: ctx.tensor(uniform(FEATURES * CLASSES, 4), [FEATURES, CLASSES]),
      regression,
      classifier,
      onnx: await classifier.export('onnx'),
    };
  });
  afterAll(() => env.ctx.destroy());

  it.each(Object.entries(PROBES).flatMap(([type, probes]) => probes.map((p) => [type, p.error, p] as const)))('%s: %s', async (_type, error, probe) => {
    const before = env.ctx.memory();
    await expect((async () => probe.call(env))()).rejects.toThrow(new ValueError(error));
    // Refused before any work: nothing allocated, nothing left behind.
    expect(env.ctx.memory().tensors).toBe(before.tensors);
  });

  it("refuses the issue's five calls, each naming what is wrong", async () => {
    const { ctx, regression, z, y } = env;
    await expect(createContext(loose({ backend: 'cpu', backnd: 'webgpu' }))).rejects.toThrow("createContext: unknown option 'backnd' (did you mean 'backend'?)");
    expect(() => ctx.softmaxRegression(loose({ features: 4, classes: 3, optimzer: { type: 'adam' } }))).toThrow("softmaxRegression: unknown option 'optimzer' (did you mean 'optimizer'?)");
    await expect(regression.fit(env.x, y, loose({ epoch: 50 }))).rejects.toThrow("fit: unknown option 'epoch' (did you mean 'epochs'?)");
    expect(() => ctx.crossEntropy(z, y, loose({ reduce: 'sum' }))).toThrow("crossEntropy: unknown option 'reduce' (did you mean 'reduction'?)");
    expect(() => loose(ctx).tensor(new Float32Array(4), [2, 2], 'float16', 'int32')).toThrow('tensor: takes at most 3 arguments, got 4');
  });
});

/**
 * Per public class, each method's most arguments. Every method on the prototypes must be here
 * or in EXEMPT, so a new method is checked too.
 */
const ARITY: Record<string, Record<string, number>> = {
  Context: {
    tensor: 3,
    tensorFromGPUBuffer: 4,
    gpuBuffer: 1,
    matmul: 3,
    softmax: 1,
    logSoftmax: 1,
    softmaxBackward: 2,
    crossEntropy: 3,
    crossEntropyWithGrad: 3,
    linearCrossEntropy: 4,
    linearCrossEntropyWithGrad: 4,
    sum: 2,
    softmaxRegression: 1,
    loadSoftmaxRegression: 1,
    classifier: 1,
    loadClassifier: 1,
    importClassifier: 2,
    memory: 0,
    resetPeakMemory: 0,
    profile: 1,
    flush: 0,
    restore: 1,
    tune: 1,
    tuning: 0,
  },
  SoftmaxRegression: { trainStep: 2, fit: 3, fitDataset: 2, evaluate: 2, predict: 2, getWeights: 0, setWeights: 1, export: 2, checkpoint: 0, ready: 1 },
  Classifier: { trainStep: 2, fit: 3, fitDataset: 2, evaluate: 2, predict: 2, getWeights: 0, setWeights: 1, export: 2, checkpoint: 0, ready: 1 },
  Tensor: { read: 1 },
};

/** Methods that take any arguments, and why. */
const EXEMPT: Record<string, string> = {
  destroy: 'cleanup must never throw: it is passed as a callback (afterAll(ctx.destroy), finally handlers) that may hand it arguments',
  dispose: 'as destroy',
  toJSON: 'JSON.stringify calls it with the property name',
  toString: 'called by the language',
};

const CLASSES_UNDER_TEST = { Context, SoftmaxRegression, Classifier, Tensor } as const;

describe('extra arguments are refused', () => {
  it('the arity table names every public method', () => {
    for (const [name, cls] of Object.entries(CLASSES_UNDER_TEST)) {
      // Own and inherited: the models share their training methods through a base class.
      const methods = new Set<string>();
      for (let proto: object | null = cls.prototype; proto !== null && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
        for (const m of Object.getOwnPropertyNames(proto)) {
          const d = Object.getOwnPropertyDescriptor(proto, m)!;
          if (m !== 'constructor' && typeof d.value === 'function' && !(m in EXEMPT)) methods.add(m);
        }
      }
      expect([...methods].sort(), `${name}: methods with no entry in ARITY`).toEqual(Object.keys(ARITY[name]!).sort());
    }
  });

  let env: Env;
  beforeAll(async () => {
    const ctx = await createContext({ backend: 'cpu' });
    const x = ctx.tensor(uniform(ROWS * FEATURES, 1), [ROWS, FEATURES]);
    const classifier = ctx.classifier({ features: FEATURES, classes: CLASSES });
    env = { ctx, x, y: ctx.tensor(labels(ROWS, CLASSES, 2)), z: x, w: x, regression: ctx.softmaxRegression({ features: FEATURES, classes: CLASSES }), classifier, onnx: new Uint8Array() };
  });
  afterAll(() => env.ctx.destroy());

  const cases = Object.entries(ARITY).flatMap(([cls, methods]) => Object.entries(methods).map(([method, most]) => [`${cls}.${method}`, cls, method, most] as const));
  it.each(cases)('%s', async (_name, cls, method, most) => {
    const target: Loose = { Context: env.ctx, SoftmaxRegression: env.regression, Classifier: env.classifier, Tensor: env.x }[cls];
    // The arity is checked first, so the arguments' values do not matter.
    const args = new Array<unknown>(most + 1).fill(undefined);
    const plural = most === 1 ? '' : 's';
    await expect((async () => target[method](...args))()).rejects.toThrow(new RegExp(`^${method}: takes at most ${most} argument${plural}, got ${most + 1}`));
  });

  it('createContext', async () => {
    await expect(loose(createContext)({ backend: 'cpu' }, 'webgpu')).rejects.toThrow('createContext: takes at most 1 argument, got 2');
  });
});
