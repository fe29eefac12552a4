import { WebGPUUnavailableError } from '../errors.js';

/** What the library learned about the GPU it runs on. */
export interface AdapterReport {
  /** `GPUAdapterInfo.vendor`, e.g. `'nvidia'` (may be empty). */
  readonly vendor: string;
  /** `GPUAdapterInfo.architecture`, e.g. `'ampere'` or `'swiftshader'` (may be empty). */
  readonly architecture: string;
  /** `GPUAdapterInfo.device` (may be empty). */
  readonly device: string;
  /** `GPUAdapterInfo.description`, a driver's own name for it (may be empty). */
  readonly description: string;
  /**
   * True for a software adapter (SwiftShader, llvmpipe, WARP, a fallback adapter): its
   * "GPU" times are CPU times, so a GPU-against-CPU benchmark on it measures an emulation.
   */
  readonly isSoftware: boolean;
  /** The optional features the library uses, where the device has them. */
  readonly features: readonly string[];
}

export interface OpenedDevice {
  readonly device: GPUDevice;
  readonly adapter: AdapterReport;
  /** False for a device the caller passed in: the library must never destroy it. */
  readonly owned: boolean;
  /**
   * The `GPU` the device came from. Node's `webgpu` package tears Dawn's instance down when
   * its `GPU` is garbage-collected, crashing the process under a live device, so whoever holds
   * the device holds this too.
   */
  readonly gpu: GPU | null;
}

export interface DeviceRequest {
  readonly gpu?: GPU | undefined;
  readonly device?: GPUDevice | undefined;
  readonly powerPreference?: GPUPowerPreference | undefined;
}

const OPTIONAL_FEATURES: readonly GPUFeatureName[] = ['subgroups', 'timestamp-query'];

/** Limits the kernels use, requested at the adapter's own values rather than the defaults. */
const LIMITS = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

const SOFTWARE = /swiftshader|llvmpipe|lavapipe|softpipe|software|basic render|warp/i;

/**
 * A device for the library: the caller's own, or one from `gpu` (default `navigator.gpu`)
 * with the adapter's limits and the optional features it has.
 */
export async function openDevice(request: DeviceRequest): Promise<OpenedDevice> {
  if (request.device !== undefined) {
    const device = request.device;
    return { device, adapter: describe(device.adapterInfo, [...device.features]), owned: false, gpu: request.gpu ?? null };
  }
  const gpu = request.gpu ?? (globalThis.navigator as Navigator | undefined)?.gpu;
  if (gpu === undefined) {
    throw new WebGPUUnavailableError(
      'createContext: WebGPU is not available: there is no navigator.gpu (browsers expose it only to secure ' +
        'contexts such as https:// and http://localhost); in Node, pass { gpu } from the `webgpu` package',
    );
  }
  const adapter = await gpu.requestAdapter(
    request.powerPreference === undefined ? undefined : { powerPreference: request.powerPreference },
  );
  if (adapter === null) {
    throw new WebGPUUnavailableError('createContext: WebGPU is available but requestAdapter() found no adapter');
  }
  const requiredLimits: Record<string, number> = {};
  for (const name of LIMITS) requiredLimits[name] = adapter.limits[name];
  const requiredFeatures = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f));
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ label: 'webgpu-softmax', requiredLimits, requiredFeatures });
  } catch (cause) {
    throw new WebGPUUnavailableError(`createContext: requestDevice() failed: ${(cause as Error).message}`, { cause });
  }
  return { device, adapter: describe(adapter.info, requiredFeatures), owned: true, gpu };
}

function describe(info: GPUAdapterInfo, features: readonly string[]): AdapterReport {
  const text = [info.vendor, info.architecture, info.device, info.description].join(' ');
  const isFallback = (info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    isSoftware: isFallback || SOFTWARE.test(text),
    features: features.filter((f) => (OPTIONAL_FEATURES as readonly string[]).includes(f)),
  };
}

/** Resolves true when `device` is already lost; a lost device resolves its promise at once. */
export async function isLost(device: GPUDevice): Promise<boolean> {
  return Promise.race([device.lost.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 0))]);
}
