import { describe, expect, it } from 'vitest';
import {
  createContext,
  DeviceError,
  DeviceLostError,
  LimitError,
  ShaderCompileError,
  WebGPUUnavailableError,
  type Context,
  type Tensor,
} from '../src/index.js';
import { internals } from '../src/internal.js';
import type { WebGPUBackend } from '../src/webgpu/backend.js';
import { BufferUsage, MAP_READ } from '../src/webgpu/flags.js';
import { foldGrid } from '../src/webgpu/kernel-host.js';
import { PipelineCache } from '../src/webgpu/pipeline-cache.js';
import { ComposedShader } from '../src/webgpu/shader.js';
import { countSubmits, nodeDevice, nodeGpu, openContext } from './helpers/backends.js';
import { labels, uniform } from './helpers/random.js';

/** One linear-layer training step's ops, each result disposed. */
/** What a CPU context's reason ends with: the threads it runs on, where more than one. */
function onThreads(ctx: Context): string {
  return (ctx.threads ?? 1) > 1 ? `; ${ctx.threads} threads` : '';
}

function step(ctx: Context, x: Tensor<'float32'>, w: Tensor<'float32'>, y: Tensor<'int32'>) {
  const z = ctx.matmul(x, w);
  const { loss, grad } = ctx.crossEntropyWithGrad(z, y);
  const dw = ctx.matmul(x, grad, { transposeA: true });
  const db = ctx.sum(grad, { axis: 0 });
  for (const t of [z, loss, grad, dw, db]) t.dispose();
}

describe('pipeline cache', () => {
  it('shares one compile between concurrent requests', async () => {
    const device = await nodeDevice();
    let compiles = 0;
    const compile = device.createComputePipelineAsync.bind(device);
    device.createComputePipelineAsync = (d) => {
      compiles++;
      return compile(d);
    };
    const cache = new PipelineCache(device);
    const shader = new ComposedShader([
      { name: 'ok.wgsl', code: '@group(0) @binding(0) var<storage, read_write> o: array<f32>;\n@compute @workgroup_size(1) fn main() { o[0] = 1.0; }' },
    ]);
    const spec = { shader, entryPoint: 'main', constants: {}, bindings: ['write'] as const };
    const [a, b] = [cache.pipeline(spec), cache.pipeline(spec)];
    expect(a).toBe(b);
    await Promise.all([a, b]);
    expect(compiles).toBe(1);
    device.destroy();
  });

  it('reports a WGSL error with its file, line and column', async () => {
    const device = await nodeDevice();
    const cache = new PipelineCache(device);
    const shader = new ComposedShader([
      { name: 'lib/fine.wgsl', code: 'fn one() -> f32 {\n  return 1.0;\n}' },
      { name: 'broken.wgsl', code: '// a comment\n@compute @workgroup_size(1)\nfn main() {\n  let x: u32 = one();\n}' },
    ]);
    const failing = cache.pipeline({ shader, entryPoint: 'main', constants: {}, bindings: [] });
    await expect(failing).rejects.toThrow(ShaderCompileError);
    await expect(failing).rejects.toThrow(/broken\.wgsl:4:\d+: .*\n {4}let x: u32 = one\(\);/);
    device.destroy();
  });
});

describe('limits', () => {
  it('folds more than 65535 workgroups into a 2-D grid', () => {
    expect(foldGrid('k', 70000, 1, 65535)).toEqual([65535, 2, 1]);
    expect(foldGrid('k', 65535, 3, 65535)).toEqual([65535, 1, 3]);
    expect(() => foldGrid('k', 65535 * 65535 + 1, 1, 65535)).toThrow(LimitError);
  });

  it('runs a kernel over 70 000 workgroups (one per row), folded, with every row right', async () => {
    const ctx = await openContext('webgpu', { rows: 'workgroup' });
    const rows = 70000;
    const z = ctx.tensor(uniform(rows * 2, 5, 3), [rows, 2]);
    const p = await ctx.softmax(z).read();
    const zv = await z.read();
    for (const r of [0, 65534, 65535, 65536, rows - 1]) {
      const e = Math.exp(zv[2 * r + 1]! - zv[2 * r]!);
      expect(p[2 * r]).toBeCloseTo(1 / (1 + e), 6);
    }
    ctx.destroy();
  });

  it('rejects a tensor beyond maxStorageBufferBindingSize, naming the limit and the size, before any work', async () => {
    const ctx = await openContext('webgpu');
    // The library asks for the adapter's own limits, not the defaults.
    const limit = (await (await nodeGpu()).requestAdapter())!.limits.maxStorageBufferBindingSize;
    const rows = Math.floor(limit / 4 / 16384) + 1;
    const a = ctx.tensor(new Float32Array(rows), [rows, 1]);
    const b = ctx.tensor(new Float32Array(16384), [1, 16384]);
    expect(() => ctx.matmul(a, b)).toThrow(LimitError);
    expect(() => ctx.matmul(a, b)).toThrow(
      `matmul: a tensor of shape [${rows}, 16384] needs ${rows * 16384 * 4} bytes, more than the device's maxStorageBufferBindingSize of ${limit} bytes`,
    );
    expect(ctx.memory().tensors).toBe(2);
    ctx.destroy();
  });
});

describe('buffers and submits', () => {
  it('handles zero-size tensors', async () => {
    const ctx = await openContext('webgpu');
    const empty = ctx.tensor(new Float32Array(0), [0]);
    expect(await empty.read()).toEqual(new Float32Array(0));
    expect(ctx.memory().tensors).toBe(1);
    const rows = ctx.softmax(ctx.tensor(new Float32Array(0), [0, 5]));
    expect(rows.shape).toEqual([0, 5]);
    expect((await rows.read()).length).toBe(0);
    ctx.destroy();
  });

  it('reports real GPU bytes: the pooled bucket of each live tensor', async () => {
    const ctx = await openContext('webgpu');
    const t = ctx.tensor(new Float32Array(1000), [1000]);
    expect(ctx.memory().bytes).toBe(4096);
    t.dispose();
    expect(ctx.memory()).toEqual({ tensors: 0, bytes: 0, pooledBytes: 4096, peakBytes: expect.any(Number) });
    // The tensor's bucket, and the stand-in buffers every kernel host makes.
    expect(ctx.memory().peakBytes).toBeGreaterThanOrEqual(4096);
    ctx.destroy();
  });

  it('runs a chain of ops as one submit, when a result is read', async () => {
    const device = await nodeDevice();
    const ctx = await createContext({ device });
    const x = ctx.tensor(uniform(64 * 20, 1), [64, 20]);
    const w = ctx.tensor(uniform(20 * 10, 2), [20, 10]);
    const y = ctx.tensor(labels(64, 10, 3));
    const chain = () => {
      const z = ctx.matmul(x, w);
      const { loss, grad } = ctx.crossEntropyWithGrad(z, y);
      return { loss, dw: ctx.matmul(x, grad, { transposeA: true }), db: ctx.sum(grad, { axis: 0 }) };
    };
    // The first run of each kernel on a context is self-checked against the CPU, in submits of its own.
    await chain().db.read();
    const submits = countSubmits(device);
    const { loss, dw, db } = chain();
    expect(submits()).toBe(0);
    await db.read();
    expect(submits()).toBe(1);
    await Promise.all([loss.read(), dw.read()]);
    expect(submits()).toBe(3);
    ctx.destroy();
    device.destroy();
  });

  it('destroys every staging buffer, after a read and after a failed read', async () => {
    const device = await nodeDevice();
    const staging = new Set<GPUBuffer>();
    const create = device.createBuffer.bind(device);
    device.createBuffer = (d) => {
      const buffer = create(d);
      if (d.usage & BufferUsage.MAP_READ) {
        staging.add(buffer);
        const destroy = buffer.destroy.bind(buffer);
        buffer.destroy = () => {
          staging.delete(buffer);
          destroy();
        };
      }
      return buffer;
    };
    const ctx = await createContext({ device });
    const t = ctx.tensor(uniform(100, 1), [10, 10]);
    await ctx.softmax(t).read();
    expect(staging.size).toBe(0);
    const pending = ctx.softmax(t).read();
    device.destroy();
    await expect(pending).rejects.toThrow(DeviceLostError);
    expect(staging.size).toBe(0);
  });

  it('frees what it allocates: 1000 training steps leave memory() where it started', async () => {
    const ctx = await openContext('webgpu');
    const x = ctx.tensor(uniform(32 * 20, 1), [32, 20]);
    const w = ctx.tensor(uniform(20 * 10, 2), [20, 10]);
    const y = ctx.tensor(labels(32, 10, 3));
    const start = ctx.memory();
    step(ctx, x, w, y);
    await ctx.flush();
    const warm = ctx.memory();
    for (let i = 0; i < 1000; i++) {
      step(ctx, x, w, y);
      await ctx.flush();
    }
    await x.read();
    expect(ctx.memory()).toEqual({ ...start, pooledBytes: warm.pooledBytes, peakBytes: expect.any(Number) });
    // The high-water mark of step 1001 is that of step 1, plus the read's staging buffer.
    expect(ctx.memory().peakBytes).toBeLessThanOrEqual(warm.peakBytes + 32 * 20 * 4);
    ctx.destroy();
  });
});

describe('devices', () => {
  it('reports the adapter it runs on, and that SwiftShader is a software one', async () => {
    const ctx = await openContext('webgpu');
    expect(ctx.backend).toBe('webgpu');
    // On any adapter: the report is the adapter's own.
    const adapter = (await (await nodeGpu()).requestAdapter())!;
    const report = ctx.adapter!;
    expect(report.vendor).toBe(adapter.info.vendor);
    expect(report.architecture).toBe(adapter.info.architecture);
    expect(report.description).toBe(adapter.info.description);
    expect(typeof report.isSoftware).toBe('boolean');
    // The features it reports are ones the adapter has, and the device it opened has them too.
    for (const f of report.features) expect(adapter.features.has(f), f).toBe(true);
    for (const f of report.features) expect(ctx.device!.features.has(f), f).toBe(true);
    // What only SwiftShader promises (the machines without a GPU this suite mostly runs on).
    if (report.architecture === 'swiftshader') {
      expect(report.isSoftware).toBe(true);
      expect(report.features).toContain('subgroups');
    }
    ctx.destroy();
  });

  it("'webgpu' fails clearly without an adapter; 'auto' falls back to the CPU", async () => {
    const noAdapter = { requestAdapter: async () => null } as unknown as GPU;
    await expect(createContext({ backend: 'webgpu', gpu: noAdapter })).rejects.toThrow(
      new WebGPUUnavailableError('createContext: WebGPU is available but requestAdapter() found no adapter'),
    );
    const ctx = await createContext({ gpu: noAdapter });
    expect(ctx.backend).toBe('cpu');
    expect(ctx.adapter).toBeNull();
    expect(ctx.backendReason).toBe(`WebGPU is unavailable: WebGPU is available but requestAdapter() found no adapter${onThreads(ctx)}`);
  });

  it("'auto' passes over a software adapter for the CPU, and says so; 'webgpu' and the app's device still use it", async () => {
    const real = await nodeGpu();
    // On a machine with a GPU the adapter plays SwiftShader (its info says so); without one it is SwiftShader.
    const gpu = (await real.requestAdapter())!.info.architecture === 'swiftshader' ? real : claimingSoftware(real);
    const destroyed: GPUDevice[] = [];
    const watched = {
      requestAdapter: async (o?: GPURequestAdapterOptions) => {
        const adapter = (await gpu.requestAdapter(o))!;
        const requestDevice = adapter.requestDevice.bind(adapter);
        adapter.requestDevice = async (d) => {
          const device = await requestDevice(d);
          const destroy = device.destroy.bind(device);
          device.destroy = () => void (destroyed.push(device), destroy());
          return device;
        };
        return adapter;
      },
    } as unknown as GPU;
    const auto = await createContext({ gpu: watched });
    expect(auto.backend).toBe('cpu');
    expect(auto.device).toBeNull();
    expect(auto.adapter).toMatchObject({ architecture: 'swiftshader', isSoftware: true });
    expect(auto.backendReason).toMatch(/^the only WebGPU adapter is a software one \(google swiftshader.*\).*pass backend: 'webgpu' to use it anyway(; \d+ threads)?$/);
    expect(auto.backendReason.endsWith(onThreads(auto))).toBe(true);
    // The device it opened to look is not left behind.
    expect(destroyed).toHaveLength(1);

    const asked = await createContext({ gpu, backend: 'webgpu' });
    expect(asked.backend).toBe('webgpu');
    expect(asked.backendReason).toBe("backend 'webgpu' was asked for");
    const device = await nodeDevice();
    const given = await createContext({ device });
    expect(given.backend).toBe('webgpu');
    expect(given.backendReason).toBe('the app passed its own GPUDevice');
    const cpu = await createContext({ backend: 'cpu' });
    expect(cpu.backendReason).toBe(`backend 'cpu' was asked for${onThreads(cpu)}`);
    for (const c of [auto, asked, given, cpu]) c.destroy();
  });

  it("'auto' takes a hardware adapter", async () => {
    const gpu = await nodeGpu();
    const hardware = {
      requestAdapter: async () => {
        const adapter = (await gpu.requestAdapter())!;
        const info = { vendor: 'nvidia', architecture: 'hopper', device: '', description: 'NVIDIA H200', isFallbackAdapter: false };
        return new Proxy(adapter, {
          get: (a, key) => {
            if (key === 'info') return info;
            const value: unknown = Reflect.get(a, key, a);
            return typeof value === 'function' ? value.bind(a) : value;
          },
        });
      },
    } as unknown as GPU;
    const ctx = await createContext({ gpu: hardware });
    expect(ctx.backend).toBe('webgpu');
    expect(ctx.backendReason).toBe('a hardware WebGPU adapter was found (nvidia hopper NVIDIA H200)');
    ctx.destroy();
  });

  it('never destroys a device the caller passed in', async () => {
    const device = await nodeDevice();
    const ctx = await createContext({ device });
    expect(ctx.backend).toBe('webgpu');
    ctx.destroy();
    // A destroyed device cannot map a buffer, so a round trip through one proves it is alive.
    const buffer = device.createBuffer({ label: 'still alive', size: 4, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
    device.queue.writeBuffer(buffer, 0, new Float32Array([42]));
    await buffer.mapAsync(MAP_READ);
    expect(Array.from(new Float32Array(buffer.getMappedRange()))).toEqual([42]);
    buffer.unmap();
    device.destroy();
  });

  it('reports an error the device raised outside a batch at the next read, once', async () => {
    const ctx = await openContext('webgpu');
    const t = ctx.tensor(new Float32Array([1, 2]), [2]);
    const device = (ctx[internals].backend() as WebGPUBackend).device;
    // Listeners run in the order they were added, so once this one hears the error the context has too.
    const heard = new Promise((resolve) => device.addEventListener('uncapturederror', resolve, { once: true }));
    device.createBuffer({ label: 'too large', size: 2 ** 52, usage: BufferUsage.STORAGE });
    await heard;
    const failed = t.read();
    await expect(failed).rejects.toThrow(DeviceError);
    await expect(failed).rejects.toThrow(/^read: the GPU reported an error: .*too large/s);
    expect(Array.from(await t.read())).toEqual([1, 2]);
    ctx.destroy();
  });

  it('survives device loss: reads reject clearly, the context carries on on the CPU', async () => {
    const device = await nodeDevice();
    const ctx = await createContext({ device });
    const z = ctx.tensor(new Float32Array([1, 2, 3, 4]), [2, 2]);
    const p = ctx.softmax(z);
    const pending = p.read();
    device.destroy();
    await expect(pending).rejects.toThrow(DeviceLostError);
    await expect(pending).rejects.toThrow(/the WebGPU device was lost \(destroyed/);
    await expect(z.read()).rejects.toThrow(/read: the WebGPU device was lost/);
    expect(ctx.backend).toBe('cpu');
    expect(ctx.lost?.reason).toBe('destroyed');
    expect(() => ctx.softmax(z)).toThrow(new DeviceLostError('softmax: z Tensor(float32, [2, 2]) lived on the WebGPU device that was lost (destroyed); its data is gone'));
    const fresh = ctx.tensor(new Float32Array([0, 0]), [1, 2]);
    expect(Array.from(await ctx.softmax(fresh).read())).toEqual([0.5, 0.5]);
    z.dispose();
    p.dispose();

    const next = await createContext({ device });
    expect(next.backend).toBe('cpu');
    await expect(createContext({ device, backend: 'webgpu' })).rejects.toThrow('createContext: the WebGPU device is lost');
  });
});

/** `gpu`, whose adapters report themselves as SwiftShader: a software adapter, on any machine. */
function claimingSoftware(gpu: GPU): GPU {
  const info = { vendor: 'google', architecture: 'swiftshader', device: '', description: 'SwiftShader Device (Subzero)', isFallbackAdapter: false };
  return {
    requestAdapter: async (o?: GPURequestAdapterOptions) => {
      const adapter = (await gpu.requestAdapter(o))!;
      return new Proxy(adapter, {
        get: (a, key) => {
          if (key === 'info') return info;
          const value: unknown = Reflect.get(a, key, a);
          return typeof value === 'function' ? value.bind(a) : value;
        },
      });
    },
  } as unknown as GPU;
}
