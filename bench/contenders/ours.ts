// This library as a contender, on WebGPU or on its CPU backend, through its public API only.
// `webgpu-softmax` is the built dist/ in both environments (a self-reference in Node, a Vite
// alias in the browser), so the benchmark measures what users install.

import { createContext, type AdapterReport, type Context } from 'webgpu-softmax';
import type { Job } from '../inputs.js';
import { Latest, type Contender, type KernelTime, type Workload } from './types.js';

export interface OursContender extends Contender {
  /** The adapter the WebGPU context runs on; null for the CPU backend. */
  readonly adapter: AdapterReport | null;
}

/**
 * Opens a context on `backend`; WebGPU must really be WebGPU (no silent CPU fallback), and
 * `'cpu'` the WebAssembly kernels (no silent fallback to the reference either).
 */
export async function oursContender(backend: 'webgpu' | 'cpu' | 'cpu-reference', gpu: GPU | undefined, threads: number | 'auto' = 'auto'): Promise<OursContender> {
  const open = () =>
    createContext(
      backend === 'webgpu'
        ? { backend: 'webgpu', ...(gpu === undefined ? {} : { gpu }) }
        : backend === 'cpu'
          ? { backend: 'cpu', cpu: 'wasm', threads }
          : { backend: 'cpu', cpu: 'reference' },
    );
  const ctx = await open();
  const adapter = ctx.adapter;
  let description: string;
  if (backend === 'webgpu') description = `webgpu-softmax on WebGPU (${adapter?.architecture || adapter?.vendor || 'unknown adapter'})`;
  else if (backend === 'cpu-reference') description = 'webgpu-softmax CPU reference (TypeScript, one thread, float64 sums)';
  else {
    const build = wasmBuild();
    if (build === null) throw new Error('this engine has no WebAssembly SIMD: the CPU backend would run its TypeScript reference');
    const count = ctx.threads === 1 ? 'one thread' : `${ctx.threads} threads`;
    if (threads !== 'auto' && ctx.threads !== threads) throw new Error(`asked for ${threads} threads, got ${count}: ${ctx.backendReason}`);
    description = `webgpu-softmax CPU backend (WebAssembly ${build === 'relaxed-simd' ? 'relaxed SIMD, f32x4 FMA' : 'SIMD, f32x4 multiply + add'}, ${count}, float32)`;
  }
  return {
    id: backend === 'webgpu' ? 'ours-webgpu' : backend === 'cpu' ? (threads === 'auto' ? 'ours-cpu' : (`ours-cpu-t${threads}` as 'ours-cpu-t1')) : 'ours-cpu-reference',
    description,
    adapter,
    // A context per case, so its peak memory counts only what the case needs (a shared one
    // would still hold the previous cases' freed buffers in its pool).
    prepare: async (job) => {
      const own = await open();
      try {
        const workload = await prepare(own, backend === 'webgpu' ? 'webgpu' : 'cpu', job);
        return {
          ...workload,
          dispose: () => {
            workload.dispose();
            own.destroy();
          },
        };
      } catch (error) {
        own.destroy();
        throw error;
      }
    },
    destroy: () => ctx.destroy(),
  };
}

async function prepare(ctx: Context, backend: 'webgpu' | 'cpu', job: Job): Promise<Workload> {
  // After a lost device the context carries on on the CPU; a "WebGPU" figure from there would lie.
  if (ctx.backend !== backend) throw new Error(`the ${backend} context now runs on ${ctx.backend}: ${ctx.lost?.message ?? ''}`);
  const owned: { dispose(): void }[] = [];
  const hold = <T extends { dispose(): void }>(t: T): T => (owned.push(t), t);
  const latest = new Latest();
  // Reading a 1-element tensor copies it in a submit queued after every earlier one, and the
  // mapping resolves only once that submit (and so all earlier work) has finished.
  const sentinel = hold(ctx.tensor(new Float32Array(1)));
  let step: () => void | Promise<void>;

  switch (job.kind) {
    case 'matmul': {
      const { m, k, n, transposeA } = job.case;
      const a = hold(ctx.tensor(job.inputs.a, transposeA ? [k, m] : [m, k]));
      const b = hold(ctx.tensor(job.inputs.b, [k, n]));
      step = () => latest.keep(ctx.matmul(a, b, { transposeA }));
      break;
    }
    case 'softmax': {
      const z = hold(ctx.tensor(job.inputs.logits, [job.case.rows, job.case.cols]));
      step = () => latest.keep(ctx.softmax(z));
      break;
    }
    case 'crossEntropy': {
      const z = hold(ctx.tensor(job.inputs.logits, [job.case.rows, job.case.cols]));
      const y = hold(ctx.tensor(job.inputs.labels));
      step = () => {
        const { loss, grad } = ctx.crossEntropyWithGrad(z, y);
        latest.keep(loss, grad);
      };
      break;
    }
    case 'linearCrossEntropy': {
      const c = job.case;
      if (c.beyond && backend === 'cpu') throw new Error('skipped: a minute or more per iteration in one JavaScript thread');
      const x = hold(ctx.tensor(job.inputs.x, [c.rows, c.features]));
      const w = hold(ctx.tensor(job.inputs.weight, [c.features, c.classes]));
      const bias = hold(ctx.tensor(job.inputs.bias));
      const y = hold(ctx.tensor(job.inputs.labels));
      step = c.fused
        ? () => {
            const { loss, gradX, gradWeight, gradBias } = ctx.linearCrossEntropyWithGrad(x, w, y, { bias });
            latest.keep(loss, gradX, gradWeight, gradBias!);
          }
        : () => {
            const z = ctx.matmul(x, w, { bias });
            const { loss, grad } = ctx.crossEntropyWithGrad(z, y);
            const gradX = ctx.matmul(grad, w, { transposeB: true });
            const gradWeight = ctx.matmul(x, grad, { transposeA: true });
            const gradBias = ctx.sum(grad, { axis: 0 });
            z.dispose();
            grad.dispose();
            latest.keep(loss, gradX, gradWeight, gradBias);
          };
      break;
    }
    case 'mlpStep': {
      const c = job.case;
      const x = hold(ctx.tensor(job.inputs.x, [job.inputs.rows, c.features]));
      const y = hold(ctx.tensor(job.inputs.labels));
      const model = hold(
        ctx.classifier({
          features: c.features,
          classes: c.classes,
          hidden: [c.hidden],
          activation: 'relu',
          optimizer: { type: 'adam', learningRate: c.learningRate },
        }),
      );
      step = () => latest.keep(model.trainStep(x, y));
      break;
    }
    case 'trainStep':
    case 'epoch': {
      const c = job.case;
      const x = hold(ctx.tensor(job.inputs.x, [job.inputs.rows, c.features]));
      const y = hold(ctx.tensor(job.inputs.labels));
      const model = hold(
        ctx.softmaxRegression({
          features: c.features,
          classes: c.classes,
          init: 'zeros',
          seed: job.kind === 'epoch' ? job.case.seed : 0,
          optimizer: { type: 'sgd', learningRate: c.learningRate },
        }),
      );
      if (job.kind === 'trainStep') {
        step = () => latest.keep(model.trainStep(x, y));
      } else {
        const batchSize = job.case.batch;
        // fit itself reads back once per epoch (its metrics and the weights), never per batch.
        step = async () => void (await model.fit(x, y, { epochs: 1, batchSize }));
      }
      break;
    }
  }

  // Peak memory is counted from here: what the case needs beyond its inputs.
  await ctx.flush();
  ctx.resetPeakMemory();
  const baseline = ctx.memory().peakBytes;

  const run = async (): Promise<void> => {
    await step();
    // One submit per iteration, as `fit` does per batch: the GPU starts on this iteration
    // while the next is recorded. Resolves on submission, not on completion; a no-op on the CPU.
    await ctx.flush();
  };
  return {
    run,
    sync: async () => void (await sentinel.read()),
    kernelTime: async (): Promise<KernelTime> => {
      const profile = await ctx.profile(run);
      return { ms: Number.isNaN(profile.totalMs) ? null : profile.totalMs, source: profile.source };
    },
    peakBytes: () => ctx.memory().peakBytes - baseline,
    dispose: () => {
      latest.dispose();
      for (const t of owned.reverse()) t.dispose();
    },
  };
}

/**
 * The build the library picks, found the way it does: whether `WebAssembly.validate` accepts a
 * module using `f32x4.relaxed_madd` (relaxed SIMD), or one using `f32x4.add` (SIMD).
 */
function wasmBuild(): 'relaxed-simd' | 'simd' | null {
  // (func (result v128) v128.const 0 ×3, then relaxed_madd, or f32x4.add and a drop)
  const module = (op: number[]) => {
    const v128 = [0xfd, 0x0c, ...new Array<number>(16).fill(0)];
    const body = [0x00, ...v128, ...v128, ...v128, ...op, 0x0b];
    return new Uint8Array([
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
      0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b,
      0x03, 0x02, 0x01, 0x00,
      0x0a, body.length + 2, 0x01, body.length, ...body,
    ]);
  };
  if (WebAssembly.validate(module([0xfd, 0x85, 0x02]))) return 'relaxed-simd';
  return WebAssembly.validate(module([0xfd, 0xe4, 0x01, 0x1a])) ? 'simd' : null;
}
