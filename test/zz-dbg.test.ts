import { it } from 'vitest';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { openContext } from './helpers/backends.js';
import { labels, uniform } from './helpers/random.js';
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
it('dbg', async () => {
  const ctx = await openContext((process.env['DBG_BACKEND'] ?? 'webgpu') as 'webgpu');
  const xs = uniform(64 * 16, 1), ys = labels(64, 4, 2);
  const mem = () => { gc(); const m = process.memoryUsage(); return `heap ${(m.heapUsed / 2 ** 20).toFixed(1)} rss ${(m.rss / 2 ** 20).toFixed(1)} ext ${(m.external / 2 ** 20).toFixed(1)} ab ${(m.arrayBuffers / 2 ** 20).toFixed(1)}`; };
  const mode = process.env['DBG_OP'] ?? 'fit';
  for (let i = 0; i < Number(process.env["DBG_N"] ?? 80); i++) {
    const m = ctx.softmaxRegression({ features: 16, classes: 4, optimizer: { type: 'sgd', learningRate: 0.1 } });
    const x = ctx.tensor(xs, [64, 16]); const y = ctx.tensor(ys);
    if (mode === 'fit') await m.fit(x, y, { batchSize: 16 });
    else if (mode === 'predict') await m.predict(x).read();
    else if (mode === 'read') await x.read();
    x.dispose(); y.dispose(); m.dispose();
    if (i % Number(process.env['DBG_EVERY'] ?? 20) === 0) console.log(mode, i + 1, mem());
  }
  ctx.destroy();
});
