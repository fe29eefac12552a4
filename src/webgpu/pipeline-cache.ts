import { ShaderCompileError } from '../errors.js';
import { COMPUTE_STAGE } from './flags.js';
import type { ComposedShader } from './shader.js';

/** How a kernel sees each binding: read-only storage, writable storage, or uniforms. */
export type BindingKind = 'read' | 'write' | 'uniform';

/** One pipeline: a composed module, an entry point and its override constants. */
export interface KernelSpec {
  readonly shader: ComposedShader;
  readonly entryPoint: string;
  readonly constants: Readonly<Record<string, number>>;
  readonly bindings: readonly BindingKind[];
}

/**
 * Compiles each (module, entry point, constants) once. Requests for a pipeline that is still
 * compiling share its promise. A WGSL error rejects with every diagnostic, each located in its
 * `shaders/` file by line and column. Bind-group layouts are explicit, one per binding
 * signature, so one layout serves every kernel with the same bindings.
 */
export class PipelineCache {
  readonly #device: GPUDevice;
  readonly #modules = new Map<string, Promise<GPUShaderModule>>();
  readonly #pipelines = new Map<string, Promise<GPUComputePipeline>>();
  readonly #layouts = new Map<string, { group: GPUBindGroupLayout; pipeline: GPUPipelineLayout }>();

  constructor(device: GPUDevice) {
    this.#device = device;
  }

  /** The pipeline's identity: module, entry point and constants. */
  keyOf(spec: KernelSpec): string {
    return `${spec.shader.key}#${spec.entryPoint}#${JSON.stringify(spec.constants)}`;
  }

  pipeline(spec: KernelSpec): Promise<GPUComputePipeline> {
    const key = this.keyOf(spec);
    let pipeline = this.#pipelines.get(key);
    if (pipeline === undefined) {
      pipeline = this.#compile(spec, key);
      this.#pipelines.set(key, pipeline);
    }
    return pipeline;
  }

  bindGroupLayout(bindings: readonly BindingKind[]): GPUBindGroupLayout {
    return this.#layout(bindings).group;
  }

  async #compile(spec: KernelSpec, label: string): Promise<GPUComputePipeline> {
    const module = await this.#module(spec.shader);
    try {
      return await this.#device.createComputePipelineAsync({
        label,
        layout: this.#layout(spec.bindings).pipeline,
        compute: { module, entryPoint: spec.entryPoint, constants: spec.constants },
      });
    } catch (cause) {
      throw new ShaderCompileError(`${label}: pipeline creation failed: ${(cause as Error).message}`, { cause });
    }
  }

  #module(shader: ComposedShader): Promise<GPUShaderModule> {
    let module = this.#modules.get(shader.key);
    if (module === undefined) {
      module = (async () => {
        this.#device.pushErrorScope('validation');
        const created = this.#device.createShaderModule({ label: shader.key, code: shader.code });
        const [info, error] = await Promise.all([created.getCompilationInfo(), this.#device.popErrorScope()]);
        const errors = info.messages.filter((m) => m.type === 'error');
        if (errors.length > 0 || error !== null) {
          const lines = shader.code.split('\n');
          const report = errors.map(
            (m) => `${shader.locate(m.lineNum)}:${m.linePos}: ${m.message}\n    ${lines[m.lineNum - 1]?.trim() ?? ''}`,
          );
          throw new ShaderCompileError(
            `WGSL compile error in ${shader.key}:\n${report.length > 0 ? report.join('\n') : error?.message}`,
          );
        }
        return created;
      })();
      this.#modules.set(shader.key, module);
    }
    return module;
  }

  #layout(bindings: readonly BindingKind[]) {
    const key = bindings.join(',');
    let layout = this.#layouts.get(key);
    if (layout === undefined) {
      const group = this.#device.createBindGroupLayout({
        label: `layout ${key}`,
        entries: bindings.map((kind, binding) => ({
          binding,
          visibility: COMPUTE_STAGE,
          buffer: { type: kind === 'read' ? 'read-only-storage' : kind === 'write' ? 'storage' : 'uniform' },
        })),
      });
      const pipeline = this.#device.createPipelineLayout({ label: `pipeline layout ${key}`, bindGroupLayouts: [group] });
      layout = { group, pipeline };
      this.#layouts.set(key, layout);
    }
    return layout;
  }
}
