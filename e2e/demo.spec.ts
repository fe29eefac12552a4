import { expect, test } from '@playwright/test';

// The demo has its own server (see playwright.config.ts); the suite's baseURL is the parity harness.
const DEMO = `http://127.0.0.1:${process.env.DEMO_PORT ?? 4174}/demo/`;
/** The frame-gap run: 10 epochs of 500 steps. */
const EPOCHS = 10;
const BATCH = 16;

test('the MNIST demo trains on WebGPU and classifies a drawn digit', async ({ page }) => {
  // One SwiftShader epoch, pipeline compiles included, takes about a minute on a 2-core machine.
  test.setTimeout(300_000);
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));

  await page.goto(DEMO);
  const status = page.locator('#status');
  await expect(status).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  // No silent skip: a browser without a WebGPU adapter fails here, with the page's reason.
  const adapter = page.locator('#adapter');
  await expect(adapter, `WebGPU is unavailable: ${await adapter.textContent()}`).toHaveAttribute('data-webgpu', 'available');
  await expect(page.locator('#backend option[value="webgpu"]')).toBeEnabled();

  await page.getByLabel('Backend', { exact: true }).selectOption('webgpu');
  await expect(adapter).toContainText('WebGPU adapter');
  await page.getByLabel('Epochs', { exact: true }).fill('1');
  const started = Date.now();
  await page.getByRole('button', { name: 'Train' }).click();
  await expect(status).toHaveAttribute('data-state', /done|error/, { timeout: 240_000 });
  expect(await status.getAttribute('data-state'), (await status.textContent()) ?? '').toBe('done');
  console.log(`demo: one WebGPU epoch trained in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const accuracy = Number(await page.locator('#test-accuracy').getAttribute('data-accuracy'));
  console.log(`demo: test accuracy ${accuracy.toFixed(4)}`);
  expect(accuracy).toBeGreaterThan(0.8);
  await expect(page.locator('#confusion td')).toHaveCount(100);
  await expect(page.locator('#runs th[data-backend="WebGPU"]')).toHaveCount(1);

  // A "1": one vertical stroke down the middle of the canvas.
  const canvas = page.locator('#sketch');
  // page.mouse works in viewport coordinates, and the canvas starts below the fold.
  await canvas.scrollIntoViewIfNeeded();
  const box = await canvas.boundingBox();
  if (box === null) throw new Error('the drawing canvas is not visible');
  const x = box.x + box.width / 2;
  await page.mouse.move(x, box.y + box.height * 0.15);
  await page.mouse.down();
  await page.mouse.move(x + 4, box.y + box.height * 0.85, { steps: 20 });
  await page.mouse.up();

  const bars = page.locator('#probabilities [data-probability]');
  await expect(bars).toHaveCount(10);
  const probabilities = (await bars.evaluateAll((items) => items.map((i) => (i as HTMLElement).dataset['probability']))).map(Number);
  for (const p of probabilities) {
    expect(p).toBeGreaterThanOrEqual(0);
    expect(p).toBeLessThanOrEqual(1);
  }
  expect(Math.abs(probabilities.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-4);
  console.log(`demo: the drawn "1" is predicted as ${await page.locator('#probabilities').getAttribute('data-predicted')}`);

  await page.screenshot({ path: 'e2e/screenshots/demo.png', fullPage: true });
  expect(errors).toEqual([]);
});

test('training in a worker keeps the page drawing; on the main thread it stutters', async ({ page }) => {
  test.setTimeout(300_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
  await page.goto(DEMO);
  const status = page.locator('#status');
  await expect(status).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  // Small batches: thousands of steps, long enough on the WebAssembly backend for many frames.
  await page.getByLabel('Backend', { exact: true }).selectOption('cpu');
  await page.getByLabel('Epochs', { exact: true }).fill(String(EPOCHS));
  await page.getByLabel('Batch size', { exact: true }).fill(String(BATCH));

  const gaps: Record<string, number> = {};
  const measured = page.locator('#runs td[data-frame-gap]');
  for (const thread of ['page', 'worker'] as const) {
    await page.getByLabel('Train in', { exact: true }).selectOption(thread);
    const before = await measured.count();
    await page.getByRole('button', { name: 'Train' }).click();
    // The run's frame gap is shown once it has finished.
    await expect(measured).toHaveCount(before + 1, { timeout: 240_000 });
    expect(await status.getAttribute('data-state'), (await status.textContent()) ?? '').toBe('done');
    const accuracy = Number(await page.locator('#test-accuracy').getAttribute('data-accuracy'));
    expect(accuracy).toBeGreaterThan(0.85);
    await expect(page.locator(`#runs th[data-thread="${thread}"]`)).toHaveCount(1);
    gaps[thread] = Number(await measured.last().getAttribute('data-frame-gap'));
  }
  console.log(
    `demo: longest frame gap while ${EPOCHS} CPU epochs trained at batch ${BATCH}: ${gaps['page']!.toFixed(0)} ms on the main thread, ` +
      `${gaps['worker']!.toFixed(0)} ms with the worker`,
  );
  // On the main thread fit yields every 50 ms, no more often, so frames go missing in between
  // (a gap of 50 ms is three frames at 60 Hz); the worker leaves the page free to draw.
  expect(gaps['page']!).toBeGreaterThanOrEqual(45);
  expect(gaps['worker']!).toBeLessThan(gaps['page']!);

  // The drawing is judged by the model the worker trained.
  const canvas = page.locator('#sketch');
  await canvas.scrollIntoViewIfNeeded();
  const box = (await canvas.boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height * 0.15);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2 + 4, box.y + box.height * 0.85, { steps: 20 });
  await page.mouse.up();
  await expect(page.locator('#probabilities [data-probability]')).toHaveCount(10);
  expect(errors).toEqual([]);
});

test('the demo trains an MLP and exports it as ONNX, safetensors and TF.js downloads that their runtimes read', async ({ page }) => {
  test.setTimeout(300_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
  await page.goto(DEMO);
  const status = page.locator('#status');
  await expect(status).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  const exportButton = page.getByRole('button', { name: 'Export' });
  await expect(exportButton).toBeDisabled();

  await page.getByLabel('Backend', { exact: true }).selectOption('cpu');
  await page.getByLabel('Hidden layers', { exact: true }).selectOption('100');
  await page.getByLabel('Optimizer', { exact: true }).selectOption('adam');
  await page.getByLabel('Learning rate', { exact: true }).fill('0.001');
  await page.getByLabel('Epochs', { exact: true }).fill('2');
  await page.getByRole('button', { name: 'Train' }).click();
  await expect(status).toHaveAttribute('data-state', /done|error/, { timeout: 240_000 });
  expect(await status.getAttribute('data-state'), (await status.textContent()) ?? '').toBe('done');
  const accuracy = Number(await page.locator('#test-accuracy').getAttribute('data-accuracy'));
  console.log(`demo: MLP 784-100-10, 2 CPU epochs, test accuracy ${accuracy.toFixed(4)}`);
  expect(accuracy).toBeGreaterThan(0.85);
  await expect(exportButton).toBeEnabled();

  const download = async (format: string, count: number) => {
    await page.getByLabel('Export the trained model as').selectOption(format);
    const files: Record<string, Uint8Array> = {};
    const arrived = new Promise<void>((resolve) => {
      page.on('download', async function take(d) {
        const path = await d.path();
        files[d.suggestedFilename()] = new Uint8Array(await (await import('node:fs/promises')).readFile(path));
        if (Object.keys(files).length === count) {
          page.off('download', take);
          resolve();
        }
      });
    });
    await exportButton.click();
    await arrived;
    return files;
  };

  // A blank image, in each runtime: the same ten probabilities.
  const blank = new Float32Array(784);
  const onnx = (await download('onnx', 1))['head.onnx']!;
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(onnx);
  const fromOnnx = (await session.run({ input: new ort.Tensor('float32', blank, [1, 784]) })).probabilities!.data as Float32Array;
  expect(fromOnnx).toHaveLength(10);

  const safetensors = (await download('safetensors', 1))['head.safetensors']!;
  // The file as PyTorch's state_dict layout, read by our reference reader and run in float64.
  const { readSafetensors } = await import('../src/export/safetensors.js');
  const { forward64 } = await import('../test/helpers/mlp.js');
  const head64 = readSafetensors(safetensors);
  expect(head64.hidden).toEqual([100]);
  const fromSafetensors = forward64(head64, blank, 1).probabilities;

  const tfjsFiles = await download('tfjs', 2);
  const tf = await import('@tensorflow/tfjs');
  // What tf.loadLayersModel('…/model.json') does with the pair: the manifest's specs over weights.bin.
  const modelJson = JSON.parse(new TextDecoder().decode(tfjsFiles['model.json']!)) as import('@tensorflow/tfjs').io.ModelJSON;
  const weightData = new Uint8Array(tfjsFiles['weights.bin']!).buffer;
  const head = await tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs: modelJson.weightsManifest[0]!.weights, weightData }),
  );
  const fromTfjs = await (head.predict(tf.tensor2d(blank, [1, 784])) as { data(): Promise<Float32Array> }).data();

  for (let c = 0; c < 10; c++) {
    expect(Math.abs(fromSafetensors[c]! - fromOnnx[c]!)).toBeLessThan(1e-5);
    expect(Math.abs(fromTfjs[c]! - fromOnnx[c]!)).toBeLessThan(1e-5);
  }
  expect(errors).toEqual([]);
});
