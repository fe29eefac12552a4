/** One named piece of WGSL, as it stands in `shaders/`. */
export interface ShaderPart {
  readonly name: string;
  readonly code: string;
}

/**
 * A WGSL module put together from parts (the shared `lib/` pieces and a kernel file), with
 * each part's place remembered so compile errors point into the file that has the bug.
 * `enable` directives must come first in WGSL, so they are hoisted out of the parts.
 */
export class ComposedShader {
  readonly code: string;
  readonly key: string;
  readonly #spans: { name: string; first: number; lines: number }[] = [];

  constructor(parts: readonly ShaderPart[]) {
    const enables = new Set<string>();
    const lines: string[] = [];
    for (const part of parts) {
      const body = part.code.split('\n').map((line) => {
        if (/^\s*enable\s+[\w\s,]+;\s*$/.test(line)) {
          enables.add(line.trim());
          return '';
        }
        return line;
      });
      this.#spans.push({ name: part.name, first: lines.length, lines: body.length });
      lines.push(...body);
    }
    const header = [...enables];
    this.#spans = this.#spans.map((s) => ({ ...s, first: s.first + header.length }));
    this.code = [...header, ...lines].join('\n');
    this.key = parts.map((p) => p.name).join('+');
  }

  /** Maps a 1-based line of the composed module to `file.wgsl:line`. */
  locate(line: number): string {
    const span = this.#spans.find((s) => line - 1 >= s.first && line - 1 < s.first + s.lines);
    return span === undefined ? `${this.key}:${line}` : `${span.name}:${line - span.first}`;
  }
}
