import type { Storage } from '../../backend.js';
import { LimitError } from '../../errors.js';

/** Blocks start on a cache line, which also keeps every v128 access aligned. */
const ALIGN = 64;
/**
 * Bytes every tensor's block holds past its last element: a kernel may run a row's last f32x4
 * up to 3 floats beyond the row's end (kernels/rows.ts), and that must stay in the block.
 */
export const SLACK = 12;
const PAGE = 65536;
/** wasm32 addresses reach 4 GiB; engines may stop sooner, which `grow` reports. */
export const WASM_MEMORY_BYTES = 65536 * PAGE;

/** A tensor's elements: `length` float32 or int32 values (or halves) at byte `offset` of its heap's memory. */
export class WasmStorage implements Storage {
  constructor(
    readonly heap: WasmHeap,
    readonly offset: number,
    readonly length: number,
    /** 2 for float16 (half bits), else 4. */
    readonly elementBytes: 2 | 4 = 4,
  ) {}

  get byteLength(): number {
    return this.length * this.elementBytes;
  }
}

interface Block {
  offset: number;
  size: number;
}

/**
 * The blocks of one `WebAssembly.Memory`: first fit over a free list kept sorted by offset,
 * neighbours merged on free, the memory grown (by half its size at least) when nothing fits.
 *
 * `memory.grow` detaches every view of the old buffer, so nothing here keeps a view: `f32()`
 * and `i32()` hand out views of the current buffer, to be used before the next allocation.
 */
export class WasmHeap {
  #top = ALIGN;
  #free: Block[] = [];
  #liveBytes = 0;
  #peakBytes = 0;
  #views: { buffer: ArrayBuffer; f32: Float32Array; i32: Int32Array; u16: Uint16Array } | null = null;
  /** Frees the blocks of storages the app dropped without disposing their tensors. */
  readonly #finalizer = new FinalizationRegistry<Block>((b) => this.#release(b));

  /** A heap over `memory`, which may grow to `maxBytes` (a shared memory's maximum). */
  constructor(
    readonly memory = new WebAssembly.Memory({ initial: 1 }),
    readonly maxBytes = WASM_MEMORY_BYTES,
  ) {}

  /** A storage of `length` elements of `elementBytes` (and SLACK bytes); its bytes are whatever the block held before. */
  storage(length: number, elementBytes: 2 | 4 = 4): WasmStorage {
    const size = length === 0 ? 0 : roundUp(length * elementBytes + SLACK, ALIGN);
    const s = new WasmStorage(this, size === 0 ? 0 : this.alloc(size), length, elementBytes);
    if (size !== 0) this.#finalizer.register(s, { offset: s.offset, size }, s);
    return s;
  }

  /** Returns a storage's block for reuse; once only, which the context ensures. */
  release(s: WasmStorage): void {
    const size = s.length === 0 ? 0 : roundUp(s.byteLength + SLACK, ALIGN);
    if (size === 0) return;
    this.#finalizer.unregister(s);
    this.#release({ offset: s.offset, size });
  }

  /** A block of `bytes` (a multiple of 64) for scratch space; give it back with `free`. */
  alloc(bytes: number): number {
    const size = roundUp(bytes, ALIGN);
    this.#liveBytes += size;
    this.#peakBytes = Math.max(this.#peakBytes, this.#liveBytes);
    for (let i = 0; i < this.#free.length; i++) {
      const block = this.#free[i]!;
      if (block.size < size) continue;
      const offset = block.offset;
      if (block.size === size) this.#free.splice(i, 1);
      else {
        block.offset += size;
        block.size -= size;
      }
      return offset;
    }
    const offset = this.#top;
    this.#ensure(offset + size);
    this.#top = offset + size;
    return offset;
  }

  free(offset: number, bytes: number): void {
    this.#release({ offset, size: roundUp(bytes, ALIGN) });
  }

  /** The most bytes live blocks have held at once since the heap was made or `resetPeak`. */
  get peakBytes(): number {
    return this.#peakBytes;
  }

  resetPeak(): void {
    this.#peakBytes = this.#liveBytes;
  }

  /** Bytes of the memory that no live block holds: freed blocks and the space not yet handed out. */
  get spareBytes(): number {
    return this.memory.buffer.byteLength - this.#liveBytes;
  }

  f32(): Float32Array {
    return this.#current().f32;
  }

  i32(): Int32Array {
    return this.#current().i32;
  }

  u16(): Uint16Array {
    return this.#current().u16;
  }

  #current() {
    const buffer = this.memory.buffer;
    if (this.#views === null || this.#views.buffer !== buffer) {
      this.#views = { buffer, f32: new Float32Array(buffer), i32: new Int32Array(buffer), u16: new Uint16Array(buffer) };
    }
    return this.#views;
  }

  #ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const want = Math.min(Math.max(end, have + (have >> 1)), this.maxBytes);
    try {
      this.memory.grow(Math.ceil((want - have) / PAGE));
    } catch (cause) {
      try {
        this.memory.grow(Math.ceil((end - have) / PAGE));
      } catch {
        throw new LimitError(
          `cpu backend: needs ${end} bytes of WebAssembly memory, more than the ${have} this engine would grow to`,
          { cause },
        );
      }
    }
  }

  #release(block: Block): void {
    this.#liveBytes -= block.size;
    const free = this.#free;
    let i = 0;
    while (i < free.length && free[i]!.offset < block.offset) i++;
    const before = free[i - 1];
    const after = free[i];
    if (before !== undefined && before.offset + before.size === block.offset) {
      before.size += block.size;
      if (after !== undefined && block.offset + block.size === after.offset) {
        before.size += after.size;
        free.splice(i, 1);
      }
    } else if (after !== undefined && block.offset + block.size === after.offset) {
      after.offset = block.offset;
      after.size += block.size;
    } else {
      free.splice(i, 0, { ...block });
    }
    // A free block that ends at the top gives its space back to the top.
    const last = free[free.length - 1];
    if (last !== undefined && last.offset + last.size === this.#top) {
      this.#top = last.offset;
      free.pop();
    }
  }
}

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}
