import { createContext, type Context, type Tensor } from 'webgpu-softmax';
import { fromHalves, halfTable, toHalves } from '../src/float16.js';

/** What the page found, for e2e/float16.spec.ts: the float16 cases of test/float16.test.ts, in Chromium. */
export interface Float16Report {
  readonly backend: string;
  /** Halves whose read-back float32, or whose value in a kernel, differs from the exact one (NaN as NaN), at most 5. */
  readonly widenedWrong: string[];
  readonly bitsBack: boolean;
  readonly bytesRatio: number;
  /** Per op, whether the float16 input gave the same bits as the float32 rounded one. */
  readonly sameAsRounded: Record<string, boolean>;
  readonly fitSame: boolean;
}

type F32 = Tensor<'float32'>;
const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);
const equalBits = (a: Float32Array, b: Float32Array) => a.length === b.length && bits(a).every((v, i) => v === bits(b)[i]);

function uniform(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return (s / 2 ** 31) * 4 - 2;
  });
}

async function run(ctx: Context): Promise<Float16Report> {
  const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
  const before = ctx.memory().bytes;
  const x = ctx.tensor(all, [256, 256], 'float16');
  const halfBytes = ctx.memory().bytes - before;
  const x32 = ctx.tensor(new Float32Array(65536), [256, 256]);
  const bytesRatio = halfBytes / (ctx.memory().bytes - before - halfBytes);
  const bitsBack = (await x.read({ dtype: 'float16' })).every((v, i) => v === all[i]);
  // Widened in the kernels: x · [1] is each value exactly (a zero's sign aside, as for float32 x).
  const one = ctx.tensor(Float32Array.of(1), [1, 1]);
  const table = halfTable();
  const byKernel = await ctx.matmul(ctx.tensor(all, [65536, 1], 'float16'), one).read();
  const byTable = await ctx.matmul(ctx.tensor(table, [65536, 1]), one).read();
  const values = await x.read();
  const widenedWrong: string[] = [];
  for (let h = 0; h < 65536 && widenedWrong.length < 5; h++) {
    const nan = Number.isNaN(table[h]);
    const ok = nan ? Number.isNaN(values[h]) && Number.isNaN(byKernel[h]) : bits(values)[h] === bits(table)[h] && bits(byKernel)[h] === bits(byTable)[h];
    if (!ok) widenedWrong.push(`0x${h.toString(16)}: read ${values[h]}, in a kernel ${byKernel[h]}, want ${table[h]}`);
  }
  x.dispose();
  x32.dispose();

  const sameAsRounded: Record<string, boolean> = {};
  const raw = uniform(37 * 13, 1);
  const rounded = fromHalves(toHalves(raw));
  const w = ctx.tensor(uniform(13 * 7, 2), [13, 7]);
  const labels = Int32Array.from({ length: 37 }, (_, i) => (i * 5) % 7);
  const y = ctx.tensor(labels);
  const h16 = ctx.tensor(raw, [37, 13], 'float16');
  const h32 = ctx.tensor(rounded, [37, 13]);
  const pairs: [string, (x: F32) => F32][] = [
    ['matmul', (t) => ctx.matmul(t, w)],
    ['softmax', (t) => ctx.softmax(t)],
    ['logSoftmax', (t) => ctx.logSoftmax(t)],
    ['crossEntropyWithGrad', (t) => ctx.crossEntropyWithGrad(t, ctx.tensor(Int32Array.from(labels, (v) => v % 13))).grad],
    ['linearCrossEntropyWithGrad', (t) => ctx.linearCrossEntropyWithGrad(t, w, y, { chunkRows: 8 }).gradWeight],
  ];
  for (const [name, op] of pairs) sameAsRounded[name] = equalBits(await op(h16 as unknown as F32).read(), await op(h32).read());

  const options = { features: 13, classes: 7, seed: 4, optimizer: { type: 'adam', learningRate: 0.05 } } as const;
  const a = ctx.classifier({ ...options, hidden: [5] });
  const b = ctx.classifier({ ...options, hidden: [5] });
  await a.fit(h16, y, { epochs: 2, batchSize: 8 });
  await b.fit(h32, y, { epochs: 2, batchSize: 8 });
  const [wa, wb] = [await a.getWeights(), await b.getWeights()];
  const fitSame = wa.every((l, i) => equalBits(l.weight, wb[i]!.weight) && equalBits(l.bias, wb[i]!.bias)) && equalBits(await a.predict(h16).read(), await b.predict(h32).read());
  return { backend: ctx.backend, widenedWrong, bitsBack, bytesRatio, sameAsRounded, fitSame };
}

(globalThis as unknown as { runFloat16: (backend: 'webgpu' | 'cpu') => Promise<Float16Report> }).runFloat16 = async (backend) => {
  const ctx = await createContext(backend === 'webgpu' ? { backend: 'webgpu' } : { backend: 'cpu', cpu: 'wasm' });
  try {
    return await run(ctx);
  } finally {
    ctx.destroy();
  }
};
document.querySelector('#status')!.textContent = 'ready';
