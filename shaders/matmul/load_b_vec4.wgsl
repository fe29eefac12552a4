// Operand b as vec4s: chosen only when its stored rows hold a multiple of 4 elements, so every
// chunk starts on a multiple of 4 and is whole.
@group(0) @binding(1) var<storage, read> b: array<vec4f>;

fn load_b(offset: u32, count: u32) -> vec4f {
  return b[offset / 4u];
}
