// A classifier's hidden activations, elementwise: `forward` writes act(z), `backward` writes
// grad * act'(z) from the pre-activation z. ACT: 0 relu, 1 gelu (the exact erf form, as
// PyTorch's default), 2 tanh. One invocation per element; the grid is folded past 65535 workgroups.

override WG: u32 = 256u;
override ACT: u32 = 0u;

struct Params {
  elements: u32,
}

@group(0) @binding(0) var<storage, read> z: array<f32>;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

const INV_SQRT_2PI: f32 = 0.3989422804014327;

// Abramowitz and Stegun 7.1.26: |error| < 1.5e-7, under float32's rounding at erf's scale.
fn erf(x: f32) -> f32 {
  let a = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign(x) * (1.0 - poly * exp(-a * a));
}

// tanh of a clamped argument: some drivers build tanh from exp, which overflows to NaN far out.
fn tanh_safe(v: f32) -> f32 {
  return tanh(clamp(v, -15.0, 15.0));
}

fn act(v: f32) -> f32 {
  switch ACT {
    case 0u: { return max(v, 0.0); }
    case 1u: { return 0.5 * v * (1.0 + erf(v * 0.7071067811865476)); }
    default: { return tanh_safe(v); }
  }
}

fn act_derivative(v: f32) -> f32 {
  switch ACT {
    case 0u: { return select(0.0, 1.0, v > 0.0); }
    case 1u: { return 0.5 * (1.0 + erf(v * 0.7071067811865476)) + v * INV_SQRT_2PI * exp(-0.5 * v * v); }
    default: {
      let t = tanh_safe(v);
      return 1.0 - t * t;
    }
  }
}

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
