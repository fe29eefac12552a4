import { describe } from '../describe.js';
import { DTypeError, LimitError, ShapeError, ValueError } from '../errors.js';
import { checkShape, formatShape, sizeOf, type Shape } from '../shape.js';
import { BufferUsage } from '../webgpu/flags.js';

const WHERE = 'tensorFromGPUBuffer';

/** What `tensorFromGPUBuffer` checked: the elements the tensor covers. */
export interface BorrowPlan {
  readonly elements: number;
}

/**
 * Checks an app's buffer against the tensor it should hold, on the context's device limits:
 * a GPUBuffer, unmapped, with STORAGE usage, an aligned offset, and room for the tensor.
 * Whether it belongs to the context's device cannot be seen synchronously; the backend checks
 * that on the device and reports it at the next flush or read.
 */
export function planBorrow(
  buffer: unknown,
  shape: Shape,
  dtype: unknown,
  byteOffset: unknown,
  limits: GPUSupportedLimits,
): BorrowPlan {
  if (!isGpuBuffer(buffer)) throw new ValueError(`${WHERE}: buffer must be a GPUBuffer, got ${describe(buffer)}`);
  const name = buffer.label === '' ? 'the buffer' : `buffer '${buffer.label}'`;
  checkShape(shape, WHERE);
  if (dtype !== 'float32' && dtype !== 'int32' && dtype !== 'float16') {
    throw new DTypeError(`${WHERE}: dtype must be 'float32', 'int32' or 'float16', got ${JSON.stringify(dtype)}`);
  }
  const alignment = limits.minStorageBufferOffsetAlignment;
  if (typeof byteOffset !== 'number' || !Number.isSafeInteger(byteOffset) || byteOffset < 0 || byteOffset % alignment !== 0) {
    throw new ValueError(
      `${WHERE}: byteOffset must be a non-negative multiple of the device's minStorageBufferOffsetAlignment (${alignment}), got ${String(byteOffset)}`,
    );
  }
  if ((buffer.usage & BufferUsage.STORAGE) === 0) {
    throw new ValueError(`${WHERE}: ${name} has usage ${usageNames(buffer.usage)}, without STORAGE, so no kernel can bind it`);
  }
  if (buffer.mapState !== 'unmapped') {
    throw new ValueError(`${WHERE}: ${name} is ${buffer.mapState === 'mapped' ? 'mapped' : 'being mapped'}; unmap it first`);
  }
  const elements = sizeOf(shape);
  // Kernels bind whole 32-bit words: an odd count of halves takes the rest of its last word.
  const bytes = Math.ceil((elements * (dtype === 'float16' ? 2 : 4)) / 4) * 4;
  if (byteOffset + bytes > buffer.size) {
    throw new ShapeError(
      `${WHERE}: shape ${formatShape(shape)} (${dtype}) needs ${bytes} bytes from byteOffset ${byteOffset}, but ${name} holds ${buffer.size} bytes`,
    );
  }
  if (bytes > limits.maxStorageBufferBindingSize) {
    throw new LimitError(
      `${WHERE}: a tensor of shape ${formatShape(shape)} needs ${bytes} bytes, more than the device's maxStorageBufferBindingSize of ${limits.maxStorageBufferBindingSize} bytes`,
    );
  }
  return { elements };
}

function isGpuBuffer(value: unknown): value is GPUBuffer {
  if (typeof value !== 'object' || value === null) return false;
  const b = value as Partial<GPUBuffer>;
  return typeof b.size === 'number' && typeof b.usage === 'number' && typeof b.mapAsync === 'function' && typeof b.destroy === 'function';
}

function usageNames(usage: number): string {
  const names = Object.entries(BufferUsage)
    .filter(([, flag]) => (usage & flag) !== 0)
    .map(([n]) => n);
  return `0x${usage.toString(16)} (${names.join(' | ') || 'none'})`;
}
