import { keysOf } from '../check-options.js';

// Export options live apart from their writers, which load on first use: a model checks its
// options against these keys before it loads or reads anything.

/** What `model.export('onnx', options)` takes (and `writeOnnx`). */
export interface WriteOnnxOptions {
  /**
   * 17 (default): runs everywhere onnxruntime ≥ 1.12 does; gelu spelled with Erf.
   * 20: gelu as the standard Gelu op (one node, onnxruntime ≥ 1.17 fuses it).
   */
  readonly opset?: 17 | 20;
}

export const WRITE_ONNX_KEYS = keysOf<WriteOnnxOptions>({ opset: true });
