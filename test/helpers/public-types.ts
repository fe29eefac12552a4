import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Reads src/ as text to find every object type a caller can hand the public API: the types
// src/index.ts exports, the parameter types of the exported classes' methods and functions,
// and, through the members of those, every nested one (an optimizer, a schedule, a batch).
// A light parser, not a compiler: enough for this code base's declarations, which are
// `export interface Name … { … }` and `export type Name = …;`.

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

interface Declaration {
  readonly kind: 'interface' | 'type';
  readonly name: string;
  /** The body (members of an interface, the right-hand side of a type), with `extends` parents prepended. */
  readonly text: string;
  readonly file: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** The index just past the bracket that closes the one at `open`. */
function closing(text: string, open: number): number {
  const pairs: Record<string, string> = { '{': '}', '(': ')', '[': ']', '<': '>' };
  const stack: string[] = [];
  for (let i = open; i < text.length; i++) {
    const c = text[i]!;
    if (c === '=' && text[i + 1] === '>') {
      i++;
      continue;
    }
    if (c in pairs) stack.push(pairs[c]!);
    else if (c === stack.at(-1)) {
      stack.pop();
      if (stack.length === 0) return i + 1;
    }
  }
  return text.length;
}

/** Comments out, so that their words do not read as type references. */
function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/[^\n]*/g, '');
}

const files = sourceFiles(SRC).map((path) => ({ path, text: stripComments(readFileSync(path, 'utf8')) }));

const declarations = new Map<string, Declaration[]>();
/** Per file, `import { A as B }` names: B → A. */
const importAliases = new Map<string, Map<string, string>>();

for (const { path, text } of files) {
  for (const m of text.matchAll(/export interface (\w+)(<[^{]*?>)?(?:\s+extends\s+([^{]+))?\s*\{/g)) {
    const open = m.index + m[0].length - 1;
    const body = text.slice(open, closing(text, open));
    add({ kind: 'interface', name: m[1]!, text: `${m[3] ?? ''} ${body}`, file: path });
  }
  for (const m of text.matchAll(/export type (\w+)(<[^=]*?>)?\s*=/g)) {
    let end = m.index + m[0].length;
    while (end < text.length && text[end] !== ';') end = '{([<'.includes(text[end]!) ? closing(text, end) : end + 1;
    add({ kind: 'type', name: m[1]!, text: text.slice(m.index + m[0].length, end), file: path });
  }
  const aliases = new Map<string, string>();
  for (const m of text.matchAll(/import (?:type )?\{([^}]*)\}/g)) {
    for (const part of m[1]!.split(',')) {
      const alias = /(?:type\s+)?(\w+)\s+as\s+(\w+)/.exec(part.trim());
      if (alias) aliases.set(alias[2]!, alias[1]!);
    }
  }
  importAliases.set(path, aliases);
}

function add(d: Declaration): void {
  declarations.set(d.name, [...(declarations.get(d.name) ?? []), d]);
}

/**
 * The type names a piece of type text refers to, leaving out the parameters of function types
 * (`onEpochEnd: (logs: EpochLogs) => void` hands EpochLogs out, it does not take it in).
 */
function references(typeText: string, file: string | null): string[] {
  const text = withoutCallbackParameters(typeText);
  const aliases = file === null ? new Map<string, string>() : importAliases.get(file)!;
  return [...text.matchAll(/\b[A-Z]\w*/g)].map((m) => aliases.get(m[0]) ?? m[0]).filter((n) => declarations.has(n));
}

function withoutCallbackParameters(typeText: string): string {
  let text = typeText;
  for (let before = ''; before !== text; ) {
    before = text;
    text = text.replace(/\(([^()]*)\)\s*=>/g, '=>');
  }
  return text;
}

/** The names src/index.ts exports: types, classes and functions. */
function indexExports(): { types: string[]; values: string[] } {
  const index = files.find((f) => f.path === join(SRC, 'index.ts'))!.text;
  const types: string[] = [];
  const values: string[] = [];
  for (const m of index.matchAll(/export (type )?\{([^}]*)\}/g)) {
    for (const part of m[2]!.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
      const isType = m[1] !== undefined || part.startsWith('type ');
      const name = part.replace(/^type\s+/, '').split(/\s+as\s+/).at(-1)!;
      (isType ? types : values).push(name);
    }
  }
  return { types, values };
}

/** Parameter lists of the public methods of `className`, or of the exported function `name`, with their file. */
function parameterLists(name: string): { file: string; method: string; params: string[] }[] {
  const found: { file: string; method: string; params: string[] }[] = [];
  for (const { path, text } of files) {
    const cls = new RegExp(`export (?:abstract )?class ${name}\\b([^{]*)\\{`).exec(text);
    if (cls) {
      // The methods a class inherits are its public methods too.
      const parent = /extends\s+(\w+)/.exec(cls[1]!);
      if (parent) found.push(...parameterLists(parent[1]!).map((p) => ({ ...p, method: p.method.replace(/^\w+\./, `${name}.`) })));
      const open = cls.index + cls[0].length - 1;
      const body = text.slice(open + 1, closing(text, open) - 1);
      for (const m of body.matchAll(/\n {2}(?:static\s+)?(?:async\s+)?(?:get\s+|set\s+)?([\w$]+)(?:<[^(]*>)?\(/g)) {
        if (m[1] === 'constructor') continue;
        const start = m.index + m[0].length - 1;
        found.push({ file: path, method: `${name}.${m[1]}`, params: [body.slice(start + 1, closing(body, start) - 1)] });
      }
    }
    const fn = new RegExp(`export (?:async )?function ${name}(?:<[^(]*>)?\\(`).exec(text);
    if (fn) {
      const start = fn.index + fn[0].length - 1;
      found.push({ file: path, method: name, params: [text.slice(start + 1, closing(text, start) - 1)] });
    }
  }
  return found;
}

/** An object type found, and how it was reached (for the failure message). */
export interface PublicObjectType {
  readonly name: string;
  readonly via: string;
}

/**
 * Every object type (an interface, or a type alias with an object literal in it) that the
 * public API takes, directly or nested, that is not in `outputs`: the types the API only hands
 * out, whose members are not followed. Type aliases without an object literal (unions such as
 * `OptimizerOptions`) are walked through, not reported.
 */
export function publicInputTypes(outputs: ReadonlySet<string>): PublicObjectType[] {
  const { types, values } = indexExports();
  const queue: { name: string; via: string }[] = types.map((name) => ({ name, via: 'exported by src/index.ts' }));
  // An object type written inline in a public signature has no name to probe: it must get one.
  const inline: PublicObjectType[] = [];
  for (const value of values) {
    for (const { file, method, params } of parameterLists(value)) {
      for (const name of params.flatMap((p) => references(p, file))) queue.push({ name, via: `a parameter of ${method}` });
      if (params.some((p) => withoutCallbackParameters(p).replace(/=\s*\{\s*\}/g, '').includes('{'))) inline.push({ name: `${method} (an inline object type)`, via: 'a public signature' });
    }
  }
  const seen = new Map<string, PublicObjectType>();
  while (queue.length > 0) {
    const { name, via } = queue.shift()!;
    if (seen.has(name)) continue;
    const decls = declarations.get(name);
    if (decls === undefined) continue;
    const isObject = decls.some((d) => d.kind === 'interface' || d.text.includes('{'));
    seen.set(name, { name, via });
    if (isObject && outputs.has(name)) continue;
    for (const d of decls) for (const ref of references(d.text, d.file)) queue.push({ name: ref, via: `a member of ${name}` });
  }
  return [...inline, ...[...seen.values()].filter(({ name }) => declarations.get(name)!.some((d) => d.kind === 'interface' || d.text.includes('{')))];
}
