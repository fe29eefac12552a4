// Terminal output shared by `npm start` and the bin: a progress bar drawn in place on a
// terminal (never into a pipe or a file), and aligned tables.

/** `[#####.....]  5/10`: `done` of `total`, `width` characters wide. */
export function bar(done: number, total: number, width = 30): string {
  const filled = Math.round((Math.min(done, total) / total) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(done).padStart(String(total).length)}/${total}`;
}

/**
 * Redraws one status line on a terminal, at most every `everyMs` and only once `afterMs` have
 * passed since `start()` (short runs print no bar); `clear()` wipes it before a normal line.
 */
export class StatusLine {
  readonly #tty: boolean;
  #since = 0;
  #drawn = 0;
  #shown = false;

  constructor(
    readonly stream: NodeJS.WriteStream = process.stdout,
    readonly afterMs = 1000,
    readonly everyMs = 100,
  ) {
    this.#tty = stream.isTTY === true;
  }

  start(): void {
    this.#since = performance.now();
  }

  draw(text: () => string): void {
    if (!this.#tty) return;
    const now = performance.now();
    if (now - this.#since < this.afterMs || now - this.#drawn < this.everyMs) return;
    this.#drawn = now;
    this.#shown = true;
    this.stream.write(`\r${text()}\x1b[K`);
  }

  clear(): void {
    if (this.#shown) this.stream.write('\r\x1b[2K');
    this.#shown = false;
  }
}

/** Rows of cells, each column padded to its widest cell (right-aligned but the first). */
export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, j) => Math.max(...rows.map((r) => r[j]?.length ?? 0)));
  return rows.map((r) => r.map((cell, j) => (j === 0 ? cell.padEnd(widths[j]!) : cell.padStart(widths[j]!))).join('  ')).join('\n');
}
