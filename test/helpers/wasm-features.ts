// What the engine running the tests offers, asked directly, so a test can say which
// WebAssembly build must have loaded instead of accepting either. Plain code: the browser
// harness uses it too.

const v128Zero = [0xfd, 0x0c, ...new Array<number>(16).fill(0)];

/** A module of one function `() -> v128` with `body` (no locals), as bytes. */
function moduleWith(body: number[]): Uint8Array<ArrayBuffer> {
  const code = [0x00, ...body, 0x0b];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...[0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b], // type section: () -> v128
    ...[0x03, 0x02, 0x01, 0x00], // function section: one function of type 0
    ...[0x0a, code.length + 2, 0x01, code.length, ...code],
  ]);
}

/** Whether the engine validates `f32x4.relaxed_madd` (relaxed SIMD). */
export function hasRelaxedSimd(): boolean {
  return WebAssembly.validate(moduleWith([...v128Zero, ...v128Zero, ...v128Zero, 0xfd, 0x85, 0x02]));
}

/** Whether the engine validates `f32x4.add` (fixed-width SIMD). */
export function hasSimd(): boolean {
  return WebAssembly.validate(moduleWith([...v128Zero, ...v128Zero, 0xfd, 0xe4, 0x01]));
}

/** The build of the library's Wasm kernels that must load on this engine; null where none can. */
export function expectedWasmBuild(): 'relaxed-simd' | 'simd' | null {
  return hasRelaxedSimd() ? 'relaxed-simd' : hasSimd() ? 'simd' : null;
}
