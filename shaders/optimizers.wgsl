// Optimizer steps, in place, one invocation per parameter (the grid folded past 65535
// workgroups). Each follows PyTorch's update order; src/cpu/train.ts rounds the same
// operations to float32 in the same order, so both backends take the same steps. Under the
// non-finite guard (guard.wgsl), a step its checks marked as bad writes nothing.

override WG: u32 = 256u;

// Each struct's guard_mode says how a step reads the guard's words: 0 without a guard, 1
// skipping only a bad step (`nonFinite: 'skip'`), 2 skipping every step once one was bad
// (`'error'`); guard_step is the step's index in the run.

struct Sgd {
  elements: u32,
  guard_mode: u32,
  guard_step: u32,
  learning_rate: f32,
  momentum: f32,
  weight_decay: f32,
  use_momentum: u32,
  nesterov: u32,
}

struct Adam {
  elements: u32,
  guard_mode: u32,
  guard_step: u32,
  /// learning_rate / (1 - beta1^t)
  step_size: f32,
  beta1: f32,
  beta2: f32,
  epsilon: f32,
  weight_decay: f32,
  /// sqrt(1 - beta2^t)
  correction2_sqrt: f32,
}

struct AdamW {
  elements: u32,
  guard_mode: u32,
  guard_step: u32,
  /// 1 - learning_rate * weight_decay
  param_scale: f32,
  step_size: f32,
  beta1: f32,
  beta2: f32,
  epsilon: f32,
  correction2_sqrt: f32,
}

struct Rmsprop {
  elements: u32,
  guard_mode: u32,
  guard_step: u32,
  learning_rate: f32,
  alpha: f32,
  epsilon: f32,
  weight_decay: f32,
  momentum: f32,
  centered: u32,
  use_momentum: u32,
}

@group(0) @binding(0) var<storage, read> grad: array<f32>;
@group(0) @binding(1) var<storage, read> guard_words: array<u32>;
@group(0) @binding(2) var<storage, read_write> param: array<f32>;
@group(0) @binding(3) var<storage, read_write> state1: array<f32>;
@group(0) @binding(4) var<storage, read_write> state2: array<f32>;
@group(0) @binding(5) var<uniform> sgd_params: Sgd;
@group(0) @binding(5) var<uniform> adam_params: Adam;
@group(0) @binding(5) var<uniform> adamw_params: AdamW;
// RMSprop has a third state (the momentum buffer), so its uniform comes one binding later.
@group(0) @binding(5) var<storage, read_write> state3: array<f32>;
@group(0) @binding(6) var<uniform> rmsprop_params: Rmsprop;

/// Whether the guard skips this step, given the guard's first word (the last bad step + 1).
fn skipped(mode: u32, step: u32, last_bad: u32) -> bool {
  return (mode == 1u && last_bad == step + 1u) || (mode == 2u && last_bad != 0u);
}

fn element(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * WG;
}

/// g += weight_decay * p; v = momentum * v + g; p -= lr * (nesterov ? g + momentum * v : v).
/// state1 is the velocity, used only with momentum.
@compute @workgroup_size(WG)
fn sgd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = element(gid, groups);
  if (i >= sgd_params.elements || skipped(sgd_params.guard_mode, sgd_params.guard_step, guard_words[0])) {
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
  if (i >= adam_params.elements || skipped(adam_params.guard_mode, adam_params.guard_step, guard_words[0])) {
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

/// AdamW: p *= 1 - lr * weight_decay, then Adam's update without an L2 term.
@compute @workgroup_size(WG)
fn adamw(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = element(gid, groups);
  if (i >= adamw_params.elements || skipped(adamw_params.guard_mode, adamw_params.guard_step, guard_words[0])) {
    return;
  }
  let d = grad[i];
  let m = adamw_params.beta1 * state1[i] + (1.0 - adamw_params.beta1) * d;
  let v = adamw_params.beta2 * state2[i] + (1.0 - adamw_params.beta2) * d * d;
  state1[i] = m;
  state2[i] = v;
  let denom = sqrt(v) / adamw_params.correction2_sqrt + adamw_params.epsilon;
  param[i] = param[i] * adamw_params.param_scale - adamw_params.step_size * (m / denom);
}

/// g += weight_decay * p; s = alpha s + (1 - alpha) g²; centered: a = alpha a + (1 - alpha) g, s - a²
/// under the root; momentum: b = momentum b + g / denom, p -= lr b; else p -= lr g / denom.
/// state1 is s, state2 is a (centered only), state3 is b (momentum only).
@compute @workgroup_size(WG)
fn rmsprop(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = element(gid, groups);
  if (i >= rmsprop_params.elements || skipped(rmsprop_params.guard_mode, rmsprop_params.guard_step, guard_words[0])) {
    return;
  }
  let rest = 1.0 - rmsprop_params.alpha;
  let d = grad[i] + rmsprop_params.weight_decay * param[i];
  let s = rmsprop_params.alpha * state1[i] + rest * d * d;
  state1[i] = s;
  var variance = s;
  if (rmsprop_params.centered != 0u) {
    let a = rmsprop_params.alpha * state2[i] + rest * d;
    state2[i] = a;
    variance = s - a * a;
  }
  var step = d / (sqrt(variance) + rmsprop_params.epsilon);
  if (rmsprop_params.use_momentum != 0u) {
    step = rmsprop_params.momentum * state3[i] + step;
    state3[i] = step;
  }
  param[i] = param[i] - rmsprop_params.learning_rate * step;
}
