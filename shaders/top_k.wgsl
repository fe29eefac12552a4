// The K most probable classes of each row of logits z [rows, cols], and their softmax
// probabilities, without writing the probabilities out: one invocation walks a row once,
// keeping the K largest logits so far (sorted, largest first; ties go to the lower class)
// and an online log-sum-exp (m, s: the running max and sum of exp(z - m)). Row r of the
// result is written at row first_row + r of indices and values [N, K], so a model can fill
// them a chunk of rows at a time. A row with a NaN gives NaN probabilities; slots past the
// row's length hold class -1 and probability 0.

override WG: u32 = 64u;
// k, at most MAX_K (private arrays cannot be sized by an override).
override K: u32 = 1u;
const MAX_K = 128u;

const LOWEST = -3.4028234663852886e38;

struct Params {
  rows: u32,
  cols: u32,
  first_row: u32,
}

@group(0) @binding(0) var<storage, read> z: array<f32>;
@group(0) @binding(1) var<storage, read_write> indices: array<i32>;
@group(0) @binding(2) var<storage, read_write> values: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let row = gid.x + gid.y * groups.x * WG;
  if (row >= params.rows) {
    return;
  }
  let base = row * params.cols;
  var best_v: array<f32, MAX_K>;
  var best_i: array<i32, MAX_K>;
  for (var j = 0u; j < K; j++) {
    best_v[j] = LOWEST;
    best_i[j] = -1;
  }
  var m = LOWEST;
  var s = 0.0;
  for (var c = 0u; c < params.cols; c++) {
    let v = z[base + c];
    if (v > m) {
      s = s * exp(m - v) + 1.0;
      m = v;
    } else {
      s += exp(v - m);
    }
    if (best_i[K - 1u] < 0 || v > best_v[K - 1u]) {
      var j = K - 1u;
      while (j > 0u && (best_i[j - 1u] < 0 || v > best_v[j - 1u])) {
        best_v[j] = best_v[j - 1u];
        best_i[j] = best_i[j - 1u];
        j--;
      }
      best_v[j] = v;
      best_i[j] = i32(c);
    }
  }
  let out = (params.first_row + row) * K;
  for (var j = 0u; j < K; j++) {
    indices[out + j] = best_i[j];
    values[out + j] = select(exp(best_v[j] - m) / s, 0.0, best_i[j] < 0);
  }
}
