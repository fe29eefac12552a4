// The Node environment, run by bench/run.ts as a child process (so a crash or a hung device
// there cannot take the browser half down with it):
//
//   node build/bench/node.js --mode quick|full --cases id,id [--contenders id,id] --out result.json
//
// WebGPU comes from the `webgpu` package (Dawn), on SwiftShader where the machine has no GPU.

import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { choice, parseOptions, parseOrExit, UsageError } from '../cli/args.js';
import { nodeGpu } from '../cli/node-gpu.js';
import { loadMnist } from '../datasets/mnist-node.js';
import type { ContenderId } from './contenders/types.js';
import { SETTINGS } from './measure.js';

const { mode, out, caseIds, contenderIds } = parseOrExit('bench/node', () => {
  const args = parseOptions(process.argv.slice(2), {
    mode: { type: 'string' },
    out: { type: 'string' },
    cases: { type: 'string' },
    contenders: { type: 'string' },
  });
  if (args.out === undefined) throw new UsageError('--out <file> is required');
  return {
    mode: choice('mode', args.mode, ['quick', 'full'] as const, 'full'),
    out: args.out,
    caseIds: (args.cases ?? '').split(',').filter((id) => id !== ''),
    contenderIds: (args.contenders ?? '').split(',').filter((id) => id !== '') as ContenderId[],
  };
});

const require = createRequire(import.meta.url);
const gpu = await nodeGpu();
// tfjs-backend-webgpu reads navigator.gpu and the GPU* constants (GPUBufferUsage...) from the
// global scope, and registers itself at import time only if navigator.gpu is there: set both
// up before environment.ts (which imports tfjs) is loaded.
Object.assign(globalThis, (await import('webgpu')).globals);
Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
const { runEnvironment } = await import('./environment.js');

const webgpuVersion = (require('webgpu/package.json') as { version: string }).version;
const result = await runEnvironment(
  {
    environment: 'node',
    runtime: `Node ${process.version} (webgpu ${webgpuVersion}, Dawn)`,
    userAgent: null,
    cpuCores: cpus().length,
    gpu,
    wasmPaths: join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/',
    loadMnist,
    log: (line) => console.log(`[node] ${line}`),
  },
  { settings: SETTINGS[mode], caseIds, contenderIds },
);
await writeFile(out, JSON.stringify(result));
// Dawn keeps the event loop alive; the work is done.
process.exit(0);
