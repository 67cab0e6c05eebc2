// Reads the export lists of our own entry points and finds where each name is declared and
// whether that declaration carries a doc comment — without the TypeScript compiler (TypeScript 7
// has no JS API). It understands the forms src/ uses: `export <kind> NAME`, `export { a, type B }
// from './x.js'`, `export { a }` of a local or imported name, and `export * from './x.js'`.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** What a declaration is, as the reviewed export list records it. */
export type Kind = 'function' | 'class' | 'const' | 'type' | 'interface' | 'enum';

/** One name of an entry point's `export { … } from` statements. */
export interface ExportedName {
  name: string;
  /** Exported with `type` (no run-time value). */
  typeOnly: boolean;
  /** The module it is re-exported from, resolved to a .ts file. */
  from: string;
  /** `orig as name`: the original name (aliases are refused at the root). */
  alias?: string;
}

export interface Declaration {
  file: string;
  kind: Kind;
  /** The doc comment directly above the declaration, if any. */
  doc?: string;
}

const sources = new Map<string, string>();
function read(file: string): string {
  let s = sources.get(file);
  if (s === undefined) {
    s = readFileSync(file, 'utf8');
    sources.set(file, s);
  }
  return s;
}

/** `./x.js` relative to `from` → the .ts file (or the folder's index.ts). */
export function resolveModule(from: string, spec: string): string {
  const base = join(dirname(from), spec.replace(/\.js$/, ''));
  for (const f of [`${base}.ts`, join(base, 'index.ts')]) if (existsSync(f)) return f;
  throw new Error(`cannot resolve ${spec} from ${from}`);
}

const EXPORT_FROM = /export\s+(type\s+)?\{([^}]*)\}\s*from\s*['"]([^'"]+)['"]/g;

/** The names an entry point exports through `export { … } from '…'` statements. */
export function exportList(file: string): ExportedName[] {
  const out: ExportedName[] = [];
  for (const m of read(file).matchAll(EXPORT_FROM))
    for (const raw of m[2]!.split(',')) {
      const part = raw.replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, '').trim();
      if (!part) continue;
      const typeOnly = m[1] !== undefined || part.startsWith('type ');
      const [orig, as] = part.replace(/^type\s+/, '').split(/\s+as\s+/);
      out.push({
        name: (as ?? orig)!,
        typeOnly,
        from: resolveModule(file, m[3]!),
        ...(as ? { alias: orig } : {}),
      });
    }
  return out;
}

/** `export *` statements of a module (refused at the root). */
export function starExports(file: string): string[] {
  return [...read(file).matchAll(/export\s*\*\s*(?:as\s+\w+\s+)?from\s*['"]([^'"]+)['"]/g)].map((m) => m[1]!);
}

const DECL = (name: string, exported: boolean) =>
  new RegExp(
    `^${exported ? 'export\\s+' : '(?:export\\s+)?'}(?:declare\\s+)?(?:abstract\\s+)?(?:async\\s+)?(function\\*?|class|const|let|type|interface|enum)\\s+${name}\\b`,
    'm',
  );

function docAbove(src: string, at: number): string | undefined {
  const before = src.slice(0, at).trimEnd();
  if (!before.endsWith('*/')) return undefined;
  const start = before.lastIndexOf('/**');
  if (start < 0 || before.lastIndexOf('*/', before.length - 3) > start) return undefined;
  return before.slice(start);
}

function kindOf(k: string): Kind {
  if (k.startsWith('function')) return 'function';
  if (k === 'let') return 'const';
  return k as Kind;
}

/**
 * Where `name`, exported by `file`, is declared: follows re-exports (named, of imports, and
 * `export *`) to the declaration, and reads the doc comment directly above it.
 */
export function findDeclaration(
  file: string,
  name: string,
  seen = new Set<string>(),
): Declaration | undefined {
  const key = `${file}#${name}`;
  if (seen.has(key)) return undefined;
  seen.add(key);
  const src = read(file);
  const own = DECL(name, true).exec(src);
  if (own) return { file, kind: kindOf(own[1]!), doc: docAbove(src, own.index) };
  for (const e of exportList(file))
    if (e.name === name) return findDeclaration(e.from, e.alias ?? name, seen);
  // `export { name }` / `export type { name }` without `from`: a local or an imported name.
  for (const m of src.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}\s*;/g)) {
    const parts = m[1]!.split(',').map((p) => p.trim().replace(/^type\s+/, ''));
    const hit = parts.find((p) => p.split(/\s+as\s+/).pop() === name);
    if (!hit) continue;
    const local = hit.split(/\s+as\s+/)[0]!;
    const decl = DECL(local, false).exec(src);
    if (decl) return { file, kind: kindOf(decl[1]!), doc: docAbove(src, decl.index) };
    for (const im of src.matchAll(/import\s+(?:type\s+)?\{([^}]*)\}\s*from\s*['"]([^'"]+)['"]/g))
      if (
        im[1]!.split(',').some(
          (p) =>
            p
              .trim()
              .replace(/^type\s+/, '')
              .split(/\s+as\s+/)
              .pop() === local,
        )
      )
        return findDeclaration(resolveModule(file, im[2]!), local, seen);
  }
  for (const spec of starExports(file)) {
    const d = findDeclaration(resolveModule(file, spec), name, seen);
    if (d) return d;
  }
  return undefined;
}

/** One line of the reviewed export list: `NAME KIND [node]`. */
export interface ListedName {
  name: string;
  kind: Kind;
  /** Only on the Node entry. */
  node: boolean;
  line: number;
}

/** Parses the reviewed list (`#` comments and blank lines ignored). */
export function readExportList(file: string): ListedName[] {
  const out: ListedName[] = [];
  read(file)
    .split('\n')
    .forEach((text, i) => {
      const t = text.replace(/#.*$/, '').trim();
      if (!t) return;
      const [name, kind, ...rest] = t.split(/\s+/);
      if (!['function', 'class', 'const', 'type', 'interface', 'enum'].includes(kind ?? ''))
        throw new Error(`${file}:${i + 1}: unknown kind "${kind}" for ${name}`);
      if (rest.length > 1 || (rest.length === 1 && rest[0] !== 'node'))
        throw new Error(`${file}:${i + 1}: expected "NAME KIND [node]"`);
      out.push({ name: name!, kind: kind as Kind, node: rest[0] === 'node', line: i + 1 });
    });
  return out;
}

/** Kinds that exist at run time (the others are erased). */
export const RUNTIME_KINDS: readonly Kind[] = ['function', 'class', 'const', 'enum'];
