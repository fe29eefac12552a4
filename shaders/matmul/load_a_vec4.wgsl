// Operand a as vec4s: chosen only when its stored rows hold a multiple of 4 elements, so every
// chunk starts on a multiple of 4 and is whole.
@group(0) @binding(0) var<storage, read> a: array<vec4f>;

fn load_a(offset: u32, count: u32) -> vec4f {
  return a[offset / 4u];
}
