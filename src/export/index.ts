// Export and import of trained MLP classifier heads. The formats work on a plain
// `MlpDescription`; a model's `export(format)` describes itself and calls `exportMlp`, and
// `importClassifier(bytes, opts)` builds a model from what `importMlp` returns.
import { ValueError } from '../errors.js';
import type { MlpActivation, MlpDescription } from './mlp.js';
import { readOnnx, writeOnnx, type WriteOnnxOptions } from './onnx.js';
import { readSafetensors, writeSafetensors } from './safetensors.js';
import { writeTfjs, type TfjsModelArtifacts } from './tfjs.js';

export { layerSizes, validateMlp, type MlpActivation, type MlpDescription, type MlpLayer } from './mlp.js';
export { ONNX_INPUT, ONNX_LOGITS, ONNX_OPSET, ONNX_PROBABILITIES, readOnnx, writeOnnx, type ReadOnnxOptions, type WriteOnnxOptions } from './onnx.js';
export { readSafetensors, writeSafetensors, type ReadSafetensorsOptions } from './safetensors.js';
export {
  readTfjs,
  writeTfjs,
  type TfjsArtifactsLike,
  type TfjsLayerJson,
  type TfjsModelArtifacts,
  type TfjsModelTopology,
  type TfjsWeightSpec,
} from './tfjs.js';

/** The formats a model exports to. */
export type ExportFormat = 'onnx' | 'safetensors' | 'tfjs';
/** The formats whose bytes a model imports from. */
export type ImportFormat = 'onnx' | 'safetensors';

/** Options of {@link importMlp}. */
export interface ImportOptions {
  readonly format: ImportFormat;
  /**
   * safetensors: the activation, which a state_dict does not hold (default: the file's
   * `__metadata__.activation`, else 'relu'). onnx: checked against the graph's own.
   */
  readonly activation?: MlpActivation;
}

/** Options of {@link exportMlp}; `opset` applies to ONNX only. */
export type ExportOptions = WriteOnnxOptions;

/**
 * Writes a trained head in one of the export formats: ONNX and safetensors as bytes, TF.js as
 * `tf.io.ModelArtifacts`. Throws before writing anything if `desc` is malformed.
 *
 * @example
 * const blob = new Blob([exportMlp(head, 'onnx')], { type: 'application/octet-stream' });
 */
export function exportMlp(desc: MlpDescription, format: 'onnx' | 'safetensors', options?: ExportOptions): Uint8Array;
export function exportMlp(desc: MlpDescription, format: 'tfjs'): TfjsModelArtifacts;
export function exportMlp(desc: MlpDescription, format: ExportFormat, options?: ExportOptions): Uint8Array | TfjsModelArtifacts;
export function exportMlp(desc: MlpDescription, format: ExportFormat, options: ExportOptions = {}): Uint8Array | TfjsModelArtifacts {
  switch (format) {
    case 'onnx':
      return writeOnnx(desc, options);
    case 'safetensors':
      return writeSafetensors(desc);
    case 'tfjs':
      return writeTfjs(desc);
    default:
      throw new ValueError(`format must be 'onnx', 'safetensors' or 'tfjs', got ${JSON.stringify(format)}`);
  }
}

/**
 * Reads a head from ONNX or safetensors bytes, fully checked: it returns a valid description
 * or throws, naming the tensor or node at fault.
 *
 * @example
 * const head = importMlp(new Uint8Array(await file.arrayBuffer()), { format: 'safetensors', activation: 'gelu' });
 */
export function importMlp(bytes: Uint8Array, options: ImportOptions): MlpDescription {
  const rest = options.activation === undefined ? {} : { activation: options.activation };
  switch (options.format) {
    case 'onnx':
      return readOnnx(bytes, rest);
    case 'safetensors':
      return readSafetensors(bytes, rest);
    default:
      throw new ValueError(`format must be 'onnx' or 'safetensors', got ${JSON.stringify(options.format)}`);
  }
}
