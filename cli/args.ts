import { parseArgs, type ParseArgsConfig } from 'node:util';

export const USAGE = `Usage: npm start -- [options]

Trains a softmax-regression classifier on WebGPU (Node's Dawn; SwiftShader where there is no
GPU) and on the CPU backend, side by side, and prints accuracy and seconds per epoch. With
--model mlp, an MLP trains beside it on each backend, with Adam.

Options:
  --dataset mnist|iris        data set (default mnist)
  --epochs N                  passes over the training rows (default 10 for mnist, 100 for iris)
  --batch-size N              rows per step (default 128 for mnist, 16 for iris)
  --optimizer sgd|adam|adamw|rmsprop   (default sgd)
  --learning-rate X           a positive number (default 0.5 for sgd, 0.01 for the others)
  --backend both|webgpu|cpu   (default both)
  --seed N                    seeds the shuffling (default 1)
  --model linear|mlp          mlp: also an MLP beside the linear model (default linear)
  --hidden N[,N...]           the MLP's hidden layer widths (default 100)
  --activation relu|gelu|tanh the MLP's activation (default relu)
  --mlp-learning-rate X       the MLP's Adam learning rate (default 0.001)
  -h, --help                  print this and exit`;

/** A command line that cannot be run: printed as one line, with exit code 2. */
export class UsageError extends Error {}

export interface TrainOptions {
  readonly dataset: 'mnist' | 'iris';
  readonly epochs: number;
  readonly batchSize: number;
  readonly optimizer: 'sgd' | 'adam' | 'adamw' | 'rmsprop';
  readonly learningRate: number;
  readonly backend: 'both' | 'webgpu' | 'cpu';
  readonly seed: number;
  /** With `--model mlp`: the MLP that trains beside the linear model, with Adam. */
  readonly mlp?: MlpOptions;
}

export interface MlpOptions {
  readonly hidden: number[];
  readonly activation: 'relu' | 'gelu' | 'tanh';
  readonly learningRate: number;
}

/** The options of `npm start`, or `'help'`; throws a `UsageError` naming what is wrong. */
export function parseCommandLine(argv: readonly string[]): TrainOptions | 'help' {
  const values = parseOptions(argv, {
    dataset: { type: 'string' },
    epochs: { type: 'string' },
    'batch-size': { type: 'string' },
    optimizer: { type: 'string' },
    'learning-rate': { type: 'string' },
    backend: { type: 'string' },
    seed: { type: 'string' },
    model: { type: 'string' },
    hidden: { type: 'string' },
    activation: { type: 'string' },
    'mlp-learning-rate': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help === true) return 'help';
  const model = choice('model', values.model, ['linear', 'mlp'] as const, 'linear');
  if (model === 'linear') {
    const stray = (['hidden', 'activation', 'mlp-learning-rate'] as const).find((name) => values[name] !== undefined);
    if (stray !== undefined) throw new UsageError(`--${stray} needs --model mlp`);
  }
  const dataset = choice('dataset', values.dataset, ['mnist', 'iris'] as const, 'mnist');
  const optimizer = choice('optimizer', values.optimizer, ['sgd', 'adam', 'adamw', 'rmsprop'] as const, 'sgd');
  return {
    dataset,
    optimizer,
    backend: choice('backend', values.backend, ['both', 'webgpu', 'cpu'] as const, 'both'),
    epochs: positiveInteger('epochs', values.epochs, dataset === 'mnist' ? 10 : 100),
    batchSize: positiveInteger('batch-size', values['batch-size'], dataset === 'mnist' ? 128 : 16),
    seed: positiveInteger('seed', values.seed, 1),
    learningRate: positiveNumber('learning-rate', values['learning-rate'], optimizer === 'sgd' ? 0.5 : 0.01),
    ...(model === 'mlp'
      ? {
          mlp: {
            hidden: widths(values.hidden ?? '100'),
            activation: choice('activation', values.activation, ['relu', 'gelu', 'tanh'] as const, 'relu'),
            learningRate: positiveNumber('mlp-learning-rate', values['mlp-learning-rate'], 0.001),
          },
        }
      : {}),
  };
}

/** `--hidden 100` or `--hidden 256,128`: positive integers, comma-separated. */
function widths(raw: string): number[] {
  const parts = raw.split(',');
  if (parts.some((p) => !/^\s*[1-9]\d*\s*$/.test(p))) {
    throw new UsageError(`--hidden must be positive integers separated by commas, got ${JSON.stringify(raw)}`);
  }
  return parts.map(Number);
}

/** `util.parseArgs` in strict mode, its complaints turned into `UsageError`s. */
export function parseOptions<const T extends NonNullable<ParseArgsConfig['options']>>(argv: readonly string[], options: T) {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    // Node's messages carry a hint about '--' that does not apply through npm; keep the first sentence.
    throw new UsageError((error as Error).message.split('. ')[0]!.replace(/\.$/, ''));
  }
}

/** Runs `parse`; a `UsageError` prints `program: message` as one line and exits with code 2. */
export function parseOrExit<T>(program: string, parse: () => T, hint = ''): T {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`${program}: ${error.message}${hint}`);
    process.exit(2);
  }
}

function positiveInteger(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isSafeInteger(value) || value < 1) {
    throw new UsageError(`--${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function positiveNumber(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value <= 0) {
    throw new UsageError(`--${name} must be a positive number, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** `raw` if it is one of `choices`, `fallback` if it is missing; a `UsageError` otherwise. */
export function choice<T extends string>(name: string, raw: string | undefined, choices: readonly T[], fallback: T): T {
  if (raw === undefined) return fallback;
  if (!(choices as readonly string[]).includes(raw)) {
    throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got ${JSON.stringify(raw)}`);
  }
  return raw as T;
}
