// The non-finite guard of a training step (src/train/non-finite.ts). `guard` holds four words:
// [last bad step + 1, first bad step (0xffffffff: none), bad steps, 0]. `check` marks the step
// as bad when any value it is shown is NaN or ±Infinity; the optimizer kernels
// (optimizers.wgsl) read the mark and skip their update; `commit` adds the step's metrics to
// the epoch's unless the step was bad. Nothing is read back per step: the host reads the words
// once per epoch, with the epoch's figures.

override WG: u32 = 256u;

struct Check {
  /// Elements of each array; the checked values are a's, then b's, and so on.
  elements: array<vec4u, 2>,
  step: u32,
}

struct Commit {
  step: u32,
}

// A step's loss and two layers' gradients in one dispatch: five arrays, the guard, the uniforms.
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read> c: array<f32>;
@group(0) @binding(3) var<storage, read> d: array<f32>;
@group(0) @binding(4) var<storage, read> e: array<f32>;
@group(0) @binding(5) var<storage, read_write> guard: array<atomic<u32>>;
@group(0) @binding(6) var<uniform> check_params: Check;

@group(0) @binding(0) var<storage, read> guard_words: array<u32>;
@group(0) @binding(1) var<storage, read_write> step_acc: array<f32>;
@group(0) @binding(2) var<storage, read_write> acc: array<f32>;
@group(0) @binding(3) var<uniform> commit_params: Commit;

/// NaN and ±Infinity have every exponent bit set. Tested on the bits, since a compiler may
/// assume that floats are finite and fold `x != x` away.
fn finite(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u;
}

/// One invocation per value (the grid folded past 65535 workgroups). Steps only grow within a
/// run, so the one invocation whose atomicMax first raises the mark to this step counts it.
@compute @workgroup_size(WG)
fn check(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  var i = gid.x + gid.y * groups.x * WG;
  let n = check_params.elements[0];
  let ne = check_params.elements[1].x;
  var value: f32;
  if (i < n.x) {
    value = a[i];
  } else if (i < n.x + n.y) {
    value = b[i - n.x];
  } else if (i < n.x + n.y + n.z) {
    value = c[i - n.x - n.y];
  } else if (i < n.x + n.y + n.z + n.w) {
    value = d[i - n.x - n.y - n.z];
  } else if (i < n.x + n.y + n.z + n.w + ne) {
    value = e[i - n.x - n.y - n.z - n.w];
  } else {
    return;
  }
  if (finite(value)) {
    return;
  }
  let mark = check_params.step + 1u;
  if (atomicMax(&guard[0], mark) < mark) {
    atomicAdd(&guard[2], 1u);
    atomicMin(&guard[1], check_params.step);
  }
}

@compute @workgroup_size(1)
fn commit() {
  let good = guard_words[0] != commit_params.step + 1u;
  for (var k = 0u; k < 4u; k++) {
    if (good) {
      acc[k] = acc[k] + step_acc[k];
    }
    step_acc[k] = 0.0;
  }
}
