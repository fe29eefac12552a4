// Operand a as plain floats: a chunk may stop short at the edge of a row.
@group(0) @binding(0) var<storage, read> a: array<f32>;

fn load_a(offset: u32, count: u32) -> vec4f {
  var v = vec4f(0.0);
  for (var e = 0u; e < count; e++) {
    v[e] = a[offset + e];
  }
  return v;
}
