import { existsSync, readdirSync } from 'node:fs';

/** Chromium's CPU Vulkan driver (Debian's chromium package), for machines without a GPU. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/**
 * A GPU shows up as a DRM render node (/dev/dri/renderD*) or, with NVIDIA's driver, as
 * /dev/nvidia*. Without one, whatever Vulkan drivers the system lists (Mesa's, say) find no
 * device or are ones Dawn rejects (lavapipe), so SwiftShader is the one to use.
 */
function machineHasGpu(): boolean {
  const dri = existsSync('/dev/dri') && readdirSync('/dev/dri').some((f) => f.startsWith('render'));
  return dri || readdirSync('/dev').some((f) => /^nvidia\d+$/.test(f));
}

let gpu: Promise<GPU> | null = null;

/**
 * Node's `GPU`, from the `webgpu` package (Dawn), made once per process. On a machine with
 * no GPU, Dawn is pointed at SwiftShader, which the adapter then reports as a software one.
 * An explicit VK_ICD_FILENAMES is left alone.
 */
export function nodeGpu(): Promise<GPU> {
  gpu ??= (async () => {
    if (process.env.VK_ICD_FILENAMES === undefined && !machineHasGpu() && existsSync(SWIFTSHADER_ICD)) {
      process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    }
    const { create } = await import('webgpu');
    return create([]);
  })();
  return gpu;
}
