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
