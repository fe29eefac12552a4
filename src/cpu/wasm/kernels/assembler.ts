// A small WebAssembly assembler: the kernels in this folder are TypeScript functions that
// write their instructions through it, and `moduleBytes` lays out the binary module.
//
// Why emit bytes from TypeScript (as jax-js does) rather than AssemblyScript or WAT + wabt:
// - no build step and no asset: the module is made at run time from code the bundler already
//   ships, so it loads unchanged in Node, in a browser without a bundler and in a Vite bundle;
// - the FMA build and the plain-SIMD build come from the same source, differing in the one
//   helper that writes a multiply-add, and tile shapes are unrolled by ordinary loops;
// - kernels work on raw addresses in one imported memory, which is all we need of a compiler.

export type ValType = 'i32' | 'f32' | 'f64' | 'v128';

const VAL: Record<ValType, number> = { i32: 0x7f, f32: 0x7d, f64: 0x7c, v128: 0x7b };

/** Instructions without immediates. */
const PLAIN = {
  'i32.eqz': [0x45], 'i32.eq': [0x46], 'i32.ne': [0x47], 'i32.lt_s': [0x48], 'i32.lt_u': [0x49],
  'i32.gt_s': [0x4a], 'i32.gt_u': [0x4b], 'i32.le_s': [0x4c], 'i32.ge_s': [0x4e], 'i32.ge_u': [0x4f],
  'i32.add': [0x6a], 'i32.sub': [0x6b], 'i32.mul': [0x6c], 'i32.and': [0x71], 'i32.or': [0x72],
  'i32.shl': [0x74], 'i32.shr_u': [0x76],
  'f32.eq': [0x5b], 'f32.ne': [0x5c], 'f32.lt': [0x5d], 'f32.gt': [0x5e], 'f32.le': [0x5f], 'f32.ge': [0x60],
  'f32.abs': [0x8b], 'f32.neg': [0x8c], 'f32.sqrt': [0x91], 'f32.add': [0x92], 'f32.sub': [0x93],
  'f32.mul': [0x94], 'f32.div': [0x95], 'f32.min': [0x96], 'f32.max': [0x97],
  'f32.convert_i32_s': [0xb2], 'f32.demote_f64': [0xb6], 'f64.promote_f32': [0xbb],
  select: [0x1b], drop: [0x1a], return: [0x0f],
  'f32x4.splat': simd(0x13), 'i32x4.splat': simd(0x11),
  'f32x4.eq': simd(0x41), 'f32x4.ne': simd(0x42), 'f32x4.lt': simd(0x43), 'f32x4.gt': simd(0x44),
  'f32x4.le': simd(0x45), 'f32x4.ge': simd(0x46),
  'v128.not': simd(0x4d), 'v128.and': simd(0x4e), 'v128.andnot': simd(0x4f), 'v128.or': simd(0x50),
  'v128.xor': simd(0x51), 'v128.bitselect': simd(0x52), 'v128.any_true': simd(0x53),
  'f32x4.nearest': simd(0x6a),
  'i32x4.lt_s': simd(0x39), 'i32x4.gt_s': simd(0x3b), 'i32x4.extend_low_i16x8_u': simd(0xa9),
  'i32x4.shl': simd(0xab), 'i32x4.add': simd(0xae), 'i32x4.sub': simd(0xb1),
  'f32x4.abs': simd(0xe0), 'f32x4.neg': simd(0xe1), 'f32x4.sqrt': simd(0xe3), 'f32x4.add': simd(0xe4),
  'f32x4.sub': simd(0xe5), 'f32x4.mul': simd(0xe6), 'f32x4.div': simd(0xe7), 'f32x4.min': simd(0xe8),
  'f32x4.max': simd(0xe9), 'f32x4.pmin': simd(0xea), 'f32x4.pmax': simd(0xeb),
  'i32x4.trunc_sat_f32x4_s': simd(0xf8), 'f32x4.convert_i32x4_s': simd(0xfa),
  'f32x4.relaxed_madd': simd(0x105),
} as const;

/** Loads and stores: opcode and natural alignment (log2 bytes). */
const MEMORY = {
  'i32.load': [[0x28], 2], 'f32.load': [[0x2a], 2], 'i32.store': [[0x36], 2], 'f32.store': [[0x38], 2],
  'v128.load': [simd(0x00), 4], 'v128.load32_splat': [simd(0x09), 2], 'v128.store': [simd(0x0b), 4],
  'v128.load64_zero': [simd(0x5d), 3],
} as const satisfies Record<string, readonly [readonly number[], number]>;

export type PlainOp = keyof typeof PLAIN;
export type MemoryOp = keyof typeof MEMORY;

function simd(op: number): number[] {
  return [0xfd, ...uleb(op)];
}

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function name(s: string): number[] {
  return vec([...new TextEncoder().encode(s)].map((b) => [b]));
}

/** A local variable (parameters included) of the function being written. */
export interface Local {
  readonly index: number;
  readonly type: ValType;
}

/** One function's signature, locals and instructions. */
export class FunctionBuilder {
  readonly params: Local[];
  readonly #locals: Local[] = [];
  readonly #code: number[] = [];

  constructor(
    readonly exportName: string,
    params: readonly ValType[],
    readonly results: readonly ValType[] = [],
  ) {
    this.params = params.map((type, index) => ({ index, type }));
  }

  local(type: ValType): Local {
    const l = { index: this.params.length + this.#locals.length, type };
    this.#locals.push(l);
    return l;
  }

  op(...ops: PlainOp[]): this {
    for (const o of ops) this.#code.push(...PLAIN[o]);
    return this;
  }

  get(l: Local): this {
    this.#code.push(0x20, ...uleb(l.index));
    return this;
  }

  set(l: Local): this {
    this.#code.push(0x21, ...uleb(l.index));
    return this;
  }

  tee(l: Local): this {
    this.#code.push(0x22, ...uleb(l.index));
    return this;
  }

  i32(n: number): this {
    this.#code.push(0x41, ...sleb(n | 0));
    return this;
  }

  f32(x: number): this {
    this.#code.push(0x43, ...new Uint8Array(Float32Array.of(x).buffer));
    return this;
  }

  /** A v128 with the same float32 in every lane. */
  f32x4(x: number): this {
    this.#code.push(...simd(0x0c), ...new Uint8Array(Float32Array.of(x, x, x, x).buffer));
    return this;
  }

  /** A v128 of four int32 (the same in every lane when only one is given). */
  i32x4(...lanes: [number] | [number, number, number, number]): this {
    const [a, b = a, c = a, d = a] = lanes;
    this.#code.push(...simd(0x0c), ...new Uint8Array(Int32Array.of(a, b, c, d).buffer));
    return this;
  }

  /** Calls the function at `index` in the module's function space (imports first). */
  call(index: number): this {
    this.#code.push(0x10, ...uleb(index));
    return this;
  }

  mem(o: MemoryOp, offset = 0): this {
    const [code, align] = MEMORY[o];
    this.#code.push(...code, ...uleb(align), ...uleb(offset));
    return this;
  }

  /** `f32x4.extract_lane` and `f32x4.replace_lane`. */
  lane(kind: 'extract' | 'replace', lane: number): this {
    this.#code.push(...simd(kind === 'extract' ? 0x1f : 0x20), lane);
    return this;
  }

  /** `i8x16.shuffle` of two v128 by 32-bit lanes (0-3 from the first, 4-7 from the second). */
  shuffle32(lanes: readonly [number, number, number, number]): this {
    this.#code.push(...simd(0x0d), ...lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]));
    return this;
  }

  /** `block … end`: `br 0` inside jumps past the end. */
  block(body: () => void): this {
    this.#code.push(0x02, 0x40);
    body();
    this.#code.push(0x0b);
    return this;
  }

  /** `loop … end`: `br 0` inside jumps back to the top. */
  loop(body: () => void): this {
    this.#code.push(0x03, 0x40);
    body();
    this.#code.push(0x0b);
    return this;
  }

  /** `if … (else …) end` on the i32 on the stack. */
  if(then: () => void, otherwise?: () => void): this {
    this.#code.push(0x04, 0x40);
    then();
    if (otherwise !== undefined) {
      this.#code.push(0x05);
      otherwise();
    }
    this.#code.push(0x0b);
    return this;
  }

  br(depth: number): this {
    this.#code.push(0x0c, ...uleb(depth));
    return this;
  }

  brIf(depth: number): this {
    this.#code.push(0x0d, ...uleb(depth));
    return this;
  }

  /** `for (i = start; i < end; i += step) body()`, with `i`, `end` and `step` i32 locals or constants. */
  forRange(i: Local, start: Local | number, end: Local, step: number, body: () => void): this {
    this.#push(start).set(i);
    return this.block(() => {
      this.get(i).get(end).op('i32.ge_s').brIf(0);
      this.loop(() => {
        body();
        this.get(i).i32(step).op('i32.add').tee(i).get(end).op('i32.lt_s').brIf(0);
      });
    });
  }

  #push(v: Local | number): this {
    return typeof v === 'number' ? this.i32(v) : this.get(v);
  }

  /** The function body as the code section stores it. */
  body(): number[] {
    const groups = this.#locals.map((l) => [1, VAL[l.type]]);
    const bytes = [...vec(groups), ...this.#code, 0x0b];
    return [...uleb(bytes.length), ...bytes];
  }
}

/** A JavaScript function the module imports from `env`; `call(index)` reaches the i-th one as i. */
export interface FunctionImport {
  readonly name: string;
  readonly params: readonly ValType[];
  readonly results: readonly ValType[];
}

/**
 * A module that imports its memory as `env.memory` and `imported` functions from `env`, and
 * exports every function by name. With `sharedPages`, the memory it imports is a shared one of
 * at most that many pages (threads: a module may import a shared memory only if it says so).
 */
export function moduleBytes(functions: readonly FunctionBuilder[], imported: readonly FunctionImport[] = [], sharedPages?: number): Uint8Array<ArrayBuffer> {
  const section = (id: number, content: number[]) => [id, ...uleb(content.length), ...content];
  const signature = (params: readonly ValType[], results: readonly ValType[]) => [0x60, ...vec(params.map((p) => [VAL[p]])), ...vec(results.map((r) => [VAL[r]]))];
  const types = [...imported.map((i) => signature(i.params, i.results)), ...functions.map((f) => signature(f.params.map((p) => p.type), f.results))];
  const imports = vec([
    [...name('env'), ...name('memory'), 0x02, ...(sharedPages === undefined ? [0x00, 0x01] : [0x03, 0x01, ...uleb(sharedPages)])],
    ...imported.map((i, index) => [...name('env'), ...name(i.name), 0x00, ...uleb(index)]),
  ]);
  const first = imported.length;
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(2, imports),
    ...section(3, vec(functions.map((_, i) => uleb(first + i)))),
    ...section(7, vec(functions.map((f, i) => [...name(f.exportName), 0x00, ...uleb(first + i)]))),
    ...section(10, vec(functions.map((f) => f.body()))),
  ];
  return new Uint8Array(bytes);
}
