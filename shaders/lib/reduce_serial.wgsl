// The "reduction" of a workgroup of one invocation: the value itself. Kernels built on it are
// launched with WG = 1 wherever they reduce across a workgroup (rows_per_thread never does),
// so they need no workgroup memory and no barriers: the variant that still runs on a driver
// that refuses every other one (src/webgpu/kernels/rows.ts).

fn workgroup_stats(v: vec4f, lid: u32) -> vec4f {
  return v;
}
