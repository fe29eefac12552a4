// A hidden layer's epilogue, fused into the matmul so no pass over memory is added
// (act and act_derivative: lib/activation.wgsl).
// FORWARD: `out` gets the pre-activation v = x·W + b (kept for the backward pass) and `extra`
//   the layer's output act(v).
// Backward: v is the gradient at the layer's output (dz·Wᵀ); `out` gets v · act'(pre), the
//   gradient at the pre-activation, with the pre-activation read from `extra`.

override FORWARD: bool = true;

@group(0) @binding(5) var<storage, read_write> extra: array<f32>;

fn store(i: u32, v: f32) {
  if (FORWARD) {
    out[i] = v;
    extra[i] = act(v);
  } else {
    out[i] = v * act_derivative(extra[i]);
  }
}
