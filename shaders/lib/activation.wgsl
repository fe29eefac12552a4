// The activations between a classifier's layers and their derivatives, shared by the
// elementwise kernels (activation.wgsl) and the matmul epilogues (matmul/store_activation.wgsl).
// ACT: 0 relu, 1 gelu (the exact erf form, as PyTorch's default), 2 tanh.

override ACT: u32 = 0u;

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
