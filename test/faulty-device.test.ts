import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContext, type Context, type Tensor } from '../src/index.js';
import { nodeGpu, openContext } from './helpers/backends.js';
import { expectAllClose } from './helpers/allclose.js';
import { labels, uniform } from './helpers/random.js';
import { LIBRARY_VERSION } from '../src/version.js';

// GPUs we have never seen, played on the one we have: a real Dawn device (SwiftShader) behind
// a Proxy that reports a hardware adapter (so the hardware rules run) and refuses, miscompiles
// or limits what a field report says such drivers do (/work/shared/notes/webgpu-without-a-gpu.md).

const TOL = { rtol: 1e-4, atol: 1e-5 };
const HARDWARE_INFO = { vendor: 'nvidia', architecture: 'hopper', device: '', description: 'NVIDIA H200 (played by a test)' };

interface Faults {
  /** Modules whose WGSL this returns true for fail to compile. */
  readonly refuse?: (code: string) => boolean;
  /** Rewrites a module's WGSL before the real compiler sees it (a miscompiling driver). */
  readonly edit?: (code: string) => string;
  /** Limits the adapter reports, lower than the real one's; requestDevice enforces them for real. */
  readonly limits?: Readonly<Record<string, number>>;
}

/** Every pipeline creation asked of the device: its module's WGSL and entry point and constants, and whether it was refused. */
interface PipelineCall {
  readonly code: string;
  readonly entryPoint: string;
  readonly constants: Readonly<Record<string, number>>;
}

function bound<T extends object>(target: T, overrides: Record<string | symbol, unknown>): T {
  return new Proxy(target, {
    get: (t, key) => {
      if (key in overrides) return overrides[key];
      const value: unknown = Reflect.get(t, key, t);
      return typeof value === 'function' ? value.bind(t) : value;
    },
  });
}

/** A `GPU` whose adapter claims to be hardware and whose device has `faults`; `calls` records pipeline creations. */
async function faultyGpu(faults: Faults, calls: PipelineCall[] = []): Promise<GPU> {
  const real = await nodeGpu();
  const codeOf = new WeakMap<GPUShaderModule, string>();
  const native = new WeakMap<GPUShaderModule, GPUShaderModule>();
  const wrapDevice = (device: GPUDevice): GPUDevice =>
    bound(device, {
      createShaderModule: (descriptor: GPUShaderModuleDescriptor) => {
        const code = faults.edit?.(descriptor.code) ?? descriptor.code;
        const module = device.createShaderModule({ ...descriptor, code });
        const refused = faults.refuse?.(code) === true;
        const wrapped = bound(module, {
          getCompilationInfo: async () =>
            refused
              ? { messages: [{ type: 'error', message: 'workgroupBarrier: not supported by this driver', lineNum: 1, linePos: 1, offset: 0, length: 0 }] }
              : module.getCompilationInfo(),
        });
        codeOf.set(wrapped, code);
        native.set(wrapped, module);
        return wrapped;
      },
      createComputePipelineAsync: async (descriptor: GPUComputePipelineDescriptor) => {
        const module = descriptor.compute.module;
        const code = codeOf.get(module) ?? '';
        calls.push({ code, entryPoint: descriptor.compute.entryPoint ?? '', constants: (descriptor.compute.constants ?? {}) as Record<string, number> });
        if (faults.refuse?.(code) === true) throw new Error('pipeline creation refused by the driver');
        return device.createComputePipelineAsync({ ...descriptor, compute: { ...descriptor.compute, module: native.get(module) ?? module } });
      },
    });
  return bound(real, {
    requestAdapter: async (options?: GPURequestAdapterOptions) => {
      const adapter = (await real.requestAdapter(options))!;
      const limits = faults.limits === undefined ? adapter.limits : bound(adapter.limits, faults.limits);
      return bound(adapter, {
        info: HARDWARE_INFO,
        limits,
        requestDevice: async (descriptor?: GPUDeviceDescriptor) => wrapDevice(await adapter.requestDevice(descriptor)),
      });
    },
  });
}

const BARRIER = /workgroupBarrier/;

const SHAPES: readonly (readonly [number, number, number])[] = [
  [70, 33, 10],
  [64, 20, 100],
  [5, 3, 300],
];

/**
 * Runs the ops a training app uses on `gpu` and on the float64 CPU reference; every output
 * must agree. SwiftShader takes seconds to compile each hardware variant (tiled, skinny, a row
 * per workgroup), so the tests of devices that compile them run one shape.
 */
async function expectOpsCorrect(gpu: Context, cpu: Context, shapes = SHAPES): Promise<void> {
  for (const [m, k, n] of shapes) {
    const run = async (ctx: Context) => {
      const x = ctx.tensor(uniform(m * k, m, 1), [m, k]);
      const w = ctx.tensor(uniform(k * n, k, 1), [k, n]);
      const b = ctx.tensor(uniform(n, n, 1), [n]);
      const y = ctx.tensor(labels(m, n, 3));
      const z = ctx.matmul(x, w, { bias: b });
      const { loss, grad } = ctx.crossEntropyWithGrad(z, y);
      const outs: Tensor<'float32'>[] = [
        z,
        ctx.matmul(x, grad, { transposeA: true }),
        ctx.matmul(grad, w, { transposeB: true }),
        ctx.softmax(z),
        ctx.logSoftmax(z),
        loss,
        grad,
        ctx.sum(grad, { axis: 0 }),
        ctx.linearCrossEntropy(x, w, y, { bias: b }),
      ];
      return Promise.all(outs.map((t) => t.read()));
    };
    const [got, want] = await Promise.all([run(gpu), run(cpu)]);
    want.forEach((e, i) => expectAllClose({ shape: [got[i]!.length], data: got[i]! }, { shape: [e.length], data: e }, TOL, `${m}x${k}x${n} output ${i}`));
  }
}

/** A seeded fit's weights on `ctx`. */
async function fitWeights(ctx: Context) {
  const x = ctx.tensor(uniform(96 * 7, 51, 2), [96, 7]);
  const y = ctx.tensor(labels(96, 4, 52));
  const model = ctx.classifier({ features: 7, classes: 4, hidden: [40], seed: 3, optimizer: { type: 'adam', learningRate: 0.01 } });
  await model.fit(x, y, { epochs: 2, batchSize: 32, shuffle: false });
  return (await model.getWeights()).flatMap((l) => [l.weight, l.bias]);
}

describe('a device that refuses every pipeline with a workgroupBarrier', () => {
  let gpu: Context;
  let cpu: Context;
  const calls: PipelineCall[] = [];
  beforeAll(async () => {
    gpu = await createContext({ gpu: await faultyGpu({ refuse: (code) => BARRIER.test(code) }, calls) });
    cpu = await openContext('cpu-reference');
  });
  afterAll(() => {
    gpu?.destroy();
    cpu?.destroy();
  });

  it('still runs every op correctly, on variants without barriers, and says which it refused', async () => {
    expect(gpu.backend).toBe('webgpu');
    await expectOpsCorrect(gpu, cpu);
    const table = gpu.tuning()!;
    const refused = new Set(table.rejected.filter((r) => r.stage === 'compile').map((r) => r.name));
    // The hardware rules' first choices, each refused and named.
    for (const name of ['matmul/tiled', 'matmul/skinny', 'softmax/workgroup', 'crossEntropy/workgroup', 'sum/tree']) expect(refused).toContain(name);
    expect(table.rejected.every((r) => r.reason.includes('workgroupBarrier') || r.reason.includes('refused'))).toBe(true);
    // What ran compiled: every pipeline asked for without a barrier.
    expect(calls.some((c) => !BARRIER.test(c.code))).toBe(true);
  });

  it('fits the same weights as the CPU', async () => {
    const [got, want] = await Promise.all([fitWeights(gpu), fitWeights(cpu)]);
    want.forEach((e, i) => expectAllClose({ shape: [got[i]!.length], data: got[i]! }, { shape: [e.length], data: e }, { rtol: 1e-3, atol: 1e-5 }, `layer tensor ${i}`));
  });
});

describe('a device whose compiler gets one variant wrong', () => {
  it('the self-check rejects the miscompiled tiled matmul, and results stay correct', { timeout: 120_000 }, async () => {
    // The tiled kernel's every output scaled by 1.001: far below what a loss curve would show.
    const edit = (code: string) => (code.includes('a_tile') ? code.replace('store(out_base + row * params.n + col, v);', 'store(out_base + row * params.n + col, v * 1.001);') : code);
    // tune: 'off': background tuning would compile every matmul candidate, which SwiftShader takes seconds over.
    const gpu = await createContext({ gpu: await faultyGpu({ edit }), tune: 'off' });
    const cpu = await openContext('cpu-reference');
    try {
      await expectOpsCorrect(gpu, cpu, [[64, 20, 100]]);
      const table = gpu.tuning()!;
      const wrong = table.rejected.filter((r) => r.stage === 'self-check');
      expect(wrong.length).toBeGreaterThan(0);
      expect(wrong.every((r) => r.name === 'matmul/tiled')).toBe(true);
      expect(wrong[0]!.reason).toMatch(/differs from the CPU backend's/);
      expect(table.selfCheck.pipelines).toBeGreaterThan(0);
      expect(table.selfCheck.totalMs).toBeGreaterThan(0);
    } finally {
      gpu.destroy();
      cpu.destroy();
    }
  });
});

describe('a device with 16 KiB of workgroup storage', () => {
  it('is never asked for a pipeline that needs more, and runs every op', { timeout: 120_000 }, async () => {
    const calls: PipelineCall[] = [];
    // A table that names a 32 KiB tile for the wide products, as one tuned on a bigger device of the same name would.
    const tuning = {
      version: 1,
      library: LIBRARY_VERSION,
      adapter: { vendor: HARDWARE_INFO.vendor, architecture: HARDWARE_INFO.architecture, device: HARDWARE_INFO.device, description: HARDWARE_INFO.description },
      choices: { 'matmul n>16': { choice: 'matmul/tiled-k64', ms: { 'matmul/tiled-k64': 1 }, source: 'timestamp-query' as const } },
      rejected: [],
      selfCheck: { pipelines: 0, totalMs: 0, maxMs: 0 },
    };
    const gpu = await createContext({ gpu: await faultyGpu({ limits: { maxComputeWorkgroupStorageSize: 16384 } }, calls), tuning, tune: 'off' });
    const cpu = await openContext('cpu-reference');
    try {
      expect(gpu.device!.limits.maxComputeWorkgroupStorageSize).toBe(16384);
      await expectOpsCorrect(gpu, cpu, [[64, 20, 100]]);
      // Long rows: on the adapter's own 32 KiB a 4096-column row is cached whole in workgroup memory (16 KiB and more).
      const long = async (ctx: Context) => ctx.softmax(ctx.tensor(uniform(4 * 4096, 9, 4), [4, 4096])).read();
      const [got, want] = await Promise.all([long(gpu), long(cpu)]);
      expectAllClose({ shape: [got.length], data: got }, { shape: [want.length], data: want }, TOL, 'softmax 4x4096');
      const tooBig = calls.filter((c) => c.entryPoint === 'row_per_workgroup' && (c.constants['CACHE'] ?? 1) * 4 + (c.constants['WG'] ?? 256) * 16 > 16384);
      expect(tooBig).toEqual([]);
      expect(calls.filter((c) => c.entryPoint === 'row_per_workgroup').length).toBeGreaterThan(0);
      expect(gpu.tuning()!.rejected.filter((r) => r.stage === 'compile')).toEqual([]);
      // The table's choice needs 32 KiB: refused for the limit, never compiled, and the op ran the next candidate.
      expect(gpu.tuning()!.rejected.filter((r) => r.stage === 'limits')).toEqual([
        expect.objectContaining({ name: 'matmul/tiled-k64', reason: 'needs 32768 bytes of workgroup storage; the device allows 16384' }),
      ]);
      expect(calls.filter((c) => c.constants['DEPTH'] === 64)).toEqual([]);
      expect(calls.some((c) => c.constants['DEPTH'] === 16)).toBe(true);
    } finally {
      gpu.destroy();
      cpu.destroy();
    }
  });
});

describe("tune: 'auto' on a hardware adapter", () => {
  it('tunes a family in the background after its first use, without holding up the op', { timeout: 120_000 }, async () => {
    const gpu = await createContext({ gpu: await faultyGpu({}) });
    const off = await createContext({ gpu: await faultyGpu({}), tune: 'off' });
    const cpu = await openContext('cpu-reference');
    try {
      const sum = (ctx: Context) => ctx.sum(ctx.tensor(uniform(512 * 10, 4), [512, 10]), { axis: 0 }).read();
      const [got, want] = await Promise.all([sum(gpu), sum(cpu)]);
      expectAllClose({ shape: [10], data: got }, { shape: [10], data: want }, TOL, 'sum');
      // The op was answered by the rule; the tuned choice comes later.
      for (let waited = 0; gpu.tuning()!.choices['sum'] === undefined && waited < 100_000; waited += 100) await new Promise((r) => setTimeout(r, 100));
      expect(gpu.tuning()!.choices['sum']).toEqual({ choice: 'sum/tree', ms: { 'sum/tree': expect.any(Number) }, source: 'wall-clock' });
      const again = await sum(gpu);
      expectAllClose({ shape: [10], data: again }, { shape: [10], data: want }, TOL, 'sum, tuned');
      await sum(off);
      expect(off.tuning()!.choices).toEqual({});
    } finally {
      gpu.destroy();
      off.destroy();
      cpu.destroy();
    }
  });
});
