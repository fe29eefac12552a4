import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContext, type Context } from '../src/index.js';
import { BACKENDS, nodeGpu, openContext } from './helpers/backends.js';
import { uniform } from './helpers/random.js';

describe.each(BACKENDS)('memory().peakBytes on %s', (backend) => {
  let ctx: Context;
  beforeAll(async () => {
    ctx = await openContext(backend);
  });
  afterAll(() => ctx.destroy());

  it('counts what an op must allocate, and starts over with resetPeakMemory', async () => {
    const a = ctx.tensor(uniform(64 * 32, 1), [64, 32]);
    const b = ctx.tensor(uniform(32 * 48, 2), [32, 48]);
    await ctx.flush();
    // The GPU pool's free buffers are the backend's to count; the Wasm memory's spare room is not.
    const held = ctx.memory().bytes + (backend === 'webgpu' ? ctx.memory().pooledBytes : 0);
    ctx.resetPeakMemory();
    expect(ctx.memory().peakBytes).toBeGreaterThanOrEqual(held);
    const start = ctx.memory().peakBytes;
    const out = ctx.matmul(a, b);
    await out.read();
    const { peakBytes } = ctx.memory();
    // The product's 64 x 48 floats; on WebGPU also the staging buffer the read copies them to;
    // on Wasm, blocks rounded up to 64 bytes and the kernel's scratch (b packed in 8-column
    // panels, 6 KiB here, and its edge rows and sums, 3.4 KiB).
    const product = 64 * 48 * 4;
    const bounds: Record<typeof backend, readonly [number, number]> = {
      webgpu: [2 * product, 2 * product + 4096],
      cpu: [product, product + 64 + 10 * 1024],
      'cpu-reference': [product, product],
    };
    const [least, most] = bounds[backend];
    expect(peakBytes - start).toBeGreaterThanOrEqual(least);
    expect(peakBytes - start).toBeLessThanOrEqual(most);
    out.dispose();
    ctx.resetPeakMemory();
    expect(ctx.memory().peakBytes).toBeLessThan(peakBytes);
  });
});

describe('linearCrossEntropy beyond the binding limit', () => {
  let ctx: Context;
  let limit: number;
  beforeAll(async () => {
    // A device bound at 256 MiB, not the adapter's 1 GiB (SwiftShader): the same chunked path
    // past the limit, on a quarter of the rows (2 minutes of SwiftShader became 30 s).
    const adapter = (await (await nodeGpu()).requestAdapter())!;
    limit = 256 * 2 ** 20;
    const device = await adapter.requestDevice({ requiredLimits: { maxStorageBufferBindingSize: limit } });
    ctx = await createContext({ device });
    expect(ctx.device?.limits.maxStorageBufferBindingSize).toBe(limit);
  });
  afterAll(() => ctx.destroy());

  it('runs where N·C·4 bytes of logits exceed maxStorageBufferBindingSize, and peakBytes shows they never existed', async () => {
    const C = 100_003;
    const D = 2;
    const N = Math.ceil((1.01 * limit) / (C * 4));
    expect(N * C * 4).toBeGreaterThan(limit);
    // W = 0 and b = 0 make every row's softmax uniform, so the results are known exactly:
    // loss = log C, gradX = 0, gradBias_c = 1/C - n_c/N, gradW[d, c] = (sum_i x_id / C - sum_{y_i = c} x_id) / N.
    const xs = uniform(N * D, 5);
    const ys = Int32Array.from({ length: N }, (_, i) => (i * 7919) % C);
    const x = ctx.tensor(xs, [N, D]);
    const w = ctx.tensor(new Float32Array(D * C), [D, C]);
    const bias = ctx.tensor(new Float32Array(C));
    const y = ctx.tensor(ys);
    await ctx.flush();
    const before = ctx.memory().bytes + ctx.memory().pooledBytes;
    ctx.resetPeakMemory();
    const { loss, gradX, gradWeight, gradBias } = ctx.linearCrossEntropyWithGrad(x, w, y, { bias });
    const [l, gx, gw, gb] = await Promise.all([loss.read(), gradX.read(), gradWeight.read(), gradBias!.read()]);
    const peak = ctx.memory().peakBytes - before;
    console.log(`linearCrossEntropy ${N}x${D}x${C}: logits would be ${N * C * 4} bytes; peak above the inputs ${peak} bytes`);
    const outputs = (1 + N * D + D * C + C) * 4;
    // Outputs, their read staging, and the chunks' scratch (two [R, C] chunks within 32 MiB each).
    expect(peak).toBeLessThan(2 * outputs + 2 * 32 * 2 ** 20 + 2 ** 20);
    expect(peak).toBeLessThan((N * C * 4) / 4);

    expect(l[0]).toBeCloseTo(Math.log(C), 5);
    expect(gx.every((v) => v === 0)).toBe(true);
    const counts = new Float64Array(C);
    const byClass = new Float64Array(D * C);
    const colSums = new Float64Array(D);
    for (let i = 0; i < N; i++) {
      counts[ys[i]!]!++;
      for (let d = 0; d < D; d++) {
        byClass[d * C + ys[i]!]! += xs[i * D + d]!;
        colSums[d]! += xs[i * D + d]!;
      }
    }
    for (const c of [0, 1, 7919 % C, C - 1, 54_321]) {
      expect(gb[c]).toBeCloseTo(1 / C - counts[c]! / N, 8);
      for (let d = 0; d < D; d++) expect(gw[d * C + c]).toBeCloseTo((colSums[d]! / C - byClass[d * C + c]!) / N, 7);
    }
  }, 300_000);
});
