enable subgroups;

// Reduces row statistics across a workgroup with subgroup operations: each subgroup folds its
// lanes in registers, one elected lane per subgroup writes a slot, and every invocation folds
// the few slots. WGSL does not say how invocations map to subgroups, so slots are handed out
// with an atomic counter rather than computed from the invocation index.

var<workgroup> reduce_slots: array<vec4f, WG>;
var<workgroup> reduce_count: atomic<u32>;

fn workgroup_stats(v: vec4f, lid: u32) -> vec4f {
  if (lid == 0u) {
    atomicStore(&reduce_count, 0u);
  }
  let m = subgroupMax(v.x);
  var scaled = v.y;
  if (!is_neg_inf(v.x)) {
    scaled = v.y * exp(v.x - m);
  }
  let folded = vec4f(m, subgroupAdd(scaled), subgroupAdd(v.z), subgroupAdd(v.w));
  workgroupBarrier();
  if (subgroupElect()) {
    reduce_slots[atomicAdd(&reduce_count, 1u)] = folded;
  }
  workgroupBarrier();
  let slots = atomicLoad(&reduce_count);
  var total = stats_empty();
  for (var i = 0u; i < slots; i++) {
    total = stats_merge(total, reduce_slots[i]);
  }
  // The slots and the counter are reused by the next reduction.
  workgroupBarrier();
  return total;
}
