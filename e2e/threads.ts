import { createContext, type Context, type Tensor } from 'webgpu-softmax';

/** What e2e/threads.spec.ts checks: the page is isolated, the thread counts, and the bits of each run. */
export interface ThreadsReport {
  crossOriginIsolated: boolean;
  threads: (number | null)[];
  reasons: string[];
  /** Per thread count, a hash of every output's bits, and the first few bits for a readable diff. */
  runs: { hash: number; head: number[] }[];
}

function work(ctx: Context): Tensor[] {
  const random = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed) * 0.5);
  const [n, d, c] = [257, 301, 517];
  const x = ctx.tensor(random(n * d, 1), [n, d]);
  const w = ctx.tensor(random(d * c, 2), [d, c]);
  const y = ctx.tensor(Int32Array.from({ length: n }, (_, i) => (i * 7) % c));
  const z = ctx.matmul(x, w, { bias: ctx.tensor(random(c, 3)) });
  const { loss, grad } = ctx.crossEntropyWithGrad(z, y);
  const lce = ctx.linearCrossEntropyWithGrad(x, w, y);
  return [z, ctx.softmax(z), ctx.logSoftmax(z), loss, grad, ctx.sum(z, { axis: 0 }), lce.gradWeight, lce.gradX];
}

async function fitted(ctx: Context): Promise<Float32Array> {
  const [n, d, c] = [256, 200, 1001];
  const x = ctx.tensor(Float32Array.from({ length: n * d }, (_, i) => Math.cos(i)), [n, d]);
  const y = ctx.tensor(Int32Array.from({ length: n }, (_, i) => (i * 13) % c));
  using model = ctx.softmaxRegression({ features: d, classes: c, seed: 1, optimizer: { type: 'adam', learningRate: 0.01 } });
  await model.fit(x, y, { epochs: 2, batchSize: 128 });
  return (await model.getWeights()).weights;
}

async function runThreads(): Promise<ThreadsReport> {
  const report: ThreadsReport = { crossOriginIsolated: globalThis.crossOriginIsolated, threads: [], reasons: [], runs: [] };
  for (const threads of [1, 2, 3]) {
    const ctx = await createContext({ backend: 'cpu', threads });
    report.threads.push(ctx.threads);
    report.reasons.push(ctx.backendReason);
    const outputs = await Promise.all(work(ctx).map((t) => t.read()));
    outputs.push(await fitted(ctx));
    let hash = 0;
    const head: number[] = [];
    for (const out of outputs) {
      const bits = new Int32Array(out.buffer, out.byteOffset, out.length);
      for (const b of bits) hash = (Math.imul(hash, 31) + b) | 0;
      head.push(...bits.subarray(0, 4));
    }
    report.runs.push({ hash, head });
    ctx.destroy();
  }
  return report;
}

/** What a context asked for `threads` gets on this page. */
async function contextThreads(threads: number): Promise<[number | null, string]> {
  const ctx = await createContext({ backend: 'cpu', threads });
  const seen: [number | null, string] = [ctx.threads, ctx.backendReason];
  ctx.destroy();
  return seen;
}

Object.assign(globalThis, { runThreads, contextThreads });
document.querySelector('#status')!.textContent = 'ready';
