// `npm run bench [-- --quick] [--only node|browser|none] [--cases id,id] [--contenders id,id] [--add page.json]`
//
// Builds the library (dist/), runs every case in Node (a child process) and then in headless
// Chromium, one after the other so they never compete for the CPU, and writes the report as
// Markdown, JSON and SVG under bench/results/. `--add` appends other runs (the benchmark
// page's JSON download, or an earlier report) to the report; `--only none` with `--add` only
// re-renders them.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { choice, parseOptions, parseOrExit, UsageError } from '../cli/args.js';
import { selectCases } from './cases.js';
import { runBrowser } from './browser.js';
import { CONTENDER_IDS, messageOf, type ContenderId } from './contenders/types.js';
import { SETTINGS } from './measure.js';
import { assembleReport, mergeReports, readReport, saveReport } from './report/file.js';
import type { EnvironmentName, EnvironmentRequest, EnvironmentResult } from './results.js';

const started = performance.now();
const argv = process.argv.slice(2);
const { quick, only, caseIds, contenderIds, add } = parseOrExit('npm run bench', () => {
  const args = parseOptions(argv, {
    quick: { type: 'boolean' },
    only: { type: 'string' },
    cases: { type: 'string' },
    contenders: { type: 'string' },
    add: { type: 'string', multiple: true },
  });
  const contenders = (args.contenders ?? '').split(',').filter((s) => s !== '') as ContenderId[];
  for (const id of contenders) {
    if (!CONTENDER_IDS.includes(id)) throw new UsageError(`unknown contender ${id}; contenders are ${CONTENDER_IDS.join(', ')}`);
  }
  return {
    quick: args.quick === true,
    only: choice('only', args.only, ['both', 'node', 'browser', 'none'] as const, 'both'),
    caseIds: args.cases === undefined ? null : args.cases.split(',').filter((s) => s !== ''),
    contenderIds: contenders,
    add: args.add ?? [],
  };
});
// Read before anything runs, so that a bad file costs no benchmark.
const added = await Promise.all(add.map(readReport)).catch((error: unknown) => parseOrExit('npm run bench', () => {
  throw new UsageError(messageOf(error));
}));
const cases = selectCases(quick, caseIds);
const request: EnvironmentRequest = { settings: SETTINGS[quick ? 'quick' : 'full'], caseIds: cases.map((c) => c.id), contenderIds };
const root = process.cwd();

function elapsed(): string {
  return `${((performance.now() - started) / 1000).toFixed(0)} s`;
}

function build(): void {
  console.log('bench: building dist/ (npm run build)');
  const result = spawnSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit', cwd: root });
  if (result.status !== 0) throw new Error(`npm run build failed (exit ${result.status})`);
}

/** The Node half in a child process: its own Dawn instance, its own crash. */
async function runNode(): Promise<EnvironmentResult> {
  const dir = await mkdtemp(join(tmpdir(), 'webgpu-softmax-bench-'));
  const out = join(dir, 'node.json');
  try {
    const entry = fileURLToPath(new URL('./node.js', import.meta.url));
    const contenders = contenderIds.length === 0 ? [] : ['--contenders', contenderIds.join(',')];
    const child = spawn(process.execPath, [entry, '--mode', request.settings.mode, '--cases', request.caseIds.join(','), ...contenders, '--out', out], {
      cwd: root,
      stdio: 'inherit',
    });
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', resolve);
    });
    if (code !== 0) throw new Error(`the Node benchmark exited with ${code}`);
    return JSON.parse(await readFile(out, 'utf8')) as EnvironmentResult;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (only !== 'none') build();
const environments: EnvironmentResult[] = [];
const missing: { environment: EnvironmentName; error: string }[] = [];
const halves: readonly [EnvironmentName, () => Promise<EnvironmentResult>][] = [
  ['node', runNode],
  ['chromium', () => runBrowser(root, request, (line) => console.log(`[chromium] ${line}`))],
];
for (const [name, runHalf] of halves) {
  if (only === 'none' || (only !== 'both' && (only === 'node') !== (name === 'node'))) continue;
  console.log(`bench: ${name}, ${cases.length} cases, ${request.settings.mode} settings (${elapsed()} so far)`);
  try {
    environments.push(await runHalf());
  } catch (error) {
    missing.push({ environment: name, error: messageOf(error) });
    console.error(`bench: ${name} failed: ${messageOf(error)}`);
  }
}

const report = mergeReports(
  assembleReport({
    command: ['npm run bench', ...(argv.length > 0 ? ['--', ...argv] : [])].join(' '),
    settings: request.settings,
    cases: only === 'none' ? [] : cases,
    environments,
    missing,
    seconds: (performance.now() - started) / 1000,
  }),
  added,
);
const { markdown, paths } = await saveReport(report, join(root, 'bench', 'results'));
console.log(`\n${markdown}`);
for (const path of paths) console.log(`bench: wrote ${relative(root, path)}`);
console.log(`bench: done in ${elapsed()}`);
process.exit(missing.length > 0 ? 1 : 0);
