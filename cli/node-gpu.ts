import { existsSync, readdirSync } from 'node:fs';

/** Chromium's CPU Vulkan driver (Debian's chromium package), for machines without a GPU. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/**
 * A GPU shows up as a DRM render node (/dev/dri/renderD*) or, with NVIDIA's driver, as
 * /dev/nvidia*. Without one, whatever Vulkan drivers the system lists (Mesa's, say) find no
 * device or are ones Dawn rejects (lavapipe), so SwiftShader is the one to use.
 */
export function machineHasGpu(): boolean {
  const dri = existsSync('/dev/dri') && readdirSync('/dev/dri').some((f) => f.startsWith('render'));
  return dri || readdirSync('/dev').some((f) => /^nvidia\d+$/.test(f));
}

/**
 * The environment Dawn needs here: VK_ICD_FILENAMES pointing at SwiftShader where the machine
 * has no GPU (and none was set), nothing where it has one, so the suites and the README's
 * snippets run on the real GPU there.
 */
export function vulkanEnvironment(): Record<string, string> {
  return process.env.VK_ICD_FILENAMES === undefined && !machineHasGpu() && existsSync(SWIFTSHADER_ICD) ? { VK_ICD_FILENAMES: SWIFTSHADER_ICD } : {};
}

let gpu: Promise<GPU> | null = null;

/**
 * Node's `GPU`, from the `webgpu` package (Dawn), made once per process. On a machine with
 * no GPU, Dawn is pointed at SwiftShader, which the adapter then reports as a software one.
 * An explicit VK_ICD_FILENAMES is left alone.
 */
export function nodeGpu(): Promise<GPU> {
  gpu ??= (async () => {
    Object.assign(process.env, vulkanEnvironment());
    const { create } = await import('webgpu');
    return create([]);
  })();
  return gpu;
}
