type I32 = number;

/** The exports of the kernel module; every address and stride is in bytes. */
export interface WasmExports {
  gemm_n(a: I32, lda: I32, aTile: I32, b: I32, k: I32, init: I32, initStride: I32, c: I32, ldc: I32, tiles: I32): void;
  gemm_t(a: I32, astep: I32, aTile: I32, b: I32, k: I32, init: I32, initStride: I32, c: I32, ldc: I32, tiles: I32): void;
  pack_b(src: I32, pStride: I32, jStride: I32, k: I32, n: I32, dst: I32): void;
  softmax(z: I32, out: I32, rows: I32, cols: I32): void;
  log_softmax(z: I32, out: I32, rows: I32, cols: I32): void;
  softmax_backward(p: I32, dp: I32, out: I32, rows: I32, cols: I32): void;
  cross_entropy(z: I32, labels: I32, weights: I32, grad: I32, loss: I32, rows: I32, cols: I32, ignoreIndex: I32, scale: number): void;
  sum_rows(t: I32, out: I32, rows: I32, cols: I32, stride: I32): void;
  sgd(p: I32, g: I32, v: I32, n: I32, lr: number, momentum: number, decay: number, nesterov: I32): void;
  adam(p: I32, g: I32, m: I32, v: I32, n: I32, stepSize: number, beta1: number, beta2: number, epsilon: number, decay: number, correction2Sqrt: number): void;
  adamw(p: I32, g: I32, m: I32, v: I32, n: I32, stepSize: number, beta1: number, beta2: number, epsilon: number, paramScale: number, correction2Sqrt: number): void;
  rmsprop(p: I32, g: I32, s: I32, a: I32, b: I32, n: I32, lr: number, alpha: number, epsilon: number, decay: number, momentum: number): void;
  widen_f16(src: I32, dst: I32, n: I32): void;
}
