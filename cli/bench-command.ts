// `webgpu-softmax bench`: the library's own benchmark cases on this machine, in Node: WebGPU
// through Dawn (where the optional `webgpu` package is installed) against the CPU backend, and
// TensorFlow.js's backends where the user has TF.js installed. Prints the report and saves it
// as Markdown, JSON and SVG.

import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { selectCases } from '../bench/cases.js';
import { messageOf } from '../bench/contenders/types.js';
import { SETTINGS } from '../bench/measure.js';
import { assembleReport, mergeReports, readReport, saveReport } from '../bench/report/file.js';
import type { BenchReport, EnvironmentName } from '../bench/results.js';
import { UsageError } from './args.js';
import type { BenchArgs } from './bin-args.js';
import { nodeGpu } from './node-gpu.js';
import { NO_DAWN } from './open-context.js';

/** Cases that need the project's MNIST files, which the package does not ship. */
const NEEDS_MNIST = new Set(['mnist-epoch']);

export async function bench(args: BenchArgs, log: (line: string) => void): Promise<void> {
  const started = performance.now();
  let cases;
  try {
    cases = selectCases(args.quick, args.cases).filter((c) => !NEEDS_MNIST.has(c.id));
  } catch (error) {
    throw new UsageError(messageOf(error));
  }
  const added: BenchReport[] = [];
  for (const path of args.add) added.push(await readReport(path).catch((error: unknown) => Promise.reject(new UsageError(messageOf(error)))));

  // The user's project resolves TF.js and Dawn, not this package.
  const require = createRequire(join(process.cwd(), 'package.json'));
  const gpu = await nodeGpu().catch(() => undefined);
  if (gpu === undefined) log(`bench: ${NO_DAWN}; WebGPU is left out`);
  else {
    // tfjs-backend-webgpu registers itself at import only where navigator.gpu exists, and reads GPU* constants from the global scope.
    Object.assign(globalThis, (await import('webgpu')).globals);
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  }
  let wasmPaths = '';
  try {
    wasmPaths = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/';
  } catch {
    // No tfjs-backend-wasm: its contender reports itself unavailable.
  }
  const { runEnvironment } = await import('../bench/environment.js');
  const settings = SETTINGS[args.quick ? 'quick' : 'full'];
  log(`bench: ${cases.length} cases, ${settings.mode} settings, in Node ${process.version}`);
  const environment = await runEnvironment(
    {
      environment: 'node',
      runtime: `Node ${process.version}${gpu === undefined ? '' : ` (webgpu ${(require('webgpu/package.json') as { version: string }).version}, Dawn)`}`,
      userAgent: null,
      cpuCores: cpus().length,
      gpu,
      wasmPaths,
      loadMnist: () => Promise.reject(new Error('MNIST is not shipped with the package')),
      log: (line) => log(`  ${line}`),
    },
    { settings, caseIds: cases.map((c) => c.id), contenderIds: gpu === undefined ? ['ours-cpu', 'ours-cpu-reference', 'tfjs-wasm', 'tfjs-cpu'] : [] },
  );
  const missing: { environment: EnvironmentName; error: string }[] = [];
  const report = mergeReports(
    assembleReport({
      command: ['webgpu-softmax bench', ...process.argv.slice(3)].join(' '),
      settings,
      cases,
      environments: [environment],
      missing,
      seconds: (performance.now() - started) / 1000,
    }),
    added,
  );
  const { markdown, paths } = await saveReport(report, resolve(args.out));
  log(`\n${markdown}`);
  for (const path of paths) log(`bench: wrote ${path}`);
}
