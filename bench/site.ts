// The benchmark page anyone can open (`npm run build:site` puts it in dist-site/bench/): the
// same cases and contenders as `npm run bench`, run in this browser on its own GPU and CPU,
// with live progress, the report's tables and chart, and the results as a JSON download that
// `npm run bench -- --add FILE` adds to a report.

import { createContext } from 'webgpu-softmax';
import { fetchMnist } from '../datasets/mnist-browser.js';
import { selectCases } from './cases.js';
import { messageOf, type ContenderId } from './contenders/types.js';
import { runEnvironment } from './environment.js';
import { SETTINGS } from './measure.js';
import { markdownToHtml } from './report/html.js';
import { renderMarkdown } from './report/markdown.js';
import { renderSvg } from './report/svg.js';
import type { BenchReport } from './results.js';

/** The contenders a browser runs: ours on both backends and TF.js's GPU and WebAssembly ones. */
const CONTENDERS: readonly { id: ContenderId; label: string; checked: boolean }[] = [
  { id: 'ours-webgpu', label: 'webgpu-softmax on WebGPU', checked: true },
  { id: 'ours-cpu', label: 'webgpu-softmax on its CPU backend (WebAssembly)', checked: true },
  { id: 'ours-cpu-t1', label: 'webgpu-softmax CPU backend on 1 thread', checked: false },
  { id: 'ours-cpu-t2', label: 'webgpu-softmax CPU backend on 2 threads', checked: false },
  { id: 'tfjs-webgpu', label: 'TensorFlow.js webgpu backend', checked: true },
  { id: 'tfjs-wasm', label: 'TensorFlow.js wasm backend', checked: true },
  { id: 'ours-cpu-reference', label: 'webgpu-softmax float64 CPU reference (slow)', checked: false },
  { id: 'tfjs-cpu', label: 'TensorFlow.js cpu backend (plain JavaScript, slow)', checked: false },
];

function byId<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`the page has no #${id}`);
  return element as T;
}

const status = byId<HTMLParagraphElement>('status');
const progress = byId<HTMLProgressElement>('progress');
const log = byId<HTMLPreElement>('log');
const form = byId<HTMLFormElement>('controls');
const runButton = byId<HTMLButtonElement>('run');

/** Where the site keeps what the page fetches: beside the page, so the site works under any path. */
const SITE = new URL('../', location.href);

function say(line: string): void {
  log.textContent += `${line}\n`;
}

/** The browser's name and version, from the user agent (browsers do not name the CPU). */
function browserName(): string {
  const ua = navigator.userAgent;
  const match = /(Firefox|Edg|Chrome|Version)\/([\d.]+)/.exec(ua);
  if (match === null) return 'a browser';
  const name = match[1] === 'Edg' ? 'Edge' : match[1] === 'Version' ? 'Safari' : match[1]!;
  return `${name} ${match[2]}`;
}

async function describeMachine(): Promise<void> {
  const adapterLine = byId<HTMLParagraphElement>('adapter');
  if (navigator.gpu === undefined) {
    adapterLine.textContent = 'This browser has no WebGPU (navigator.gpu is missing): only the CPU contenders can run.';
  } else {
    try {
      const ctx = await createContext({ backend: 'webgpu' });
      const a = ctx.adapter!;
      const name = [a.vendor, a.architecture, a.description || a.device].filter((p) => p !== '').join(' ') || 'an unnamed adapter';
      adapterLine.textContent = `WebGPU adapter: ${name}.`;
      if (a.isSoftware) {
        const note = document.createElement('span');
        note.className = 'software';
        note.textContent = ' This is a SOFTWARE adapter: a CPU emulating a GPU, so its "GPU" times are CPU times and say nothing about a real GPU.';
        adapterLine.append(note);
      }
      ctx.destroy();
    } catch (error) {
      adapterLine.textContent = `WebGPU is here but gave no adapter: ${messageOf(error)}. Only the CPU contenders can run.`;
    }
  }
  byId<HTMLParagraphElement>('isolation').textContent = crossOriginIsolated
    ? 'The page is cross-origin isolated: SharedArrayBuffer is available, so WebAssembly backends may use threads.'
    : 'The page is not cross-origin isolated (served without COOP/COEP headers): WebAssembly backends run on one thread.';
  byId<HTMLParagraphElement>('cores').textContent = `${navigator.hardwareConcurrency} logical CPU cores; ${browserName()}.`;
}

function contenderBoxes(): void {
  const box = byId<HTMLFieldSetElement>('contenders');
  const wanted = new URLSearchParams(location.search).get('contenders')?.split(',');
  for (const c of CONTENDERS) {
    const label = document.createElement('label');
    const input = document.createElement('input');
    input.type = 'checkbox';
    input.name = 'contender';
    input.value = c.id;
    input.checked = wanted === undefined ? c.checked : wanted.includes(c.id);
    label.append(input, ` ${c.label} (${c.id})`);
    box.append(label);
  }
}

async function run(): Promise<void> {
  const data = new FormData(form);
  const quick = data.get('mode') !== 'full';
  const contenderIds = data.getAll('contender') as ContenderId[];
  if (contenderIds.length === 0) throw new Error('choose at least one contender');
  const params = new URLSearchParams(location.search);
  const caseIds = params.get('cases')?.split(',') ?? null;
  const cases = selectCases(quick, caseIds);
  const settings = SETTINGS[quick ? 'quick' : 'full'];
  const started = performance.now();
  log.textContent = '';
  progress.hidden = false;
  progress.value = 0;
  status.textContent = `Running ${cases.length} cases on ${contenderIds.length} contenders…`;
  const environment = await runEnvironment(
    {
      environment: 'browser',
      runtime: `${browserName()}${crossOriginIsolated ? ', cross-origin isolated' : ''}`,
      userAgent: navigator.userAgent,
      cpuCores: navigator.hardwareConcurrency,
      gpu: navigator.gpu,
      wasmPaths: new URL('tfjs-wasm/', SITE).href,
      loadMnist: () => fetchMnist(new URL('data/mnist', SITE).href),
      log: say,
      progress: (done, total) => {
        progress.max = total;
        progress.value = done;
        status.textContent = `${done} of ${total} measured (${((performance.now() - started) / 1000).toFixed(0)} s)`;
      },
    },
    { settings, caseIds: cases.map((c) => c.id), contenderIds },
  );
  const report: BenchReport = {
    format: 'webgpu-softmax/bench',
    version: 1,
    date: new Date().toISOString(),
    mode: settings.mode,
    command: `the benchmark page, ${location.pathname}${location.search}`,
    settings,
    host: { os: navigator.platform || 'unknown OS', cpu: 'not named by browsers', cores: navigator.hardwareConcurrency },
    cases,
    environments: [environment],
    missing: [],
    seconds: (performance.now() - started) / 1000,
  };
  show(report);
}

function show(report: BenchReport): void {
  byId<HTMLDivElement>('chart').innerHTML = renderSvg(report);
  byId<HTMLDivElement>('tables').innerHTML = markdownToHtml(renderMarkdown(report));
  const download = byId<HTMLAnchorElement>('download');
  URL.revokeObjectURL(download.href);
  download.href = URL.createObjectURL(new Blob([`${JSON.stringify(report, null, 2)}\n`], { type: 'application/json' }));
  download.download = `webgpu-softmax-bench-${report.date.slice(0, 19).replace(/:/g, '-')}-${report.mode}.json`;
  byId<HTMLElement>('results').hidden = false;
  status.textContent = `Done in ${report.seconds.toFixed(0)} s.`;
  document.body.dataset['state'] = 'done';
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  runButton.disabled = true;
  document.body.dataset['state'] = 'running';
  run()
    .catch((error: unknown) => {
      status.textContent = `The benchmark failed: ${messageOf(error)}`;
      document.body.dataset['state'] = 'failed';
    })
    .finally(() => {
      runButton.disabled = false;
    });
});

contenderBoxes();
await describeMachine();
status.textContent = 'Ready.';
runButton.disabled = false;
document.body.dataset['state'] = 'ready';
