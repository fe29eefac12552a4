// Reduces row statistics across a workgroup of WG invocations (a power of two) through
// workgroup memory: a tree of log2(WG) steps. Every invocation gets the result.

var<workgroup> reduce_slots: array<vec4f, WG>;

fn workgroup_stats(v: vec4f, lid: u32) -> vec4f {
  reduce_slots[lid] = v;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
    if (lid < stride) {
      reduce_slots[lid] = stats_merge(reduce_slots[lid], reduce_slots[lid + stride]);
    }
    workgroupBarrier();
  }
  let total = reduce_slots[0];
  // The slots are reused by the next reduction: nobody may write before everyone has read.
  workgroupBarrier();
  return total;
}
