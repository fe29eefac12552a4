import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseCommandLine, USAGE, UsageError } from '../cli/args.js';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('npm start options', () => {
  it('reads every option, with defaults that follow the data set and the optimizer', () => {
    expect(parseCommandLine([])).toEqual({
      dataset: 'mnist',
      epochs: 10,
      batchSize: 128,
      optimizer: 'sgd',
      learningRate: 0.5,
      backend: 'both',
      seed: 1,
    });
    expect(parseCommandLine(['--dataset', 'iris', '--optimizer=adam', '--backend', 'cpu', '--seed', '7'])).toEqual({
      dataset: 'iris',
      epochs: 100,
      batchSize: 16,
      optimizer: 'adam',
      learningRate: 0.01,
      backend: 'cpu',
      seed: 7,
    });
    expect(parseCommandLine(['--epochs', '3', '--batch-size', '64', '--learning-rate', '2e-3'])).toMatchObject({
      epochs: 3,
      batchSize: 64,
      learningRate: 0.002,
    });
    expect(parseCommandLine(['--model', 'mlp'])).toMatchObject({ optimizer: 'sgd', learningRate: 0.5, mlp: { hidden: [100], activation: 'relu', learningRate: 0.001 } });
    expect(parseCommandLine(['--model=mlp', '--hidden', '256,128', '--activation', 'gelu', '--mlp-learning-rate', '3e-4'])).toMatchObject({
      mlp: { hidden: [256, 128], activation: 'gelu', learningRate: 0.0003 },
    });
    expect(parseCommandLine(['--optimizer', 'rmsprop'])).toMatchObject({ optimizer: 'rmsprop', learningRate: 0.01 });
    expect(() => parseCommandLine(['--optimizer', 'lbfgs'])).toThrow('--optimizer must be one of sgd, adam, adamw, rmsprop, got "lbfgs"');
    expect(parseCommandLine(['--help'])).toBe('help');
    expect(parseCommandLine(['-h', '--epochs', 'abc'])).toBe('help');
  });

  it('refuses unknown options and bad values, naming them', () => {
    const cases: [string[], string][] = [
      [['--bogus', '1'], "Unknown option '--bogus'"],
      [['--epochs', 'abc'], '--epochs must be a positive integer, got "abc"'],
      [['--epochs', '0'], '--epochs must be a positive integer, got "0"'],
      [['--epochs', '2.5'], '--epochs must be a positive integer, got "2.5"'],
      [['--epochs'], "Option '--epochs <value>' argument missing"],
      [['--learning-rate=-1'], '--learning-rate must be a positive number, got "-1"'],
      [['--learning-rate', 'Infinity'], '--learning-rate must be a positive number, got "Infinity"'],
      [['--dataset', 'cifar'], '--dataset must be one of mnist, iris, got "cifar"'],
      [['extra'], "Unexpected argument 'extra'"],
      [['--model', 'cnn'], '--model must be one of linear, mlp, got "cnn"'],
      [['--hidden', '100'], '--hidden needs --model mlp'],
      [['--model', 'mlp', '--hidden', '100,0'], '--hidden must be positive integers separated by commas, got "100,0"'],
      [['--model', 'mlp', '--hidden', '1e2'], '--hidden must be positive integers separated by commas, got "1e2"'],
      [['--model', 'mlp', '--activation', 'sigmoid'], '--activation must be one of relu, gelu, tanh, got "sigmoid"'],
    ];
    for (const [argv, message] of cases) {
      expect(() => parseCommandLine(argv)).toThrow(UsageError);
      expect(() => parseCommandLine(argv)).toThrow(message);
    }
  });
});

describe('npm start on the command line', () => {
  beforeAll(() => {
    const build = spawnSync('npx', ['vite', 'build', '--config', 'cli/vite.config.ts'], { cwd: root, encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`building the CLI failed:\n${build.stderr}`);
  }, 120_000);

  const start = (...argv: string[]) => spawnSync('node', ['build/train.js', ...argv], { cwd: root, encoding: 'utf8', timeout: 60_000 });

  it('prints the usage for --help and exits 0, before loading any data', () => {
    const r = start('--help');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(USAGE);
  });

  it('--model mlp trains an MLP beside the linear model on both backends and prints both accuracies', () => {
    const r = start('--dataset', 'iris', '--model', 'mlp', '--hidden', '8', '--mlp-learning-rate', '0.02', '--epochs', '40', '--backend', 'both');
    expect(r.status, r.stderr).toBe(0);
    const line = r.stdout.split('\n').find((l) => l.startsWith('Test accuracy: '));
    const accuracies = [...(line ?? '').matchAll(/(linear|mlp 8) (webgpu|cpu) (\d\.\d{4})/g)].map((m) => [m[1], m[2], Number(m[3])]);
    expect(accuracies.map(([model, backend]) => `${model} ${backend}`)).toEqual(['linear webgpu', 'mlp 8 webgpu', 'linear cpu', 'mlp 8 cpu']);
    for (const [, , accuracy] of accuracies) expect(accuracy).toBeGreaterThan(0.8);
  });

  it('exits 2 with one line, and no stack trace, for a bad command line', () => {
    for (const argv of [['--bogus', '1'], ['--epochs', 'abc']]) {
      const r = start(...argv);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^npm start: .* \(npm start -- --help lists the options\)$/);
    }
  });
});
