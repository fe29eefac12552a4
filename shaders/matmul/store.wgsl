// The plain epilogue: the product (plus bias) is the output.

/// Writes output element `i`, or adds to it with ACCUMULATE.
fn store(i: u32, v: f32) {
  if (ACCUMULATE) {
    out[i] += v;
  } else {
    out[i] = v;
  }
}
