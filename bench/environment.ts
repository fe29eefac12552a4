// Runs every selected case on every contender inside one JavaScript environment (the Node child
// or the browser page): the same code in both, given only what differs (GPU object, where the
// wasm binaries live, how to load MNIST, how to log).

import type { Dataset } from '../datasets/dataset.js';
import { CASES, type BenchCase } from './cases.js';
import { oursContender } from './contenders/ours.js';
import { messageOf, type Contender, type ContenderId, type Workload } from './contenders/types.js';
import { makeJob, type Job } from './inputs.js';
import { measure, type Measurement } from './measure.js';
import type { AdapterReport } from 'webgpu-softmax';
import type { CaseResult, ContenderInfo, EnvironmentName, EnvironmentRequest, EnvironmentResult } from './results.js';

/** What a user installs to have TF.js compared (optional peer dependencies of the package). */
export const TFJS_INSTALL = 'npm install @tensorflow/tfjs @tensorflow/tfjs-backend-wasm @tensorflow/tfjs-backend-webgpu';

export interface EnvironmentHost {
  readonly environment: EnvironmentName;
  readonly runtime: string;
  readonly userAgent: string | null;
  readonly cpuCores: number;
  /** `navigator.gpu` in the browser, Dawn's GPU in Node; both contenders get the same one. */
  readonly gpu: GPU | undefined;
  /** Where tfjs-wasm finds its .wasm files (a directory in Node, a URL prefix in the browser). */
  readonly wasmPaths: string;
  readonly loadMnist: () => Promise<Dataset>;
  readonly log: (line: string) => void;
  /** After each case on each contender, for a progress bar: how many are done of how many. */
  readonly progress?: (done: number, total: number) => void;
}

interface Opened {
  readonly contender: Contender;
  readonly info: ContenderInfo;
  /** The adapter ours-webgpu runs on; null for the others. */
  readonly adapter: AdapterReport | null;
}

function formatMs(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms >= 1 ? ms.toFixed(2) : ms.toFixed(4);
}

function resultLine(c: BenchCase, id: ContenderId, m: Measurement, seconds: number): string {
  const kernel = m.kernel === null ? `kernel n/a${m.kernelError === null ? '' : ` (${m.kernelError})`}` : `kernel ${formatMs(m.kernel.median)} ms`;
  return (
    `${c.title.padEnd(36)} ${id.padEnd(12)} ${formatMs(m.wall.median).padStart(8)} ms/iter ` +
    `[${formatMs(m.wall.min)}–${formatMs(m.wall.max)}] R=${m.iterations}×${m.reps}  ${kernel}  (${seconds.toFixed(1)} s)`
  );
}

export async function runEnvironment(host: EnvironmentHost, request: EnvironmentRequest): Promise<EnvironmentResult> {
  const started = performance.now();
  const date = new Date().toISOString();
  const { log } = host;
  const cases = CASES.filter((c) => request.caseIds.includes(c.id));
  const wanted = (id: ContenderId) => request.contenderIds.length === 0 || request.contenderIds.includes(id);

  // Ours first: its WebGPU device is opened before tfjs's, on the same GPU object.
  const openers: readonly [ContenderId, () => Promise<Opened>][] = [
    ['ours-webgpu', async () => {
      const c = await oursContender('webgpu', host.gpu);
      const adapter = c.adapter === null ? null : { ...c.adapter, features: [...c.adapter.features] };
      // ctx.profile needs timestamp-query for GPU kernel times.
      const kernelSource = adapter?.features.includes('timestamp-query') === true ? 'timestamp-query' : 'unavailable';
      return { contender: c, info: { id: c.id, description: c.description, kernelSource }, adapter };
    }],
    ...([['cpu', 'auto'], ['cpu-t1', 1], ['cpu-t2', 2], ['cpu-reference', 'auto']] as const).map(([name, threads]): [ContenderId, () => Promise<Opened>] => [
      `ours-${name}`,
      async () => {
        const c = await oursContender(name === 'cpu-reference' ? name : 'cpu', undefined, threads);
        return { contender: c, info: { id: c.id, description: c.description, kernelSource: 'wall-clock' }, adapter: null };
      },
    ]),
    ...(['webgpu', 'wasm', 'cpu'] as const).map((backend): [ContenderId, () => Promise<Opened>] => [
      `tfjs-${backend}`,
      async () => {
        // Loaded on first use: the bin runs without TF.js, which users install only if they want it compared.
        const { tfjsContender } = await import('./contenders/tfjs.js').catch((error: unknown) => {
          const code = (error as { code?: string }).code;
          if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') throw new Error(`TensorFlow.js is not installed (${TFJS_INSTALL})`);
          throw error;
        });
        const c = await tfjsContender(backend, host.wasmPaths);
        return { contender: c, info: { id: c.id, description: c.description, kernelSource: c.kernelSource }, adapter: null };
      },
    ]),
  ];
  const opened: Opened[] = [];
  const unavailable: { id: ContenderId; error: string }[] = [];
  for (const [id, open] of openers.filter(([id]) => wanted(id))) {
    try {
      const o = await open();
      opened.push(o);
      log(`${id}: ${o.info.description}`);
    } catch (error) {
      unavailable.push({ id, error: messageOf(error) });
      log(`${id}: UNAVAILABLE: ${messageOf(error)}`);
    }
  }

  let mnist: Promise<Dataset> | null = null;
  const loadMnist = (): Promise<Dataset> => (mnist ??= host.loadMnist());
  const results: CaseResult[] = [];
  const total = cases.length * opened.length;
  for (const c of cases) {
    let job: Job;
    try {
      job = await makeJob(c, loadMnist);
    } catch (error) {
      for (const o of opened) results.push({ caseId: c.id, contender: o.info.id, measurement: null, error: `inputs: ${messageOf(error)}` });
      host.progress?.(results.length, total);
      log(`${c.title}: no inputs: ${messageOf(error)}`);
      continue;
    }
    for (const { contender } of opened) {
      let workload: Workload | null = null;
      const t0 = performance.now();
      try {
        workload = await contender.prepare(job);
        const m = await measure(workload, request.settings);
        results.push({ caseId: c.id, contender: contender.id, measurement: m, error: null, peakBytes: workload.peakBytes?.() ?? null });
        log(resultLine(c, contender.id, m, (performance.now() - t0) / 1000));
      } catch (error) {
        results.push({ caseId: c.id, contender: contender.id, measurement: null, error: messageOf(error) });
        log(`${c.title.padEnd(36)} ${contender.id.padEnd(12)} FAILED: ${messageOf(error)}`);
      } finally {
        workload?.dispose();
        host.progress?.(results.length, total);
      }
    }
  }
  for (const { contender } of opened) contender.destroy();

  return {
    environment: host.environment,
    runtime: host.runtime,
    userAgent: host.userAgent,
    date,
    cpuCores: host.cpuCores,
    adapter: opened.find((o) => o.adapter !== null)?.adapter ?? null,
    contenders: opened.map((o) => o.info),
    unavailable,
    results,
    seconds: (performance.now() - started) / 1000,
  };
}
