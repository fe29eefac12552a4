import reduceSubgroup from '../../../shaders/lib/reduce_subgroup.wgsl?raw';
import reduceSerial from '../../../shaders/lib/reduce_serial.wgsl?raw';
import reduceWorkgroup from '../../../shaders/lib/reduce_workgroup.wgsl?raw';
import rowCache from '../../../shaders/lib/row_cache.wgsl?raw';
import rowStats from '../../../shaders/lib/row_stats.wgsl?raw';
import special from '../../../shaders/lib/special.wgsl?raw';
import type { RowsPlan } from '../../backend.js';
import type { KernelHost } from '../kernel-host.js';
import type { ShaderPart } from '../shader.js';
import type { Needs } from '../candidates.js';

/** Rows at most this long get one invocation each; longer rows get a workgroup. */
const THREAD_ROW_MAX_COLS = 32;
const THREAD_ROWS_PER_WORKGROUP = 64;
/** On a software adapter, fewer rows than this, each longer than the next, get a workgroup each. */
const SOFTWARE_FEW_ROWS = 256;
const SOFTWARE_LONG_ROW = 4096;

/** How a row-wise kernel (softmax, its backward, cross-entropy) is launched for one shape. */
export interface RowLaunch {
  readonly entryPoint: 'rows_per_thread' | 'row_per_workgroup';
  /** Invocations per workgroup (a power of two). */
  readonly wg: number;
  /** Row elements kept in workgroup memory between passes; 1 when rows are not cached. */
  readonly cache: number;
  readonly workgroups: number;
}

/**
 * The library parts every row kernel is built on, with the workgroup reduction the device
 * suits, or with `serial` the one for workgroups of a single invocation (no barriers).
 */
export function rowLibrary(host: KernelHost, serial = false): ShaderPart[] {
  return [
    { name: 'lib/special.wgsl', code: special },
    { name: 'lib/row_stats.wgsl', code: rowStats },
    serial
      ? { name: 'lib/reduce_serial.wgsl', code: reduceSerial }
      : host.subgroups
        ? { name: 'lib/reduce_subgroup.wgsl', code: reduceSubgroup }
        : { name: 'lib/reduce_workgroup.wgsl', code: reduceWorkgroup },
  ];
}

/** One way to launch a row kernel: its launch and the library its module is built on. */
export interface RowVariant {
  /** `'thread'`: a row per invocation; `'workgroup'`: a row per workgroup; `'serial'`: a row per invocation, built without barriers. */
  readonly name: 'thread' | 'workgroup' | 'serial';
  readonly launch: RowLaunch;
  readonly library: ShaderPart[];
  readonly needs: Needs;
}

/**
 * The launches of a row kernel, best first: the rule's (`planRows`), the other entry point,
 * then a row per invocation from a module with no barriers, which runs where a driver refuses
 * or miscompiles the others.
 */
export function rowVariants(host: KernelHost, plan: RowsPlan, cacheable: boolean): RowVariant[] {
  const rule = planRows(host, plan, cacheable);
  const perThread: RowLaunch = { entryPoint: 'rows_per_thread', wg: THREAD_ROWS_PER_WORKGROUP, cache: 1, workgroups: Math.ceil(plan.rows / THREAD_ROWS_PER_WORKGROUP) };
  const other = rule.entryPoint === 'rows_per_thread' ? workgroupLaunch(host, plan, cacheable) : perThread;
  const variant = (launch: RowLaunch): RowVariant => ({
    name: launch.entryPoint === 'rows_per_thread' ? 'thread' : 'workgroup',
    launch,
    library: rowLibrary(host),
    needs: launch.entryPoint === 'rows_per_thread' ? { workgroupBytes: 0, invocations: launch.wg } : { workgroupBytes: launch.wg * 16 + 16 + launch.cache * 4, invocations: launch.wg },
  });
  return [variant(rule), variant(other), { name: 'serial', launch: perThread, library: rowLibrary(host, true), needs: { workgroupBytes: 0, invocations: perThread.wg } }];
}

/**
 * A kernel that reduces in a single workgroup (a mean's denominator, a final sum, metrics):
 * `wg` invocations, or one, built without barriers, where those are refused.
 */
export function singleVariants(host: KernelHost, wg: number): { readonly serial: boolean; readonly wg: number; readonly library: ShaderPart[]; readonly needs: Needs }[] {
  return [
    { serial: false, wg, library: rowLibrary(host), needs: { workgroupBytes: wg * 16 + 16, invocations: wg } },
    { serial: true, wg: 1, library: rowLibrary(host, true), needs: { workgroupBytes: 0, invocations: 1 } },
  ];
}

/** Workgroup memory that keeps a row between two passes, for kernels planned with `cacheable`. */
export const ROW_CACHE: ShaderPart = { name: 'lib/row_cache.wgsl', code: rowCache };

/**
 * Short rows (C = 10 classes) run one per invocation, so a workgroup serves 64 rows instead of
 * idling; long rows run one per workgroup, sized to the row, and are cached in workgroup memory
 * when they fit beside the reduction's slots. A software adapter runs a row per invocation
 * unless the rows are few and long (64 x 50257): there a barrier costs more than the
 * parallelism inside a row gains.
 */
function perThread(host: KernelHost, rows: number, cols: number): boolean {
  const forced = host.variants.rows;
  if (forced !== undefined) return forced === 'thread';
  if (host.software) return rows >= SOFTWARE_FEW_ROWS || cols <= SOFTWARE_LONG_ROW;
  return cols <= THREAD_ROW_MAX_COLS;
}

export function planRows(host: KernelHost, plan: RowsPlan, cacheable: boolean): RowLaunch {
  if (perThread(host, plan.rows, plan.cols)) {
    const wg = THREAD_ROWS_PER_WORKGROUP;
    return { entryPoint: 'rows_per_thread', wg, cache: 1, workgroups: Math.ceil(plan.rows / wg) };
  }
  return workgroupLaunch(host, plan, cacheable);
}

/** A workgroup per row, sized to the row, caching it in workgroup memory where it fits. */
function workgroupLaunch(host: KernelHost, { rows, cols }: RowsPlan, cacheable: boolean): RowLaunch {
  const limits = host.limits;
  const maxWg = Math.min(256, limits.maxComputeInvocationsPerWorkgroup, limits.maxComputeWorkgroupSizeX);
  const wg = Math.max(32, Math.min(maxWg, nextPowerOfTwo(Math.ceil(cols / 8))));
  const reductionBytes = wg * 16 + 16;
  const room = Math.floor((limits.maxComputeWorkgroupStorageSize - reductionBytes) / 4);
  const cache = Math.max(256, nextPowerOfTwo(cols));
  const cached = cacheable && host.variants.rowCache !== false && cache <= room;
  return { entryPoint: 'row_per_workgroup', wg, cache: cached ? cache : 1, workgroups: rows };
}

function nextPowerOfTwo(n: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(1, n)));
}

/** Rows in a row kernel's self-check probe: enough for a second and a last row, cheap at any length. */
export const PROBE_ROWS = 3;

/** The grid of `launch`'s entry point over the probe's rows. */
export function probeGrid(launch: RowLaunch): [number, number, number] {
  return [launch.entryPoint === 'rows_per_thread' ? 1 : PROBE_ROWS, 1, 1];
}
