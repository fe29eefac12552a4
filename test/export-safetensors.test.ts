import { describe, expect, it } from 'vitest';
import { DTypeError, ShapeError, ValueError, WebGPUSoftmaxError } from '../src/errors.js';
import { exportMlp, importMlp, readSafetensors, writeSafetensors, type MlpActivation } from '../src/export/index.js';
import { randomMlp } from './helpers/mlp.js';

/** Splits a safetensors file into its header object and its data bytes. */
function split(bytes: Uint8Array): { header: Record<string, unknown>; data: Uint8Array } {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { header: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))), data: bytes.subarray(8 + n) };
}

/** Builds a safetensors file from a header object (unpadded) and data bytes. */
function join(header: unknown, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** The file with one tensor's header entry changed. */
function withEntry(bytes: Uint8Array, name: string, change: (entry: Record<string, unknown>) => Record<string, unknown>): Uint8Array {
  const { header, data } = split(bytes);
  return join({ ...header, [name]: change(header[name] as Record<string, unknown>) }, data);
}

const good = () => writeSafetensors(randomMlp(4, [3], 2, 'tanh', 7));

describe('safetensors round trip', () => {
  const shapes: [number, number[], number, MlpActivation][] = [
    [10, [], 4, 'relu'],
    [784, [100], 10, 'relu'],
    [12, [16, 9, 11, 5, 7], 3, 'gelu'], // 6 Linear layers: '10.weight' sorts before '2.weight'
    [7, [5], 6, 'tanh'],
  ];
  it.each(shapes)('%i-%j-%i %s: written then read gives the same description, bit for bit', (features, hidden, classes, activation) => {
    const desc = randomMlp(features, hidden, classes, activation, 9);
    expect(readSafetensors(writeSafetensors(desc))).toEqual(desc);
    expect(importMlp(exportMlp(desc, 'safetensors'), { format: 'safetensors' })).toEqual(desc);
  });

  it('reads a file that lies at an odd offset inside a larger buffer (a slice of a download)', () => {
    const desc = randomMlp(6, [5], 4, 'gelu', 3);
    const bytes = writeSafetensors(desc);
    const host = new Uint8Array(bytes.length + 10);
    host.set(bytes, 3);
    expect(readSafetensors(host.subarray(3, 3 + bytes.length))).toEqual(desc);
    const onnxHost = new Uint8Array(exportMlp(desc, 'onnx').length + 10);
    onnxHost.set(exportMlp(desc, 'onnx'), 5);
    expect(importMlp(onnxHost.subarray(5, 5 + onnxHost.length - 10), { format: 'onnx' })).toEqual(desc);
  });

  it('lays the file out as the spec asks: header padded to 8 bytes, tensors by name, no holes, [out, in] weights', () => {
    const desc = randomMlp(3, [2], 2, 'relu', 1);
    const bytes = writeSafetensors(desc);
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const { header, data } = split(bytes);
    expect(Object.keys(header)).toEqual(['__metadata__', '0.bias', '0.weight', '2.bias', '2.weight']);
    expect(header['__metadata__']).toEqual({ activation: 'relu' });
    expect(header['0.weight']).toEqual({ dtype: 'F32', shape: [2, 3], data_offsets: [8, 32] });
    // '0.weight'[o][i] is our weight[i][o].
    const w = new Float32Array(data.slice(8, 32).buffer);
    expect(w[1 * 3 + 2]).toBe(desc.layers[0]!.weight[2 * 2 + 1]);
  });

  it('takes the activation from the metadata, the option overriding it, else relu', () => {
    const bytes = writeSafetensors(randomMlp(4, [3], 2, 'gelu', 1));
    expect(readSafetensors(bytes).activation).toBe('gelu');
    expect(readSafetensors(bytes, { activation: 'tanh' }).activation).toBe('tanh');
    const { header, data } = split(bytes);
    const { __metadata__: _, ...bare } = header;
    expect(readSafetensors(join(bare, data)).activation).toBe('relu');
    expect(() => readSafetensors(join({ ...bare, __metadata__: { activation: 'swish' } }, data))).toThrow(
      /__metadata__.activation is "swish"/,
    );
  });
});

describe('safetensors: corrupt or mismatched files are refused, naming the tensor', () => {
  it('truncated files', () => {
    const bytes = good();
    expect(() => readSafetensors(bytes.subarray(0, 5))).toThrow(/5 bytes, fewer than the 8/);
    expect(() => readSafetensors(bytes.subarray(0, 40))).toThrow(/header claims \d+ bytes, but 32 follow/);
    expect(() => readSafetensors(bytes.subarray(0, bytes.length - 4))).toThrow(
      /tensor '2.weight' ends at byte 92 of the data, but the file holds only 88 data bytes/,
    );
  });

  it('a header length beyond the format limit', () => {
    const bytes = good().slice();
    new DataView(bytes.buffer).setBigUint64(0, 2n ** 62n, true);
    expect(() => readSafetensors(bytes)).toThrow(/at most 100000000/);
  });

  it('a header that is not JSON, or not an object', () => {
    const bytes = good().slice();
    bytes[8] = 0x5b; // '[': no longer JSON
    expect(() => readSafetensors(bytes)).toThrow(/not valid UTF-8 JSON/);
    expect(() => readSafetensors(join([1, 2], new Uint8Array()))).toThrow(/must be a JSON object/);
  });

  it('a header that lies about sizes and offsets', () => {
    const bytes = good();
    expect(() => readSafetensors(withEntry(bytes, '0.weight', (e) => ({ ...e, shape: [3, 5] })))).toThrow(
      /tensor '0.weight' of shape \[3, 5\] F32 needs 60 bytes, but its data_offsets \[\d+, \d+\] span 48/,
    );
    expect(() => readSafetensors(withEntry(bytes, '0.bias', (e) => ({ ...e, data_offsets: [4, 0] })))).toThrow(
      /tensor '0.bias' has data_offsets \[4,0\], not \[begin, end\]/,
    );
    expect(() => readSafetensors(withEntry(bytes, '2.bias', (e) => ({ ...e, data_offsets: [0, 8] })))).toThrow(
      /tensor '0.bias' at bytes \[0, 12\) overlaps tensor '2.bias' at \[0, 8\)/,
    );
    expect(() => readSafetensors(withEntry(bytes, '0.bias', (e) => ({ ...e, shape: [-3] })))).toThrow(/tensor '0.bias' has shape \[-3\]/);
    const { header, data } = split(bytes);
    expect(() => readSafetensors(join(header, new Uint8Array([...data, 0, 0, 0, 0])))).toThrow(/4 data bytes after the last tensor/);
  });

  it('a hole in the data', () => {
    const { header, data } = split(good());
    const shifted = Object.fromEntries(
      Object.entries(header).map(([k, v]) =>
        k === '__metadata__' ? [k, v] : [k, { ...(v as object), data_offsets: (v as { data_offsets: number[] }).data_offsets.map((o) => o + 4) }],
      ),
    );
    expect(() => readSafetensors(join(shifted, new Uint8Array([0, 0, 0, 0, ...data])))).toThrow(/hole at bytes \[0, 4\) before tensor '0.bias'/);
  });

  it('wrong dtypes', () => {
    const bytes = good();
    const f16 = withEntry(bytes, '2.weight', (e) => ({ ...e, dtype: 'F16' }));
    expect(() => readSafetensors(f16)).toThrow(DTypeError);
    expect(() => readSafetensors(f16)).toThrow(/tensor '2.weight' has dtype "F16"; only F32/);
  });

  it('shapes that do not chain, biases that do not fit', () => {
    // 4-3-2 with '2.weight' claiming [3, 2]: same byte count, wrong orientation.
    const bytes = good();
    expect(() => readSafetensors(withEntry(bytes, '2.weight', (e) => ({ ...e, shape: [3, 2] })))).toThrow(
      /'2.bias' has shape \[2\], but '2.weight' \[3, 2\] needs \[3\]/,
    );
    const a = writeSafetensors(randomMlp(4, [3], 2, 'relu', 1));
    const b = writeSafetensors(randomMlp(5, [4], 2, 'relu', 1));
    // '0.*' of a 4-3 layer and '2.*' of a 4-2 layer.
    const { header: ha, data: da } = split(a);
    const { header: hb, data: db } = split(b);
    const pick = (h: Record<string, unknown>, k: string) => h[k] as { dtype: string; shape: number[]; data_offsets: [number, number] };
    const parts = [
      ['0.bias', pick(ha, '0.bias'), da],
      ['0.weight', pick(ha, '0.weight'), da],
      ['2.bias', pick(hb, '2.bias'), db],
      ['2.weight', pick(hb, '2.weight'), db],
    ] as const;
    let at = 0;
    const header: Record<string, unknown> = {};
    const chunks: number[] = [];
    for (const [name, e, d] of parts) {
      const [s, t] = e.data_offsets;
      header[name] = { ...e, data_offsets: [at, at + t - s] };
      chunks.push(...d.subarray(s, t));
      at += t - s;
    }
    expect(() => readSafetensors(join(header, Uint8Array.from(chunks)))).toThrow(
      /'2.weight' takes 4 inputs, but the layer before it \('0.weight'\) gives 3: the shapes do not chain/,
    );
  });

  it('missing and extra tensors', () => {
    const { header, data } = split(good());
    const drop = (name: string) => {
      const e = header[name] as { data_offsets: [number, number] };
      const size = e.data_offsets[1] - e.data_offsets[0];
      const rest = Object.fromEntries(
        Object.entries(header)
          .filter(([k]) => k !== name)
          .map(([k, v]) => {
            if (k === '__metadata__') return [k, v];
            const o = (v as { data_offsets: [number, number] }).data_offsets;
            const shift = o[0] >= e.data_offsets[1] ? size : 0;
            return [k, { ...(v as object), data_offsets: [o[0] - shift, o[1] - shift] }];
          }),
      );
      const bytes = new Uint8Array([...data.subarray(0, e.data_offsets[0]), ...data.subarray(e.data_offsets[1])]);
      return join(rest, bytes);
    };
    expect(() => readSafetensors(drop('2.bias'))).toThrow(/'2.bias' is missing/);
    expect(() => readSafetensors(drop('0.weight'))).toThrow(/'0.weight' is missing/);
    expect(() => readSafetensors(drop('0.bias'))).toThrow(/'0.bias' is missing/);
    const extra = join({ ...header, '3.running_mean': { dtype: 'F32', shape: [1], data_offsets: [data.length, data.length + 4] } }, new Uint8Array([...data, 0, 0, 0, 0]));
    expect(() => readSafetensors(extra)).toThrow(/unexpected tensor\(s\) '3.running_mean'/);
    const stray = join({ ...header, '5.weight': { dtype: 'F32', shape: [1, 2], data_offsets: [data.length, data.length + 8] } }, new Uint8Array([...data, ...new Uint8Array(8)]));
    expect(() => readSafetensors(stray)).toThrow(/'5.bias' is missing/);
    expect(() => readSafetensors(join({ 'fc.weight': { dtype: 'F32', shape: [0], data_offsets: [0, 0] } }, new Uint8Array()))).toThrow(
      /no '0.weight' and '0.bias'.*'fc.weight'/,
    );
  });

  it('non-finite weights', () => {
    const bytes = good().slice();
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    new DataView(bytes.buffer).setFloat32(8 + n + 4, NaN, true); // '0.bias'[1]
    expect(() => readSafetensors(bytes)).toThrow(ValueError);
    expect(() => readSafetensors(bytes)).toThrow(/tensor '0.bias' holds NaN at index 1/);
  });

  it('every refusal is one of our errors, and the format is checked', () => {
    expect(() => readSafetensors(new Uint8Array(3))).toThrow(WebGPUSoftmaxError);
    expect(() => readSafetensors(new Uint8Array(3))).toThrow(ShapeError);
    expect(() => importMlp(good(), { format: 'pt' as 'onnx' })).toThrow(/format must be 'onnx' or 'safetensors', got "pt"/);
    expect(() => exportMlp(randomMlp(2, [], 2, 'relu', 1), 'h5' as 'onnx')).toThrow(/format must be 'onnx', 'safetensors' or 'tfjs'/);
  });
});
