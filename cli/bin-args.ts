// The command line of the `webgpu-softmax` bin: `train`, `predict` and `bench`, each checked
// strictly (an unknown option, a stray argument or a bad value is a one-line error, exit 2).

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { choice, UsageError } from './args.js';
import { formatOf, type ModelFormat } from './model-file.js';

export const BIN_USAGE = `Usage: webgpu-softmax <command> [options]

Commands:
  train DATA      train a classifier on DATA (.csv with a header row, or .npy/.npz features)
                  and save it
  predict MODEL DATA
                  the most probable class of each row of DATA, and its probability
  bench           the library's GPU-versus-CPU benchmark on this machine

webgpu-softmax <command> --help lists a command's options.`;

export const TRAIN_USAGE = `Usage: webgpu-softmax train DATA [options]

DATA is a CSV file with a header row (numeric feature columns and one label column), or a
.npy/.npz array of features [rows, features] with --labels. Class ids follow the sorted
label values (scikit-learn's LabelEncoder); the names are saved in the model.

Options:
  --label COLUMN          the CSV's label column (default: the last one)
  --labels FILE           labels for .npy/.npz features: a .npy array or a text file with one
                          label per line (an .npz may hold them as y, Y, labels or target)
  --out FILE              model.onnx | model.safetensors | model.json | model.ckpt (format
                          from the extension; default model.onnx; a .ckpt checkpoint holds
                          the optimizer's state too, for the library's ctx.restore)
  --model linear|mlp      softmax regression, or an MLP with hidden layers (default linear)
  --hidden N[,N...]       the MLP's hidden layer widths (default 100)
  --activation relu|gelu|tanh   the MLP's activation (default relu)
  --optimizer sgd|adam|adamw|rmsprop   (default adam)
  --learning-rate X       (default 0.001)
  --epochs N              (default 10)
  --batch-size N          (default 32)
  --validation-split X    the share of rows held out to validate, in [0, 1) (default 0.1);
                          a seeded random choice of rows, so sorted files validate fairly
  --early-stopping        stop when the validation loss has not improved for --patience
                          epochs, keeping the best epoch's weights
  --patience N            (default 5)
  --backend auto|webgpu|cpu   (default auto: WebGPU on a hardware adapter, else the CPU)
  --seed N                seeds the weights, the split and the shuffling (default 1)
  -h, --help              print this and exit`;

export const PREDICT_USAGE = `Usage: webgpu-softmax predict MODEL DATA [options]

MODEL is a .onnx, .safetensors or .json file (class names from its metadata); DATA a CSV with
a header row (the model's feature columns, by name where the model knows them; a label column,
if present, is scored) or a .npy/.npz array of features.

Options:
  --out FILE        write the predictions there as CSV (default: print them)
  --top-k K         the K most probable classes of each row (default 1)
  --backend auto|webgpu|cpu   (default auto)
  -h, --help        print this and exit`;

export const BENCH_USAGE = `Usage: webgpu-softmax bench [options]

Runs the library's benchmark cases on this machine, in Node: WebGPU (through Dawn's \`webgpu\`
package) against the CPU backend, and TensorFlow.js's backends where TF.js is installed.
Prints the table and saves it as Markdown, JSON and SVG.

Options:
  --quick           the lighter cases, short settings (a few minutes)
  --cases ID,ID     chosen cases
  --out DIR         where to save the report (default webgpu-softmax-bench)
  --add FILE.json   add another run's results (a benchmark page download) to the report
  -h, --help        print this and exit`;

export type Backend = 'auto' | 'webgpu' | 'cpu';

export interface TrainArgs {
  readonly command: 'train';
  readonly data: string;
  readonly label: string | undefined;
  readonly labels: string | undefined;
  readonly out: string;
  readonly format: ModelFormat;
  readonly hidden: readonly number[];
  readonly activation: 'relu' | 'gelu' | 'tanh';
  readonly optimizer: 'sgd' | 'adam' | 'adamw' | 'rmsprop';
  readonly learningRate: number;
  readonly epochs: number;
  readonly batchSize: number;
  readonly validationSplit: number;
  readonly earlyStopping: { readonly patience: number } | null;
  readonly backend: Backend;
  readonly seed: number;
}

export interface PredictArgs {
  readonly command: 'predict';
  readonly model: string;
  readonly data: string;
  readonly out: string | undefined;
  readonly topK: number;
  readonly backend: Backend;
}

export interface BenchArgs {
  readonly command: 'bench';
  readonly quick: boolean;
  readonly cases: readonly string[] | null;
  readonly out: string;
  readonly add: readonly string[];
}

export type BinArgs = TrainArgs | PredictArgs | BenchArgs | { readonly command: 'help'; readonly text: string };

/** `util.parseArgs`, strict, with positionals; Node's complaints become one-line `UsageError`s. */
function strictParse<const O extends NonNullable<ParseArgsConfig['options']>>(argv: readonly string[], options: O) {
  try {
    return parseArgs({ args: [...argv], options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: true });
  } catch (error) {
    throw new UsageError((error as Error).message.split('. ')[0]!.replace(/\.$/, ''));
  }
}

function positional(names: readonly string[], got: readonly string[], command: string): string[] {
  if (got.length < names.length) throw new UsageError(`${command} needs ${names.join(' and ')}`);
  if (got.length > names.length) throw new UsageError(`unexpected argument ${JSON.stringify(got[names.length])}`);
  return [...got];
}

function integer(name: string, raw: string | undefined, fallback: number, min = 1): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isSafeInteger(value) || value < min) {
    throw new UsageError(`--${name} must be ${min === 1 ? 'a positive integer' : `an integer of at least ${min}`}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function number(name: string, raw: string | undefined, fallback: number, ok: (v: number) => boolean, what: string): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || !ok(value)) throw new UsageError(`--${name} must be ${what}, got ${JSON.stringify(raw)}`);
  return value;
}

/** The bin's command and options; throws a `UsageError` naming what is wrong. */
export function parseBinArgs(argv: readonly string[]): BinArgs {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') return { command: 'help', text: BIN_USAGE };
  if (command === 'train') return parseTrain(rest);
  if (command === 'predict') return parsePredict(rest);
  if (command === 'bench') return parseBench(rest);
  throw new UsageError(`unknown command ${JSON.stringify(command)}; the commands are train, predict and bench`);
}

function parseTrain(argv: readonly string[]): BinArgs {
  const { values: v, positionals } = strictParse(argv, {
    label: { type: 'string' },
    labels: { type: 'string' },
    out: { type: 'string' },
    model: { type: 'string' },
    hidden: { type: 'string' },
    activation: { type: 'string' },
    optimizer: { type: 'string' },
    'learning-rate': { type: 'string' },
    epochs: { type: 'string' },
    'batch-size': { type: 'string' },
    'validation-split': { type: 'string' },
    'early-stopping': { type: 'boolean' },
    patience: { type: 'string' },
    backend: { type: 'string' },
    seed: { type: 'string' },
  });
  if (v.help === true) return { command: 'help', text: TRAIN_USAGE };
  const [data] = positional(['DATA'], positionals, 'train');
  const model = choice('model', v.model as string | undefined, ['linear', 'mlp'] as const, 'linear');
  if (model === 'linear') {
    const stray = (['hidden', 'activation'] as const).find((name) => v[name] !== undefined);
    if (stray !== undefined) throw new UsageError(`--${stray} needs --model mlp`);
  }
  const hiddenRaw = (v.hidden as string | undefined) ?? '100';
  if (hiddenRaw.split(',').some((p) => !/^\s*[1-9]\d*\s*$/.test(p))) {
    throw new UsageError(`--hidden must be positive integers separated by commas, got ${JSON.stringify(hiddenRaw)}`);
  }
  const validationSplit = number('validation-split', v['validation-split'] as string | undefined, 0.1, (x) => x >= 0 && x < 1, 'a number in [0, 1)');
  const earlyStopping = v['early-stopping'] === true;
  if (v.patience !== undefined && !earlyStopping) throw new UsageError('--patience needs --early-stopping');
  if (earlyStopping && validationSplit === 0) throw new UsageError('--early-stopping needs validation rows: a --validation-split above 0');
  const out = (v.out as string | undefined) ?? 'model.onnx';
  const format = formatOf(out);
  return {
    command: 'train',
    data: data!,
    label: v.label as string | undefined,
    labels: v.labels as string | undefined,
    out,
    format,
    hidden: model === 'mlp' ? hiddenRaw.split(',').map(Number) : [],
    activation: choice('activation', v.activation as string | undefined, ['relu', 'gelu', 'tanh'] as const, 'relu'),
    optimizer: choice('optimizer', v.optimizer as string | undefined, ['sgd', 'adam', 'adamw', 'rmsprop'] as const, 'adam'),
    learningRate: number('learning-rate', v['learning-rate'] as string | undefined, 0.001, (x) => x > 0, 'a positive number'),
    epochs: integer('epochs', v.epochs as string | undefined, 10),
    batchSize: integer('batch-size', v['batch-size'] as string | undefined, 32),
    validationSplit,
    earlyStopping: earlyStopping ? { patience: integer('patience', v.patience as string | undefined, 5) } : null,
    backend: choice('backend', v.backend as string | undefined, ['auto', 'webgpu', 'cpu'] as const, 'auto'),
    seed: integer('seed', v.seed as string | undefined, 1, 0),
  };
}

function parsePredict(argv: readonly string[]): BinArgs {
  const { values: v, positionals } = strictParse(argv, { out: { type: 'string' }, 'top-k': { type: 'string' }, backend: { type: 'string' } });
  if (v.help === true) return { command: 'help', text: PREDICT_USAGE };
  const [model, data] = positional(['MODEL', 'DATA'], positionals, 'predict');
  return {
    command: 'predict',
    model: model!,
    data: data!,
    out: v.out as string | undefined,
    topK: integer('top-k', v['top-k'] as string | undefined, 1),
    backend: choice('backend', v.backend as string | undefined, ['auto', 'webgpu', 'cpu'] as const, 'auto'),
  };
}

function parseBench(argv: readonly string[]): BinArgs {
  const { values: v, positionals } = strictParse(argv, {
    quick: { type: 'boolean' },
    cases: { type: 'string' },
    out: { type: 'string' },
    add: { type: 'string', multiple: true },
  });
  if (v.help === true) return { command: 'help', text: BENCH_USAGE };
  positional([], positionals, 'bench');
  const cases = v.cases as string | undefined;
  return {
    command: 'bench',
    quick: v.quick === true,
    cases: cases === undefined ? null : cases.split(',').filter((s) => s !== ''),
    out: (v.out as string | undefined) ?? 'webgpu-softmax-bench',
    add: (v.add as string[] | undefined) ?? [],
  };
}
