// The main job until training lands: seed 001's worked example, one SGD step on the CPU
// backend, through the built package exactly as a user imports it.
import { createContext } from 'webgpu-softmax';

const ctx = await createContext({ backend: 'cpu' });
const x = ctx.tensor(new Float32Array([8, 7]), [1, 2]);
const y = ctx.tensor(new Int32Array([2]));
let w = ctx.tensor(new Float32Array(6).fill(0.5), [2, 3]);
let b = ctx.tensor(new Float32Array(3).fill(1), [3]);

const fmt = (a) => Array.from(a, (v) => v.toFixed(5).padStart(9)).join(' ');
for (let step = 0; step <= 1; step++) {
  const z = ctx.matmul(x, w, { bias: b });
  const { loss, grad } = ctx.crossEntropyWithGrad(z, y);
  const [wv, bv] = [await w.read(), await b.read()];
  console.log(`step ${step}: cross-entropy ${(await loss.read())[0].toExponential(6)}`);
  console.log(`  W = [${fmt(wv.subarray(0, 3))} ]\n      [${fmt(wv.subarray(3))} ]\n  b = [${fmt(bv)} ]`);
  const dw = await ctx.matmul(x, grad, { transposeA: true }).read();
  const db = await ctx.sum(grad, { axis: 0 }).read();
  w = ctx.tensor(wv.map((v, i) => v - dw[i]), [2, 3]);
  b = ctx.tensor(bv.map((v, i) => v - db[i]), [3]);
}
