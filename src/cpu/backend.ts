import type {
  Activation,
  ActivationPlan,
  AdamPlan,
  AdamWPlan,
  Backend,
  CrossEntropyPlan,
  GatherPlan,
  LinearCrossEntropyPlan,
  MatmulPlan,
  MetricsPlan,
  RowsPlan,
  Profile,
  RmspropPlan,
  SgdPlan,
  StepGuard,
  Storage,
  TopKPlan,
} from '../backend.js';
import type { DType } from '../dtype.js';
import { crossEntropy } from './cross-entropy.js';
import { linearCrossEntropy } from './linear-cross-entropy.js';
import { matmul } from './matmul.js';
import { activation, activationBackward } from './activation.js';
import { sumRows } from './reduce.js';
import { logSoftmax, softmax, softmaxBackward } from './softmax.js';
import { fromHalves } from '../float16.js';
import { CpuStorage, elements, floats, halves, ints } from './storage.js';
import { OpTimer } from './timer.js';
import { topK } from './top-k.js';
import { accumulateMetrics, adamStep, adamwStep, checkFinite, commitMetrics, gatherRows, guardSkips, rmspropStep, sgdStep } from './train.js';

/**
 * The reference backend: plain TypeScript over typed arrays, float64 inside every reduction.
 * It runs wherever JavaScript does, and the WebGPU backend is tested against it.
 */
export class CpuBackend implements Backend {
  readonly kind = 'cpu';
  readonly threads = 1;
  readonly tensorByteLimit = null;
  readonly adapter = null;
  readonly lost = null;
  readonly gpuBuffers = null;
  readonly #timer = new OpTimer();
  /** Bytes of the storages made and not released, and their high-water mark. */
  #heldBytes = 0;
  #peakBytes = 0;

  upload(data: Float32Array | Int32Array | Uint16Array): Storage {
    return this.#store(data.slice());
  }

  async read(storage: Storage, dtype: DType): Promise<Float32Array | Int32Array | Uint16Array> {
    if (dtype === 'float16') return halves(storage).slice();
    return dtype === 'int32' ? ints(storage).slice() : floats(storage).slice();
  }

  release(storage: Storage): void {
    this.#heldBytes -= storage.byteLength;
  }

  #store(data: Float32Array | Int32Array | Uint16Array): CpuStorage {
    this.#heldBytes += data.byteLength;
    this.#peakBytes = Math.max(this.#peakBytes, this.#heldBytes);
    return new CpuStorage(data);
  }

  matmul(a: Storage, b: Storage, bias: Storage | null, plan: MatmulPlan): Storage {
    return this.#timed(`matmul ${plan.batch}x${plan.m}x${plan.k}x${plan.n}`, () =>
      this.#store(matmul(floats(a), floats(b), bias === null ? null : floats(bias), plan)),
    );
  }

  softmax(z: Storage, plan: RowsPlan): Storage {
    return this.#timed(`softmax ${plan.rows}x${plan.cols}`, () => this.#store(softmax(floats(z), plan)));
  }

  logSoftmax(z: Storage, plan: RowsPlan): Storage {
    return this.#timed(`logSoftmax ${plan.rows}x${plan.cols}`, () => this.#store(logSoftmax(floats(z), plan)));
  }

  softmaxBackward(p: Storage, dp: Storage, plan: RowsPlan): Storage {
    return this.#timed(`softmaxBackward ${plan.rows}x${plan.cols}`, () => this.#store(softmaxBackward(floats(p), floats(dp), plan)));
  }

  crossEntropy(z: Storage, target: Storage, classWeights: Storage | null, plan: CrossEntropyPlan) {
    return this.#timed(`crossEntropy ${plan.rows}x${plan.classes}`, () => {
      const targets = plan.target === 'index' ? ints(target) : floats(target);
      const { loss, grad } = crossEntropy(floats(z), targets, classWeights === null ? null : floats(classWeights), plan);
      return { loss: this.#store(loss), grad: grad === null ? null : this.#store(grad) };
    });
  }

  linearCrossEntropy(
    x: Storage,
    weight: Storage,
    bias: Storage | null,
    target: Storage,
    classWeights: Storage | null,
    metrics: Storage | null,
    plan: LinearCrossEntropyPlan,
  ) {
    const { rows, classes } = plan.crossEntropy;
    return this.#timed(`linearCrossEntropy ${rows}x${plan.features}x${classes}`, () => {
      const targets = plan.crossEntropy.target === 'index' ? ints(target) : floats(target);
      const r = linearCrossEntropy(
        plan.float16X ? fromHalves(halves(x)) : floats(x),
        floats(weight),
        bias === null ? null : floats(bias),
        targets,
        classWeights === null ? null : floats(classWeights),
        metrics === null ? null : floats(metrics),
        plan,
      );
      const wrap = (a: Float32Array | null) => (a === null ? null : this.#store(a));
      return { loss: this.#store(r.loss), gradX: wrap(r.gradX), gradWeight: wrap(r.gradWeight), gradBias: wrap(r.gradBias) };
    });
  }

  topK(z: Storage, indices: Storage, values: Storage, plan: TopKPlan): void {
    this.#timed(`topK ${plan.rows}x${plan.cols} k=${plan.k}`, () => topK(floats(z), ints(indices), floats(values), plan));
  }

  activation(z: Storage, plan: ActivationPlan): Storage {
    return this.#timed(`${plan.activation} ${plan.elements}`, () => {
      const out = new Float32Array(plan.elements);
      activation(floats(z), out, plan);
      return this.#store(out);
    });
  }

  activationBackward(z: Storage, grad: Storage, plan: ActivationPlan): Storage {
    return this.#timed(`${plan.activation}Backward ${plan.elements}`, () => {
      const out = new Float32Array(plan.elements);
      activationBackward(floats(z), floats(grad), out, plan);
      return this.#store(out);
    });
  }

  linearActivation(a: Storage, b: Storage, bias: Storage | null, plan: MatmulPlan, activation: Activation): { pre: Storage; out: Storage } {
    const pre = this.matmul(a, b, bias, plan);
    return { pre, out: this.activation(pre, { elements: plan.batch * plan.m * plan.n, activation }) };
  }

  linearActivationBackward(a: Storage, b: Storage, pre: Storage, plan: MatmulPlan, activation: Activation): Storage {
    const grad = this.matmul(a, b, null, plan);
    const out = this.activationBackward(pre, grad, { elements: plan.batch * plan.m * plan.n, activation });
    this.release(grad);
    return out;
  }

  sumRows(t: Storage, plan: RowsPlan): Storage {
    return this.#timed(`sum ${plan.rows}x${plan.cols}`, () => this.#store(sumRows(floats(t), plan)));
  }

  gatherRows(t: Storage, indices: Storage | null, plan: GatherPlan): Storage {
    return this.#timed(`gatherRows ${plan.rows}x${plan.cols}`, () =>
      this.#store(gatherRows(elements(t), indices === null ? null : ints(indices), plan)),
    );
  }

  sgdStep(param: Storage, grad: Storage, velocity: Storage | null, plan: SgdPlan, guard?: StepGuard | null): void {
    if (skips(guard)) return;
    this.#timed(`sgd ${plan.elements}`, () => sgdStep(floats(param), floats(grad), velocity === null ? null : floats(velocity), plan));
  }

  adamStep(param: Storage, grad: Storage, m: Storage, v: Storage, plan: AdamPlan, guard?: StepGuard | null): void {
    if (skips(guard)) return;
    this.#timed(`adam ${plan.elements}`, () => adamStep(floats(param), floats(grad), floats(m), floats(v), plan));
  }

  adamwStep(param: Storage, grad: Storage, m: Storage, v: Storage, plan: AdamWPlan, guard?: StepGuard | null): void {
    if (skips(guard)) return;
    this.#timed(`adamw ${plan.elements}`, () => adamwStep(floats(param), floats(grad), floats(m), floats(v), plan));
  }

  rmspropStep(param: Storage, grad: Storage, square: Storage, mean: Storage | null, buffer: Storage | null, plan: RmspropPlan, guard?: StepGuard | null): void {
    if (skips(guard)) return;
    const maybe = (s: Storage | null) => (s === null ? null : floats(s));
    this.#timed(`rmsprop ${plan.elements}`, () => rmspropStep(floats(param), floats(grad), floats(square), maybe(mean), maybe(buffer), plan));
  }

  accumulateMetrics(z: Storage, target: Storage, loss: Storage, acc: Storage, plan: MetricsPlan): void {
    this.#timed(`metrics ${plan.rows}x${plan.classes}`, () => {
      const targets = plan.target === 'index' ? ints(target) : floats(target);
      accumulateMetrics(floats(z), targets, floats(loss)[0]!, floats(acc), plan);
    });
  }

  checkFinite(values: readonly Storage[], guard: StepGuard): void {
    this.#timed(`checkFinite ${values.length}`, () => checkFinite(values.map(floats), ints(guard.words), guard.step));
  }

  commitMetrics(stepAcc: Storage, acc: Storage, guard: StepGuard): void {
    this.#timed('commitMetrics', () => commitMetrics(floats(stepAcc), floats(acc), ints(guard.words), guard.step));
  }

  profile<T>(fn: () => T | Promise<T>): Promise<Profile<T>> {
    return this.#timer.profile(fn);
  }

  #timed<T>(label: string, run: () => T): T {
    return this.#timer.timed(label, run);
  }

  peek(storage: Storage): Float32Array | Int32Array | null {
    const data = elements(storage);
    return data instanceof Uint16Array ? null : data;
  }

  async flush(): Promise<void> {}

  pooledBytes(): number {
    return 0;
  }

  /** The high-water mark of tensor storage; the kernels' float64 temporaries are not counted. */
  peakBytes(): number {
    return this.#peakBytes;
  }

  resetPeakBytes(): void {
    this.#peakBytes = this.#heldBytes;
  }

  destroy(): void {}
}

/** Whether a guarded step is to be skipped (see `StepGuard`). */
function skips(guard: StepGuard | null | undefined): boolean {
  return guard != null && guardSkips(ints(guard.words), guard.step, guard.sticky);
}
