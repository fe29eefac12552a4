import { describe, expect, it, vi } from 'vitest';
import { WasmHeap } from '../src/cpu/wasm/heap.js';
import { compileKernels } from '../src/cpu/wasm/module.js';
import { createContext, ValueError, type Context, type Tensor } from '../src/index.js';
import { internals } from '../src/internal.js';
import { expectAllClose } from './helpers/allclose.js';
import { expectedWasmBuild } from './helpers/wasm-features.js';
import { uniform } from './helpers/random.js';

// What is particular to the WebAssembly CPU backend: its memory, its build, and matmul shapes
// chosen to reach every path of the tiled kernel (edge rows, narrow panels, K blocks, batches).

const PARITY = { rtol: 1e-4, atol: 1e-5 };

describe('the Wasm heap', () => {
  it('reuses a freed block, merges free neighbours, and gives the top back', () => {
    const heap = new WasmHeap();
    const a = heap.alloc(100);
    const b = heap.alloc(64);
    const c = heap.alloc(64);
    expect(b - a).toBe(128);
    heap.free(a, 100);
    expect(heap.alloc(64)).toBe(a);
    heap.free(a, 64);
    heap.free(b, 64);
    // a and b merged: 192 bytes fit where they were.
    expect(heap.alloc(192)).toBe(a);
    heap.free(a, 192);
    heap.free(c, 64);
    expect(heap.alloc(64)).toBe(a);
  });

  it('grows the memory when nothing fits, and counts what no block holds as spare', () => {
    const heap = new WasmHeap();
    const before = heap.memory.buffer.byteLength;
    const block = heap.alloc(before * 3);
    expect(heap.memory.buffer.byteLength).toBeGreaterThanOrEqual(block + before * 3);
    expect(heap.spareBytes).toBe(heap.memory.buffer.byteLength - before * 3);
    heap.free(block, before * 3);
    expect(heap.spareBytes).toBe(heap.memory.buffer.byteLength);
  });
});

describe('the Wasm CPU backend', () => {
  it('builds with relaxed SIMD where the engine validates it, else plain SIMD', async () => {
    const compiled = await compileKernels();
    expect(compiled).not.toBeNull();
    expect(compiled!.build).toBe(expectedWasmBuild());
    const ctx = await createContext({ backend: 'cpu' });
    expect(ctx.wasmBuild).toBe(expectedWasmBuild());
    ctx.destroy();
    const reference = await createContext({ backend: 'cpu', cpu: 'reference' });
    expect(reference.wasmBuild).toBeNull();
    reference.destroy();
  });

  it('refuses an unknown cpu option, naming it', async () => {
    await expect(createContext({ backend: 'cpu', cpu: 'fast' as 'wasm' })).rejects.toThrow(ValueError);
    await expect(createContext({ backend: 'cpu', cpu: 'fast' as 'wasm' })).rejects.toThrow(`cpu must be 'wasm' or 'reference', got "fast"`);
  });

  it('keeps tensors intact while the memory grows under them', async () => {
    const ctx = await createContext({ backend: 'cpu' });
    const small = ctx.tensor(Float32Array.of(1, 2, 3));
    const before = ctx.memory().pooledBytes + ctx.memory().bytes;
    const big = ctx.tensor(new Float32Array(1 << 20).fill(7));
    expect(ctx.memory().pooledBytes + ctx.memory().bytes).toBeGreaterThan(before);
    expect(await small.read()).toEqual(Float32Array.of(1, 2, 3));
    expect((await big.read())[(1 << 20) - 1]).toBe(7);
    ctx.destroy();
  });

  it('reports freed memory as pooled and reuses it', async () => {
    const ctx = await createContext({ backend: 'cpu' });
    const bytes = 4 << 16;
    const a = ctx.tensor(new Float32Array(1 << 16));
    expect(ctx.memory().bytes).toBe(bytes);
    a.dispose();
    expect(ctx.memory().bytes).toBe(0);
    // Everything the memory grew to is spare now, the freed tensor's block included.
    const spare = ctx.memory().pooledBytes;
    expect(spare).toBeGreaterThanOrEqual(bytes);
    const b = ctx.tensor(new Float32Array(1 << 16));
    // The block is reused: the memory did not grow, and the spare bytes shrank by one block.
    expect(spare - ctx.memory().pooledBytes).toBeGreaterThanOrEqual(bytes);
    expect(spare - ctx.memory().pooledBytes).toBeLessThanOrEqual(bytes + 64);
    b.dispose();
    ctx.destroy();
  });
});

describe('Wasm matmul against the float64 reference', () => {
  const shapes: [batch: number, m: number, k: number, n: number][] = [
    [1, 1, 1, 1],
    [1, 4, 8, 8],
    [1, 5, 3, 7],
    [2, 7, 257, 9],
    [3, 13, 600, 17],
    [1, 33, 520, 40],
  ];
  const cases = shapes.flatMap((shape) =>
    [false, true].flatMap((transposeA) =>
      [false, true].flatMap((transposeB) =>
        [false, true].flatMap((sharedB) => [false, true].map((bias) => ({ shape, transposeA, transposeB, sharedB, bias }))),
      ),
    ),
  );

  async function run(ctx: Context, c: (typeof cases)[number], seed: number): Promise<Float32Array> {
    const [batch, m, k, n] = c.shape;
    const a = ctx.tensor(uniform(batch * m * k, seed), c.transposeA ? [batch, k, m] : [batch, m, k]);
    const bShape = c.transposeB ? [n, k] : [k, n];
    const b = ctx.tensor(uniform((c.sharedB ? 1 : batch) * k * n, seed + 1), c.sharedB ? bShape : [batch, ...bShape]);
    const bias = c.bias ? { bias: ctx.tensor(uniform(n, seed + 2), [n]) as Tensor<'float32'> } : {};
    return ctx.matmul(a, b, { transposeA: c.transposeA, transposeB: c.transposeB, ...bias }).read();
  }

  it.each(cases.map((c, i) => [JSON.stringify(c), c, i] as const))('%s', async (_name, c, i) => {
    const [wasm, reference] = await Promise.all([createContext({ backend: 'cpu' }), createContext({ backend: 'cpu', cpu: 'reference' })]);
    const [actual, expected] = await Promise.all([run(wasm, c, i), run(reference, c, i)]);
    const shape = [actual.length];
    expectAllClose({ shape, data: [...actual] }, { shape, data: [...expected] }, PARITY, JSON.stringify(c));
    wasm.destroy();
    reference.destroy();
  });
});

describe('Wasm optimizer steps', () => {
  // Each operation rounds to float32 in the reference's order, with no fused multiply-add, so
  // the two CPU backends must agree to the bit (and so with WebGPU, see test/train.test.ts).
  const n = 37;
  const sgdCases = [
    { momentum: 0, nesterov: false, weightDecay: 0 },
    { momentum: 0.9, nesterov: false, weightDecay: 0.01 },
    { momentum: 0.9, nesterov: true, weightDecay: 0 },
  ];

  async function open(cpu: 'wasm' | 'reference') {
    const ctx = await createContext({ backend: 'cpu', cpu });
    const access = ctx[internals];
    // Non-negative, as Adam's second moment must be.
    const t = (seed: number, scale = 1) => ctx.tensor(uniform(n, seed, scale).map(Math.abs));
    const storage = (x: Tensor) => access.storage(x, 'test', 'x');
    return { ctx, backend: access.backend(), t, storage };
  }

  it.each(sgdCases)('sgd %o', async (options) => {
    const results = await Promise.all(
      (['wasm', 'reference'] as const).map(async (cpu) => {
        const { ctx, backend, t, storage } = await open(cpu);
        const [p, g, v] = [t(1), t(2), t(3)];
        for (let step = 0; step < 3; step++) {
          backend.sgdStep(storage(p), storage(g), options.momentum === 0 ? null : storage(v), { elements: n, learningRate: 0.1, ...options });
        }
        const out = [await p.read(), await v.read()];
        ctx.destroy();
        return out;
      }),
    );
    expect(results[0]).toEqual(results[1]);
  });

  it('adam', async () => {
    const results = await Promise.all(
      (['wasm', 'reference'] as const).map(async (cpu) => {
        const { ctx, backend, t, storage } = await open(cpu);
        const [p, g, m, v] = [t(1), t(2), t(3, 0.1), t(4, 0.01)];
        for (let step = 1; step <= 3; step++) {
          backend.adamStep(storage(p), storage(g), storage(m), storage(v), {
            elements: n,
            stepSize: 0.01 / (1 - 0.9 ** step),
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-8,
            weightDecay: 0.01,
            correction2Sqrt: Math.sqrt(1 - 0.999 ** step),
          });
        }
        const out = [await p.read(), await m.read(), await v.read()];
        ctx.destroy();
        return out;
      }),
    );
    expect(results[0]).toEqual(results[1]);
  });

  it('adamw', async () => {
    const results = await Promise.all(
      (['wasm', 'reference'] as const).map(async (cpu) => {
        const { ctx, backend, t, storage } = await open(cpu);
        const [p, g, m, v] = [t(1), t(2), t(3, 0.1), t(4, 0.01)];
        for (let step = 1; step <= 3; step++) {
          backend.adamwStep(storage(p), storage(g), storage(m), storage(v), {
            elements: n,
            paramScale: 1 - 0.01 * 0.3,
            stepSize: 0.01 / (1 - 0.9 ** step),
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-8,
            correction2Sqrt: Math.sqrt(1 - 0.999 ** step),
          });
        }
        const out = [await p.read(), await m.read(), await v.read()];
        ctx.destroy();
        return out;
      }),
    );
    expect(results[0]).toEqual(results[1]);
  });

  const rmspropCases = [
    { momentum: 0, centered: false, weightDecay: 0 },
    { momentum: 0.9, centered: false, weightDecay: 0.01 },
    { momentum: 0, centered: true, weightDecay: 0.01 },
    { momentum: 0.5, centered: true, weightDecay: 0 },
  ];

  it.each(rmspropCases)('rmsprop %o', async (options) => {
    const results = await Promise.all(
      (['wasm', 'reference'] as const).map(async (cpu) => {
        const { ctx, backend, t, storage } = await open(cpu);
        // A small gradient average, so that s - a² stays positive.
        const [p, g, s, a, b] = [t(1), t(2), t(3, 0.5), t(4, 0.01), t(5)];
        for (let step = 0; step < 3; step++) {
          backend.rmspropStep(storage(p), storage(g), storage(s), options.centered ? storage(a) : null, options.momentum === 0 ? null : storage(b), {
            elements: n,
            learningRate: 0.01,
            alpha: 0.9,
            epsilon: 1e-6,
            ...options,
          });
        }
        const out = [await p.read(), await s.read(), await a.read(), await b.read()];
        ctx.destroy();
        return out;
      }),
    );
    expect(results[0]![0]!.every(Number.isFinite)).toBe(true);
    expect(results[0]).toEqual(results[1]);
  });
});

describe('Wasm row kernels on non-finite rows, against the float64 reference', () => {
  // The row max drops NaN in its fast lanes and tracks it on the side; rows of 5 and 8 floats
  // reach both the partial last vector and whole ones, and a wide row the blocked sums.
  const rows = (cols: number) => [
    Array.from({ length: cols }, (_, i) => (i === cols - 1 ? NaN : -Infinity)),
    Array.from({ length: cols }, () => -Infinity),
    Array.from({ length: cols }, (_, i) => (i === 1 ? Infinity : i)),
    Array.from({ length: cols }, (_, i) => (i === 0 ? -Infinity : -100 * i)),
    Array.from({ length: cols }, (_, i) => Math.sin(i) * 30),
  ];
  it.each([5, 8, 1029])('%i columns', async (cols) => {
    const data = Float32Array.from(rows(cols).flat());
    const shape = [5, cols];
    const outputs = await Promise.all(
      (['wasm', 'reference'] as const).map(async (cpu) => {
        const ctx = await createContext({ backend: 'cpu', cpu });
        const z = ctx.tensor(data, shape);
        const labels = ctx.tensor(Int32Array.of(cols - 1, 0, 2, 0, 3));
        const { loss, grad } = ctx.crossEntropyWithGrad(z, labels, { reduction: 'none' });
        const out = await Promise.all([ctx.softmax(z).read(), ctx.logSoftmax(z).read(), loss.read(), grad.read()]);
        ctx.destroy();
        return out;
      }),
    );
    const [wasm, reference] = outputs;
    wasm!.forEach((actual, i) => {
      const shapeOf = [actual.length];
      expectAllClose({ shape: shapeOf, data: actual }, { shape: shapeOf, data: reference![i]! }, PARITY, `output ${i}`);
    });
  });
});

describe('an engine without WebAssembly SIMD', () => {
  it('gets the TypeScript reference, with the same results', async () => {
    const validate = vi.spyOn(WebAssembly, 'validate').mockReturnValue(false);
    try {
      vi.resetModules();
      // A fresh copy of the library, whose kernel module has not been compiled yet.
      const fresh = (await import('../src/index.js')) as typeof import('../src/index.js');
      const ctx = await fresh.createContext({ backend: 'cpu' });
      const z = ctx.tensor(Float32Array.of(1, 2, 3, 4), [2, 2]);
      const p = 1 / (1 + Math.E);
      expectAllClose({ shape: [4], data: await ctx.softmax(z).read() }, { shape: [4], data: [p, 1 - p, p, 1 - p] }, { rtol: 1e-6, atol: 0 });
      // The reference keeps nothing for reuse; the Wasm backend would report its memory.
      expect(ctx.memory().pooledBytes).toBe(0);
      expect(validate).toHaveBeenCalled();
      ctx.destroy();
    } finally {
      validate.mockRestore();
      vi.resetModules();
    }
  });
});
