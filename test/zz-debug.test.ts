import { test } from 'vitest';
import { createContext } from '../src/index.js';
import { uniform } from './helpers/random.js';
test('dbg', async () => {
  for (const threads of [2, 4]) {
  const ctx = await createContext({ backend: 'cpu', threads });
  const rows = 1001, cols = 257;
  const zt = ctx.tensor(uniform(rows * cols, 3), [rows, cols]);
  const labels = ctx.tensor(Int32Array.from({ length: rows }, (_, i) => (i * 7) % cols));
  for (let i = 0; i < 5; i++) {
    let t0 = performance.now();
    const p = ctx.softmax(zt);
    const t1 = performance.now();
    const l = ctx.logSoftmax(zt);
    const t2 = performance.now();
    const r = ctx.crossEntropyWithGrad(zt, labels);
    const t3 = performance.now();
    const b = ctx.softmaxBackward(p, zt);
    const t4 = performance.now();
    console.log(threads, (t1 - t0).toFixed(2), (t2 - t1).toFixed(2), (t3 - t2).toFixed(2), (t4 - t3).toFixed(2));
    for (const t of [p, l, r.loss, r.grad, b]) t.dispose();
  }
  ctx.destroy();
  }
}, 60000);
