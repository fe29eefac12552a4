import { describe, expect, it } from 'vitest';
import {
  ContextMismatchError,
  createContext,
  DTypeError,
  LimitError,
  ShapeError,
  ValueError,
  type Context,
} from '../src/index.js';
import { BufferUsage, MAP_READ } from '../src/webgpu/flags.js';
import { nodeDevice } from './helpers/backends.js';
import { labels, uniform } from './helpers/random.js';

const STORAGE_ONLY = BufferUsage.STORAGE | BufferUsage.COPY_DST;

/** An app's buffer of `bytes`, with `data` written at `offset`. */
function appBuffer(device: GPUDevice, bytes: number, data: Float32Array | Int32Array, offset = 0, usage = STORAGE_ONLY): GPUBuffer {
  const buffer = device.createBuffer({ label: 'app features', size: bytes, usage });
  device.queue.writeBuffer(buffer, offset, data);
  return buffer;
}

/** What the app would do to read a buffer itself: its own copy into a mappable buffer. */
async function appRead(device: GPUDevice, buffer: GPUBuffer, bytes: number): Promise<Float32Array> {
  const staging = device.createBuffer({ label: 'app staging', size: bytes, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
  const encoder = device.createCommandEncoder();
  encoder.copyBufferToBuffer(buffer, 0, staging, 0, bytes);
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(MAP_READ);
  const data = new Float32Array(staging.getMappedRange().slice(0));
  staging.destroy();
  return data;
}

describe('GPU buffers shared with the app', () => {
  it('exposes the device, null on the CPU', async () => {
    const device = await nodeDevice();
    const ctx = await createContext({ device });
    expect(ctx.device).toBe(device);
    expect((await createContext({ backend: 'cpu' })).device).toBeNull();
    ctx.destroy();
  });

  it('wraps an app buffer at an offset without a copy, sees later writes, and never destroys it', async () => {
    const device = await nodeDevice();
    const ctx = await createContext({ device });
    const offset = device.limits.minStorageBufferOffsetAlignment;
    const first = uniform(6, 1, 3);
    const buffer = appBuffer(device, offset + 64, first, offset);
    const x = ctx.tensorFromGPUBuffer(buffer, [2, 3], 'float32', offset);
    expect(x.shape).toEqual([2, 3]);
    expect(ctx.memory()).toMatchObject({ tensors: 1, bytes: 0, pooledBytes: 0 });
    // The buffer lacks COPY_SRC: reading goes through a kernel, which needs only STORAGE.
    expect(await x.read()).toEqual(first);
    expect(await ctx.softmax(x).read()).toEqual(await ctx.softmax(ctx.tensor(first, [2, 3])).read());

    const second = uniform(6, 2, 3);
    device.queue.writeBuffer(buffer, offset, second);
    expect(await ctx.softmax(x).read()).toEqual(await ctx.softmax(ctx.tensor(second, [2, 3])).read());

    x.dispose();
    ctx.destroy();
    // Still the app's: a destroyed buffer would fail validation in the next context's batch.
    const next = await createContext({ device });
    expect(await next.tensorFromGPUBuffer(buffer, [2, 3], 'float32', offset).read()).toEqual(second);
    next.destroy();
  });

  it('trains on int32 labels and float32 features that live in app buffers', async () => {
    const device = await nodeDevice();
    const ctx = await createContext({ device });
    const rows = 64;
    const features = uniform(rows * 5, 3);
    const ids = labels(rows, 3, 4);
    const xb = appBuffer(device, rows * 5 * 4, features, 0, STORAGE_ONLY | BufferUsage.COPY_SRC);
    const yb = appBuffer(device, rows * 4, ids, 0, STORAGE_ONLY | BufferUsage.COPY_SRC);
    const fromApp = ctx.softmaxRegression({ features: 5, classes: 3, optimizer: { type: 'adam', learningRate: 0.05 } });
    const fromHost = ctx.softmaxRegression({ features: 5, classes: 3, optimizer: { type: 'adam', learningRate: 0.05 } });
    await fromApp.fit(ctx.tensorFromGPUBuffer(xb, [rows, 5], 'float32'), ctx.tensorFromGPUBuffer(yb, [rows], 'int32'), { epochs: 3, batchSize: 16 });
    await fromHost.fit(ctx.tensor(features, [rows, 5]), ctx.tensor(ids), { epochs: 3, batchSize: 16 });
    expect(await fromApp.getWeights()).toEqual(await fromHost.getWeights());
    ctx.destroy();
  });

  it('feeds app buffers at an offset, without COPY_SRC, to linearCrossEntropy, which copies slices of its inputs', async () => {
    const device = await nodeDevice();
    const ctx = await createContext({ device });
    const offset = device.limits.minStorageBufferOffsetAlignment;
    const [rows, features, classes] = [70, 3, 5];
    const data = uniform(rows * features, 6);
    const ids = labels(rows, classes, 7);
    const xb = appBuffer(device, offset + data.byteLength, data, offset);
    const yb = appBuffer(device, offset + ids.byteLength, ids, offset);
    const w = ctx.tensor(uniform(features * classes, 8), [features, classes]);
    const fromApp = ctx.linearCrossEntropyWithGrad(
      ctx.tensorFromGPUBuffer(xb, [rows, features], 'float32', offset),
      w,
      ctx.tensorFromGPUBuffer(yb, [rows], 'int32', offset),
      { chunkRows: 16 },
    );
    const fromHost = ctx.linearCrossEntropyWithGrad(ctx.tensor(data, [rows, features]), w, ctx.tensor(ids), { chunkRows: 16 });
    for (const key of ['loss', 'gradX', 'gradWeight'] as const) {
      expect(await fromApp[key].read()).toEqual(await fromHost[key].read());
    }
    ctx.destroy();
  });

  it('hands out the buffer behind a result, its work submitted', async () => {
    const device = await nodeDevice();
    const ctx = await createContext({ device });
    const z = ctx.tensor(uniform(12, 5), [4, 3]);
    const p = ctx.softmax(z);
    const buffer = await ctx.gpuBuffer(p);
    expect(buffer.usage & (BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST)).toBe(
      BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST,
    );
    expect(buffer.size).toBeGreaterThanOrEqual(48);
    expect(await appRead(device, buffer, 48)).toEqual(await p.read());
    ctx.destroy();
  });

  it('refuses what it cannot use, naming it, before any work', async () => {
    const device = await nodeDevice();
    const ctx = await createContext({ device });
    const align = device.limits.minStorageBufferOffsetAlignment;
    const good = device.createBuffer({ label: 'feats', size: 1024, usage: STORAGE_ONLY });
    const cases: [() => unknown, new (...a: never[]) => Error, RegExp][] = [
      [() => ctx.tensorFromGPUBuffer({} as GPUBuffer, [1]), ValueError, /buffer must be a GPUBuffer, got Object/],
      [() => ctx.tensorFromGPUBuffer(good, [2, 3], 'float64' as 'float32'), DTypeError, /dtype must be 'float32', 'int32' or 'float16', got "float64"/],
      [() => ctx.tensorFromGPUBuffer(good, [2, -3]), ShapeError, /non-negative integers/],
      [() => ctx.tensorFromGPUBuffer(good, [2], 'float32', 4), ValueError, new RegExp(`multiple of the device's minStorageBufferOffsetAlignment \\(${align}\\), got 4`)],
      [() => ctx.tensorFromGPUBuffer(good, [257]), ShapeError, /shape \[257\] \(float32\) needs 1028 bytes from byteOffset 0, but buffer 'feats' holds 1024 bytes/],
      [() => ctx.tensorFromGPUBuffer(good, [200], 'float32', align * 4), ShapeError, /from byteOffset 1024/],
      [
        () => ctx.tensorFromGPUBuffer(device.createBuffer({ label: 'verts', size: 64, usage: BufferUsage.VERTEX | BufferUsage.COPY_DST }), [4]),
        ValueError,
        /buffer 'verts' has usage 0x28 \(COPY_DST \| VERTEX\), without STORAGE/,
      ],
    ];
    for (const [call, type, message] of cases) {
      expect(call).toThrow(type);
      expect(call).toThrow(message);
    }
    const mapped = device.createBuffer({ label: 'mapped', size: 64, usage: BufferUsage.STORAGE, mappedAtCreation: true });
    expect(() => ctx.tensorFromGPUBuffer(mapped, [4])).toThrow(/buffer 'mapped' is mapped; unmap it first/);
    expect(ctx.memory().tensors).toBe(0);

    const cpu = await createContext({ backend: 'cpu' });
    expect(() => cpu.tensorFromGPUBuffer(good, [4])).toThrow(/runs on the CPU backend/);
    await expect(cpu.gpuBuffer(cpu.tensor(new Float32Array(1)))).rejects.toThrow(/only a WebGPU context has GPU buffers/);
    ctx.destroy();
  });

  it("reports a buffer of another device at the next read, as a ContextMismatchError", async () => {
    const ours = await nodeDevice();
    const theirs = await nodeDevice();
    const ctx: Context = await createContext({ device: ours });
    const foreign = appBuffer(theirs, 64, new Float32Array([1, 2, 3, 4]), 0);
    foreign.label = 'elsewhere';
    const x = ctx.tensorFromGPUBuffer(foreign, [1, 4]);
    const p = ctx.softmax(x);
    await expect(p.read()).rejects.toThrow(ContextMismatchError);
    // Reported once; the context goes on working.
    const q = ctx.softmax(ctx.tensor(new Float32Array([0, 0]), [1, 2]));
    expect(await q.read()).toEqual(new Float32Array([0.5, 0.5]));
    ctx.destroy();
  });

  it('refuses a tensor past maxStorageBufferBindingSize', async () => {
    const device = await nodeDevice();
    const ctx = await createContext({ device });
    const fake = { label: 'huge', size: 2 ** 40, usage: BufferUsage.STORAGE, mapState: 'unmapped', mapAsync() {}, destroy() {} };
    expect(() => ctx.tensorFromGPUBuffer(fake as unknown as GPUBuffer, [2 ** 36])).toThrow(LimitError);
    ctx.destroy();
  });
});
