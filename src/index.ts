// The published types use `Symbol.dispose` (for `using`) and the WebGPU types; an app whose
// `lib` lacks them (say `["es2022", "dom"]`) gets them through these, kept in the .d.ts.
/// <reference lib="esnext.disposable" preserve="true" />
/// <reference types="@webgpu/types" preserve="true" />
export { createContext, type ContextOptions } from './create-context.js';
export { Context, type MemoryInfo } from './context.js';
export type { AdapterReport } from './webgpu/device.js';
export type { KernelVariants } from './webgpu/kernel-host.js';
export type { DeviceLoss } from './backend.js';
export { Tensor, type DType, type ReadOptions, type TypedArrayFor } from './tensor.js';
export type { Shape } from './shape.js';
export type { BackendKind, KernelTiming, Profile, Reduction } from './backend.js';
export type { CrossEntropyOptions } from './ops/cross-entropy.js';
export type { LinearCrossEntropyOptions } from './ops/linear-cross-entropy.js';
export type { MatmulOptions } from './ops/matmul.js';
export type { SumOptions } from './ops/sum.js';
export type { RejectedKernel, SelfCheckCost, TunableOp, TunedAdapter, TunedChoice, TuningTable } from './tuning-table.js';
export type { TuneOptions } from './tune-options.js';
export { SoftmaxRegression, type SoftmaxRegressionWeights } from './train/softmax-regression.js';
export { Classifier, type ClassifierInit, type ClassifierJSON, type ClassifierOptions, type ImportClassifierOptions } from './train/classifier.js';
export type { ExportFormat } from './train/model.js';
export type { TfjsLayerJson, TfjsModelArtifacts, TfjsModelTopology, TfjsWeightSpec } from './export/tfjs.js';
export type { WriteOnnxOptions as ExportOptions } from './export/onnx.js';
export type { Activation } from './train/activations.js';
export type { LayerWeights } from './train/layers.js';
export { Random } from './train/random.js';
export type {
  AdamOptions,
  AdamWOptions,
  Batch,
  BatchSource,
  CheckpointInfo,
  CheckpointOptions,
  Dataset,
  EarlyStoppingOptions,
  EpochLogs,
  Evaluation,
  FitDatasetOptions,
  FitOptions,
  History,
  Init,
  LossOptions,
  OptimizerOptions,
  NonFiniteMode,
  PredictOptions,
  RmspropOptions,
  SgdOptions,
  SoftmaxRegressionJSON,
  SoftmaxRegressionOptions,
  TopK,
} from './train/options.js';
export type { CosineSchedule, LearningRateSchedule, StepSchedule, Warmup } from './train/schedules.js';
export {
  WebGPUSoftmaxError,
  ShapeError,
  DTypeError,
  ValueError,
  DisposedError,
  BusyError,
  NonFiniteError,
  ContextMismatchError,
  WebGPUUnavailableError,
  LimitError,
  DeviceLostError,
  DeviceError,
  ShaderCompileError,
  WorkerThreadError,
} from './errors.js';
