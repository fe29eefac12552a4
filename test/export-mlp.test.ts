import { describe, expect, it } from 'vitest';
import { ShapeError, ValueError } from '../src/errors.js';
import { exportMlp, layerSizes, readOnnx, readSafetensors, readTfjs, validateMlp, type MlpDescription } from '../src/export/index.js';
import { randomMlp } from './helpers/mlp.js';

describe('the MLP description', () => {
  it('chains its layer sizes from features through hidden to classes', () => {
    expect(layerSizes({ features: 784, hidden: [100], classes: 10 })).toEqual([[784, 100], [100, 10]]);
    expect(layerSizes({ features: 4, hidden: [], classes: 3 })).toEqual([[4, 3]]);
    expect(layerSizes({ features: 4, hidden: [8, 6], classes: 3 })).toEqual([[4, 8], [8, 6], [6, 3]]);
  });

  it('refuses malformed descriptions, naming the field at fault', () => {
    const good = randomMlp(4, [3], 2, 'relu', 1);
    const cases: [string, MlpDescription, RegExp, typeof ShapeError | typeof ValueError][] = [
      ['fractional features', { ...good, features: 4.5 }, /features must be a positive integer, got 4.5/, ShapeError],
      ['zero classes', { ...good, classes: 0 }, /classes must be a positive integer, got 0/, ShapeError],
      ['a bad hidden width', { ...good, hidden: [-3] }, /hidden\[0\] must be a positive integer, got -3/, ShapeError],
      ['an unknown activation', { ...good, activation: 'elu' as 'relu' }, /activation must be one of 'relu', 'gelu', 'tanh', got "elu"/, ValueError],
      ['a missing layer', { ...good, layers: good.layers.slice(0, 1) }, /layers must hold 2 layer\(s\) for features 4, hidden \[3\], classes 2; got 1/, ShapeError],
      ['a short weight', { ...good, layers: [{ ...good.layers[0]!, weight: new Float32Array(11) }, good.layers[1]!] }, /layers\[0\]\.weight has 11 values, but its shape \[4, 3\] needs 12/, ShapeError],
      ['a float64 bias', { ...good, layers: [good.layers[0]!, { ...good.layers[1]!, bias: new Float64Array(2) as unknown as Float32Array }] }, /layers\[1\]\.bias must be a Float32Array, got Float64Array/, ShapeError],
      ['an infinite weight', { ...good, layers: [{ ...good.layers[0]!, weight: new Float32Array(12).fill(Infinity) }, good.layers[1]!] }, /layers\[0\]\.weight\[0\] is Infinity/, ValueError],
    ];
    for (const [what, desc, message, type] of cases) {
      expect(() => validateMlp(desc), what).toThrow(type);
      expect(() => validateMlp(desc), what).toThrow(message);
      // Every writer checks before it writes.
      for (const format of ['onnx', 'safetensors', 'tfjs'] as const) expect(() => exportMlp(desc, format), `${what}, ${format}`).toThrow(message);
    }
    expect(() => validateMlp(good)).not.toThrow();
  });

  it('every format gives back the same description through exportMlp', () => {
    const desc = randomMlp(5, [6, 4], 3, 'gelu', 2);
    expect(readOnnx(exportMlp(desc, 'onnx'))).toEqual(desc);
    expect(readOnnx(exportMlp(desc, 'onnx', { opset: 20 }))).toEqual(desc);
    expect(readSafetensors(exportMlp(desc, 'safetensors'))).toEqual(desc);
    expect(readTfjs(exportMlp(desc, 'tfjs'))).toEqual(desc);
  });
});
