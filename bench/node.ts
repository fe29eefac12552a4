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
import { choiceOption, parseArgs } from '../cli/args.js';
import { nodeGpu } from '../cli/node-gpu.js';
import { loadMnist } from '../datasets/mnist-node.js';
import type { ContenderId } from './contenders/types.js';
import { SETTINGS } from './measure.js';

const args = parseArgs(process.argv.slice(2));
const mode = choiceOption(args, 'mode', ['quick', 'full'] as const, 'full');
const out = args.get('out');
const caseIds = (args.get('cases') ?? '').split(',').filter((id) => id !== '');
const contenderIds = (args.get('contenders') ?? '').split(',').filter((id) => id !== '') as ContenderId[];
if (out === undefined) throw new Error('bench/node: --out <file> is required');

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
