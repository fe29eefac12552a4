// A classifier's hidden activations, elementwise: `forward` writes act(z), `backward` writes
// grad * act'(z) from the pre-activation z (act and act_derivative: lib/activation.wgsl).
// One invocation per element; the grid is folded past 65535 workgroups.

override WG: u32 = 256u;

struct Params {
  elements: u32,
}

@group(0) @binding(0) var<storage, read> z: array<f32>;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

fn index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * WG;
}

@compute @workgroup_size(WG)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = index(gid, groups);
  if (i < params.elements) {
    out[i] = act(z[i]);
  }
}

@compute @workgroup_size(WG)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = index(gid, groups);
  if (i < params.elements) {
    out[i] = grad[i] * act_derivative(z[i]);
  }
}
