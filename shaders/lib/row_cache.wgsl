// A row kept in workgroup memory between the two passes of a row-per-workgroup kernel, so
// that a row that fits is read from global memory once. planRows (src/webgpu/kernels/rows.ts)
// sizes CACHE, and leaves it at 1 where the row does not fit. The kernel that includes this
// declares `z`, the row-major values, and `params.cols`, the length of a row.

override CACHE: u32 = 1u;

var<workgroup> row_cache: array<f32, CACHE>;

fn row_is_cached() -> bool {
  return params.cols <= CACHE;
}

/// Column c of the row at `base`, on the first pass: kept for the second where the row fits.
fn first_pass_value(base: u32, c: u32) -> f32 {
  let v = z[base + c];
  if (row_is_cached()) {
    row_cache[c] = v;
  }
  return v;
}

/// Column c of the row at `base`, on the second pass: from workgroup memory where it was kept.
fn second_pass_value(base: u32, c: u32) -> f32 {
  if (row_is_cached()) {
    return row_cache[c];
  }
  return z[base + c];
}
