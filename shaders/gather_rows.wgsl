// out[r] = t[indices[start + r]] (or t[start + r] with IN_ORDER): the rows of a training batch,
// shuffled on the device. Elements are copied as bits, so float32 and int32 rows alike; with
// WIDEN, t holds float16 rows, two halves per 32-bit word, the lower-addressed one in the low
// bits (little-endian, as the host and other libraries write them), and each is written as its
// exact float32 value: unpack2x16float needs no shader-f16, so this runs on every adapter.
// One invocation per output element; the grid is folded past 65535 workgroups.

override WG: u32 = 256u;
override IN_ORDER: bool = false;
override WIDEN: bool = false;

struct Params {
  rows: u32,
  cols: u32,
  start: u32,
}

@group(0) @binding(0) var<storage, read> t: array<u32>;
@group(0) @binding(1) var<storage, read> indices: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i >= params.rows * params.cols) {
    return;
  }
  let r = i / params.cols;
  var source = params.start + r;
  if (!IN_ORDER) {
    source = indices[source];
  }
  let e = source * params.cols + i % params.cols;
  if (WIDEN) {
    out[i] = bitcast<u32>(unpack2x16float(t[e / 2u])[e % 2u]);
  } else {
    out[i] = t[e];
  }
}
