import { describe, expect, it } from 'vitest';
import { checkArity, checkKnownKeys, checkTaggedKeys, keysOf } from '../src/check-options.js';
import { ValueError } from '../src/errors.js';

describe('checkKnownKeys', () => {
  it('passes known keys, undefined and null', () => {
    expect(() => checkKnownKeys('fit', { epochs: 2 }, ['epochs', 'batchSize'])).not.toThrow();
    expect(() => checkKnownKeys('fit', undefined, ['epochs'])).not.toThrow();
    expect(() => checkKnownKeys('fit', null, ['epochs'])).not.toThrow();
  });

  it('names an unknown key and the one probably meant', () => {
    expect(() => checkKnownKeys('fit', { epoch: 50 }, ['epochs', 'batchSize'])).toThrow(
      new ValueError("fit: unknown option 'epoch' (did you mean 'epochs'?)"),
    );
    expect(() => checkKnownKeys('createContext', { backnd: 'webgpu' }, ['backend', 'gpu', 'device'])).toThrow(
      "createContext: unknown option 'backnd' (did you mean 'backend'?)",
    );
    expect(() => checkKnownKeys('crossEntropy', { reduce: 'sum' }, ['reduction', 'ignoreIndex'])).toThrow(
      "crossEntropy: unknown option 'reduce' (did you mean 'reduction'?)",
    );
    expect(() => checkKnownKeys('fit', { BatchSize: 2 }, ['epochs', 'batchSize'])).toThrow("(did you mean 'batchSize'?)");
    expect(() => checkKnownKeys('fit', { bacthSize: 2 }, ['epochs', 'batchSize'])).toThrow("(did you mean 'batchSize'?)");
  });

  it('suggests nothing where no key is close', () => {
    expect(() => checkKnownKeys('fit', { zebra: 1 }, ['epochs', 'batchSize'])).toThrow(/^fit: unknown option 'zebra'$/);
  });

  it('prefixes nested keys with their path', () => {
    expect(() => checkKnownKeys('softmaxRegression', { lr: 1 }, ['type', 'learningRate'], 'optimizer.')).toThrow(
      "softmaxRegression: unknown option 'optimizer.lr'",
    );
    expect(() => checkKnownKeys('softmaxRegression', { typ: 'adam' }, ['type', 'learningRate'], 'optimizer.')).toThrow(
      "softmaxRegression: unknown option 'optimizer.typ' (did you mean 'optimizer.type'?)",
    );
  });

  it('refuses options that are not an object', () => {
    expect(() => checkKnownKeys('fit', 3, ['epochs'])).toThrow('fit: options must be an object, got number');
    expect(() => checkKnownKeys('fit', [1], ['epochs'])).toThrow('fit: options must be an object, got an array');
    expect(() => checkKnownKeys('x', 'adam', ['type'], 'optimizer.')).toThrow('x: optimizer must be an object, got string');
  });
});

describe('checkTaggedKeys', () => {
  const byType = { sgd: ['type', 'learningRate', 'momentum'], adam: ['type', 'learningRate', 'beta1'] };
  it("takes the keys of the member the type names, else any member's", () => {
    expect(() => checkTaggedKeys('fit', { type: 'adam', learningRate: 1, beta1: 0.9 }, byType)).not.toThrow();
    expect(() => checkTaggedKeys('fit', { type: 'sgd', learningRate: 1, beta1: 0.9 }, byType, 'optimizer.')).toThrow(/^fit: unknown option 'optimizer.beta1'$/);
    expect(() => checkTaggedKeys('fit', { typ: 'sgd', learningRate: 1 }, byType)).toThrow("fit: unknown option 'typ' (did you mean 'type'?)");
    expect(() => checkTaggedKeys('fit', { type: 'lion', beta1: 0.9 }, byType)).not.toThrow();
  });
});

describe('keysOf', () => {
  it('lists the keys it is given, which the compiler holds to the type', () => {
    expect(keysOf<{ a?: number; b: string }>({ a: true, b: true })).toEqual(['a', 'b']);
  });
});

describe('checkArity', () => {
  it('refuses extra arguments', () => {
    expect(() => checkArity('tensor', 2, 2)).not.toThrow();
    expect(() => checkArity('tensor', 3, 2)).toThrow(new ValueError('tensor: takes at most 2 arguments, got 3'));
    expect(() => checkArity('tensor', 3, 2, 'no dtype argument')).toThrow(new ValueError('tensor: takes at most 2 arguments, got 3; no dtype argument'));
  });
});
