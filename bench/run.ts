// `npm run bench [-- --quick] [--only node|browser] [--cases id,id] [--contenders id,id]`
//
// Builds the library (dist/), runs every case in Node (a child process) and then in headless
// Chromium, one after the other so they never compete for the CPU, and writes the report as
// Markdown, JSON and SVG under bench/results/.

import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { arch, cpus, release, tmpdir, type } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { choice, parseOptions, parseOrExit, UsageError } from '../cli/args.js';
import { selectCases } from './cases.js';
import { runBrowser } from './browser.js';
import { CONTENDER_IDS, messageOf, type ContenderId } from './contenders/types.js';
import { SETTINGS } from './measure.js';
import { renderMarkdown } from './report/markdown.js';
import { renderSvg } from './report/svg.js';
import type { BenchReport, EnvironmentName, EnvironmentRequest, EnvironmentResult } from './results.js';

const started = performance.now();
const argv = process.argv.slice(2);
const { quick, only, caseIds, contenderIds } = parseOrExit('npm run bench', () => {
  const args = parseOptions(argv, {
    quick: { type: 'boolean' },
    only: { type: 'string' },
    cases: { type: 'string' },
    contenders: { type: 'string' },
  });
  const contenders = (args.contenders ?? '').split(',').filter((s) => s !== '') as ContenderId[];
  for (const id of contenders) {
    if (!CONTENDER_IDS.includes(id)) throw new UsageError(`unknown contender ${id}; contenders are ${CONTENDER_IDS.join(', ')}`);
  }
  return {
    quick: args.quick === true,
    only: choice('only', args.only, ['both', 'node', 'browser'] as const, 'both'),
    caseIds: args.cases === undefined ? null : args.cases.split(',').filter((s) => s !== ''),
    contenderIds: contenders,
  };
});
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

build();
const environments: EnvironmentResult[] = [];
const missing: { environment: EnvironmentName; error: string }[] = [];
const halves: readonly [EnvironmentName, () => Promise<EnvironmentResult>][] = [
  ['node', runNode],
  ['chromium', () => runBrowser(root, request, (line) => console.log(`[chromium] ${line}`))],
];
for (const [name, runHalf] of halves) {
  if (only !== 'both' && (only === 'node') !== (name === 'node')) continue;
  console.log(`bench: ${name}, ${cases.length} cases, ${request.settings.mode} settings (${elapsed()} so far)`);
  try {
    environments.push(await runHalf());
  } catch (error) {
    missing.push({ environment: name, error: messageOf(error) });
    console.error(`bench: ${name} failed: ${messageOf(error)}`);
  }
}

const date = new Date().toISOString();
const report: BenchReport = {
  format: 'webgpu-softmax/bench',
  version: 1,
  date,
  mode: request.settings.mode,
  command: ['npm run bench', ...(argv.length > 0 ? ['--', ...argv] : [])].join(' '),
  settings: request.settings,
  host: { os: `${type()} ${release()} ${arch()}`, cpu: cpus()[0]?.model.trim() ?? 'unknown CPU', cores: cpus().length },
  cases,
  environments,
  missing,
  seconds: (performance.now() - started) / 1000,
};
const markdown = renderMarkdown(report);
const dir = join(root, 'bench', 'results');
const stem = join(dir, `${date.slice(0, 19).replace(/:/g, '-')}-${report.mode}`);
await mkdir(dir, { recursive: true });
await Promise.all([
  writeFile(`${stem}.md`, markdown),
  writeFile(`${stem}.json`, `${JSON.stringify(report, null, 2)}\n`),
  writeFile(`${stem}.svg`, renderSvg(report)),
]);
console.log(`\n${markdown}`);
for (const ext of ['md', 'json', 'svg']) console.log(`bench: wrote ${relative(root, `${stem}.${ext}`)}`);
console.log(`bench: done in ${elapsed()}`);
process.exit(missing.length > 0 ? 1 : 0);
