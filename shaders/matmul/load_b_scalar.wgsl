// Operand b as plain floats: a chunk may stop short at the edge of a row.
@group(0) @binding(1) var<storage, read> b: array<f32>;

fn load_b(offset: u32, count: u32) -> vec4f {
  var v = vec4f(0.0);
  for (var e = 0u; e < count; e++) {
    v[e] = b[offset + e];
  }
  return v;
}
