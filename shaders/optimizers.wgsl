// Optimizer steps, in place, one invocation per parameter (the grid folded past 65535
// workgroups). Each follows PyTorch's update order; src/cpu/train.ts rounds the same
// operations to float32 in the same order, so both backends take the same steps.

override WG: u32 = 256u;

struct Sgd {
  elements: u32,
  learning_rate: f32,
  momentum: f32,
  weight_decay: f32,
  use_momentum: u32,
  nesterov: u32,
}

struct Adam {
  elements: u32,
  /// learning_rate / (1 - beta1^t)
  step_size: f32,
  beta1: f32,
  beta2: f32,
  epsilon: f32,
  weight_decay: f32,
  /// sqrt(1 - beta2^t)
  correction2_sqrt: f32,
}

@group(0) @binding(0) var<storage, read> grad: array<f32>;
@group(0) @binding(1) var<storage, read_write> param: array<f32>;
@group(0) @binding(2) var<storage, read_write> state1: array<f32>;
@group(0) @binding(3) var<storage, read_write> state2: array<f32>;
@group(0) @binding(4) var<uniform> sgd_params: Sgd;
@group(0) @binding(4) var<uniform> adam_params: Adam;

fn element(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * WG;
}

/// g += weight_decay * p; v = momentum * v + g; p -= lr * (nesterov ? g + momentum * v : v).
/// state1 is the velocity, used only with momentum.
@compute @workgroup_size(WG)
fn sgd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = element(gid, groups);
  if (i >= sgd_params.elements) {
    return;
  }
  var d = grad[i] + sgd_params.weight_decay * param[i];
  if (sgd_params.use_momentum != 0u) {
    let v = sgd_params.momentum * state1[i] + d;
    state1[i] = v;
    if (sgd_params.nesterov != 0u) {
      d = d + sgd_params.momentum * v;
    } else {
      d = v;
    }
  }
  param[i] = param[i] - sgd_params.learning_rate * d;
}

/// m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g²; p -= step_size * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
/// state1 is m, state2 is v.
@compute @workgroup_size(WG)
fn adam(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = element(gid, groups);
  if (i >= adam_params.elements) {
    return;
  }
  let d = grad[i] + adam_params.weight_decay * param[i];
  let m = adam_params.beta1 * state1[i] + (1.0 - adam_params.beta1) * d;
  let v = adam_params.beta2 * state2[i] + (1.0 - adam_params.beta2) * d * d;
  state1[i] = m;
  state2[i] = v;
  let denom = sqrt(v) / adam_params.correction2_sqrt + adam_params.epsilon;
  param[i] = param[i] - adam_params.step_size * (m / denom);
}
