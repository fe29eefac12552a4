// The main job (`npm start`): trains a softmax-regression classifier on real data on WebGPU
// (Node, through the `webgpu` package; the CPU backend where there is no adapter) and on
// the CPU backend, and shows both side by side; with --model mlp, an MLP beside it.
//
//   npm start -- --dataset mnist|iris --epochs 10 --batch-size 128 --optimizer sgd|adam|adamw|rmsprop
//                --learning-rate 0.5 --backend both|webgpu|cpu --seed 1
//                --model mlp --hidden 100 --activation relu --mlp-learning-rate 0.001

import { createContext, WebGPUUnavailableError, type Classifier, type Context, type EpochLogs, type OptimizerOptions, type SoftmaxRegression } from '../src/index.js';
import { standardize, type Dataset, type Split } from '../datasets/dataset.js';
import { irisSplit, loadIris } from '../datasets/iris.js';
import { mnistSplit } from '../datasets/mnist.js';
import { loadMnist } from '../datasets/mnist-node.js';
import { parseCommandLine, parseOrExit, USAGE, type TrainOptions } from './args.js';
import { nodeGpu } from './node-gpu.js';
import { bar } from './progress.js';

function commandLine(): TrainOptions {
  const parsed = parseOrExit('npm start', () => parseCommandLine(process.argv.slice(2)), ' (npm start -- --help lists the options)');
  if (parsed !== 'help') return parsed;
  console.log(USAGE);
  process.exit(0);
}

const { dataset, epochs, batchSize, seed, learningRate, backend: backendChoice, optimizer: optimizerType, mlp } = commandLine();
const optimizer: OptimizerOptions = { type: optimizerType, learningRate };

const tty = process.stdout.isTTY === true;

/** The bar shows once an epoch has run this long, and redraws at most this often. */
const BAR_AFTER_MS = 1000;
const BAR_EVERY_MS = 100;

function epochLine(tag: string, logs: EpochLogs): string {
  const val = logs.valLoss === undefined ? '' : `  val loss ${logs.valLoss.toFixed(4)}  val acc ${logs.valAccuracy!.toFixed(4)}`;
  return `${tag} epoch ${String(logs.epoch + 1).padStart(String(epochs).length)}/${epochs}  loss ${logs.loss.toFixed(4)}  acc ${logs.accuracy.toFixed(4)}${val}  ${logs.seconds.toFixed(2)} s`;
}

/** MNIST's pixels are already in [0, 1]; Iris's centimetres are standardized by the training rows. */
async function load(): Promise<Split> {
  if (dataset === 'mnist') return mnistSplit(await loadMnist());
  const { train, test } = irisSplit(loadIris());
  return standardize(train, test);
}

async function openContexts(): Promise<[string, Context][]> {
  const contexts: [string, Context][] = [];
  if (backendChoice !== 'cpu') {
    // 'webgpu', not 'auto': 'auto' passes over a software adapter, and this job compares with it.
    const ctx = await createContext({ backend: 'webgpu', gpu: await nodeGpu() }).catch((error: unknown) => {
      if (error instanceof WebGPUUnavailableError) return null;
      throw error;
    });
    if (ctx !== null) {
      const a = ctx.adapter!;
      const name = [a.vendor, a.architecture, a.description].filter((s) => s !== '').join(' ');
      console.log(`WebGPU adapter: ${name}`);
      if (a.isSoftware) {
        console.log('  This is a SOFTWARE adapter: a CPU emulating a GPU. Its times say nothing about a real GPU.');
      }
      contexts.push(['webgpu', ctx]);
    } else {
      console.log('WebGPU: no adapter found; training on the CPU backend only.');
    }
  }
  if (backendChoice !== 'webgpu') {
    const ctx = await createContext({ backend: 'cpu' });
    // Every core by default (threads: 'auto'); the reason says why where it is one.
    const why = ctx.threads === 1 ? ` (${ctx.backendReason})` : '';
    console.log(`CPU: ${ctx.wasmBuild === null ? 'the TypeScript reference' : 'WebAssembly SIMD'} on ${threadCount(ctx)}${why}`);
    contexts.push(['cpu', ctx]);
  }
  return contexts;
}

function threadCount(ctx: Context): string {
  return ctx.threads === 1 ? '1 thread' : `${ctx.threads} threads`;
}

/** The models each backend trains: the linear one, and with --model mlp the MLP. */
const MODELS = [
  { name: 'linear', make: (ctx: Context, s: Split) => ctx.softmaxRegression({ features: s.train.features, classes: s.train.classes, seed, optimizer }) },
  ...(mlp === undefined
    ? []
    : [
        {
          name: `mlp ${mlp.hidden.join('-')}`,
          make: (ctx: Context, s: Split) =>
            ctx.classifier({
              features: s.train.features,
              classes: s.train.classes,
              hidden: mlp.hidden,
              activation: mlp.activation,
              seed,
              optimizer: { type: 'adam', learningRate: mlp.learningRate },
            }),
        },
      ]),
];

async function train(tag: string, ctx: Context, { train, test }: Split, make: (ctx: Context, s: Split) => Model): Promise<{ seconds: number[]; accuracy: number }> {
  const tensors = (d: Dataset) => [ctx.tensor(d.x, [d.rows, d.features]), ctx.tensor(d.y)] as const;
  const [x, y] = tensors(train);
  const [xTest, yTest] = tensors(test);
  const model = make(ctx, { train, test });
  const label = `[${tag}]`.padEnd(18);
  const seconds: number[] = [];
  let epochStart = performance.now();
  let drawn = 0;
  await model.fit(x, y, {
    epochs,
    batchSize,
    validationData: [xTest, yTest],
    onBatchEnd: ({ epoch, batch, batches }) => {
      if (batch === 0) epochStart = performance.now();
      const now = performance.now();
      if (!tty || now - epochStart < BAR_AFTER_MS || now - drawn < BAR_EVERY_MS) return;
      drawn = now;
      process.stdout.write(`\r${label} epoch ${epoch + 1}/${epochs} ${bar(batch + 1, batches)}`);
    },
    onEpochEnd: (logs) => {
      seconds.push(logs.seconds);
      if (tty && drawn > 0) process.stdout.write('\r\x1b[2K');
      console.log(epochLine(label, logs));
    },
  });
  const { accuracy } = await model.evaluate(xTest, yTest);
  model.dispose();
  for (const t of [x, y, xTest, yTest]) t.dispose();
  return { seconds, accuracy };
}

type Model = SoftmaxRegression | Classifier;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const split = await load();
const what = mlp === undefined ? 'softmax regression' : `softmax regression and an MLP ${[split.train.features, ...mlp.hidden, split.train.classes].join('-')} (${mlp.activation})`;
console.log(
  `webgpu-softmax: ${what} on ${split.train.name} (${split.train.rows} train / ${split.test.rows} test rows, ` +
    `${split.train.features} features, ${split.train.classes} classes)`,
);
console.log(`${mlp === undefined ? '' : 'linear: '}${optimizerType}, learning rate ${learningRate}, batch ${batchSize}, ${epochs} epochs, seed ${seed}`);
if (mlp !== undefined) console.log(`mlp: adam, learning rate ${mlp.learningRate}`);
const contexts = await openContexts();
const results: [string, { seconds: number[]; accuracy: number }][] = [];
/** Column headings: the CPU's says how many threads ran it. */
const headings = new Map<string, string>();
for (const [backend, ctx] of contexts) {
  if (backend === 'cpu') for (const { name } of MODELS) headings.set(MODELS.length === 1 ? 'cpu' : `${name} cpu`, `${MODELS.length === 1 ? 'cpu' : `${name} cpu`} ×${ctx.threads}`);
  for (const { name, make } of MODELS) {
    const tag = MODELS.length === 1 ? backend : `${name} ${backend}`;
    results.push([tag, await train(tag, ctx, split, make)]);
  }
  ctx.destroy();
}

console.log('\nTest accuracy: ' + results.map(([tag, r]) => `${tag} ${r.accuracy.toFixed(4)}`).join(', '));
console.log('\nSeconds per epoch (the first includes compiling the GPU pipelines):');
const heading = (tag: string) => headings.get(tag) ?? tag;
const width = Math.max(8, ...results.map(([tag]) => heading(tag).length));
console.log(['epoch', ...results.map(([tag]) => heading(tag))].map((s) => s.padStart(width)).join(' '));
for (let e = 0; e < epochs; e++) {
  console.log([String(e + 1), ...results.map(([, r]) => r.seconds[e]!.toFixed(3))].map((s) => s.padStart(width)).join(' '));
}
console.log(['median', ...results.map(([, r]) => median(r.seconds).toFixed(3))].map((s) => s.padStart(width)).join(' '));
if (results.length === 2) {
  const [gpu, cpu] = results.map(([, r]) => median(r.seconds)) as [number, number];
  console.log(`\nmedian epoch: ${results[0]![0]} takes ${(gpu / cpu).toFixed(2)}x the time of ${results[1]![0]}`);
}
process.exit(0);
