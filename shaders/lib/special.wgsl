// IEEE special values, tested on their bits. WGSL lets an implementation assume that float
// arithmetic meets no NaN or infinity, and max(NaN, x) may return x; integer tests on the
// bits cannot be optimised away. The constants are built from a `let` because a constant
// expression that evaluates to NaN or an infinity is a shader-creation error.

fn is_nan(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;
}

fn is_neg_inf(x: f32) -> bool {
  return bitcast<u32>(x) == 0xff800000u;
}

fn is_pos_inf(x: f32) -> bool {
  return bitcast<u32>(x) == 0x7f800000u;
}

fn nan_f32() -> f32 {
  let bits = 0x7fc00000u;
  return bitcast<f32>(bits);
}

fn neg_inf_f32() -> f32 {
  let bits = 0xff800000u;
  return bitcast<f32>(bits);
}

fn pos_inf_f32() -> f32 {
  let bits = 0x7f800000u;
  return bitcast<f32>(bits);
}
