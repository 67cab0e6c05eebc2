import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The dashboard's built files (src/web/ bundled by Vite: `npm run build` writes them to
 * `dist/web/`), read once into memory at start: a few hundred KiB.
 *
 * Layout of a build: `index.html` (the application), `login.html` (the login form), `assets/`
 * (the application's scripts and styles — served to admins only), `login/` (the login form's —
 * served to anyone), `.vite/manifest.json` (which file belongs to which entry). Every file under
 * `assets/` and `login/` has a content hash in its name, so it is cached as immutable.
 */
export interface Asset {
  body: Buffer;
  contentType: string;
  /** Strong validator: SHA-256 of the body (RFC 9110 §8.8.3). */
  etag: string;
}

export interface DashboardAssets {
  dir: string;
  app: Asset;
  login: Asset;
  /** By path under the build directory: `assets/index-abc.js`, `login/login-def.css`. */
  files: ReadonlyMap<string, Asset>;
}

/** Raised when a build directory is missing or incomplete. */
export class DashboardAssetsError extends Error {
  override readonly name = 'DashboardAssetsError';
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};
/** A build is a few hundred KiB; refuse to hold something much larger in memory. */
const MAX_TOTAL_BYTES = 16 * 1024 * 1024;
const MAX_FILES = 500;
/** The directories served, and whether a credential is needed. */
export const ASSET_DIRS = { assets: 'admin', login: 'public' } as const;

interface ManifestChunk {
  file: string;
  css?: string[];
  assets?: string[];
  imports?: string[];
  isEntry?: boolean;
}

/**
 * Where a build is looked for: beside the compiled server (`dist/server/dashboard/` →
 * `dist/web/`), then, when running from the sources with tsx, the package's `dist/web/`.
 */
export function defaultAssetsDirs(): string[] {
  return [
    fileURLToPath(new URL('../../web/', import.meta.url)),
    fileURLToPath(new URL('../../../dist/web/', import.meta.url)),
  ];
}

/** The first of `dirs` that holds a build, or undefined. */
export function findAssetsDir(dirs: readonly string[] = defaultAssetsDirs()): string | undefined {
  return dirs.find((d) => existsSync(join(d, '.vite', 'manifest.json')));
}

function asset(body: Buffer, path: string): Asset {
  return {
    body,
    contentType: TYPES[extname(path)] ?? 'application/octet-stream',
    etag: `"${createHash('sha256').update(body).digest('base64url')}"`,
  };
}

/** Reads a build. Throws `DashboardAssetsError` naming what is missing. */
export function loadDashboardAssets(dir: string): DashboardAssets {
  const manifestPath = join(dir, '.vite', 'manifest.json');
  if (!existsSync(manifestPath))
    throw new DashboardAssetsError(`${dir} holds no dashboard build (no .vite/manifest.json)`);
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, ManifestChunk>;
  // The login form is served before anyone logged in: all its files must be under login/.
  const loginFiles = new Set<string>();
  const collect = (key: string, depth: number) => {
    const c = manifest[key];
    if (!c || depth > 32) return;
    for (const f of [c.file, ...(c.css ?? []), ...(c.assets ?? [])]) loginFiles.add(f);
    for (const i of c.imports ?? []) collect(i, depth + 1);
  };
  if (!manifest['login.html']) throw new DashboardAssetsError(`${dir}: the build has no login.html entry`);
  collect('login.html', 0);
  for (const f of loginFiles)
    if (!f.startsWith('login/'))
      throw new DashboardAssetsError(`${dir}: the login page needs ${f}, which is not under login/`);

  const files = new Map<string, Asset>();
  let total = 0;
  for (const sub of Object.keys(ASSET_DIRS)) {
    const d = join(dir, sub);
    if (!existsSync(d)) continue;
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (!statSync(p).isFile()) continue;
      const body = readFileSync(p);
      total += body.length;
      if (total > MAX_TOTAL_BYTES || files.size >= MAX_FILES)
        throw new DashboardAssetsError(`${dir}: the build is larger than ${MAX_TOTAL_BYTES} bytes`);
      files.set(`${sub}/${name}`, asset(body, name));
    }
  }
  for (const f of loginFiles) if (!files.has(f)) throw new DashboardAssetsError(`${dir}: ${f} is missing`);
  const page = (name: string) => {
    const p = join(dir, name);
    if (!existsSync(p)) throw new DashboardAssetsError(`${dir}: ${name} is missing`);
    return asset(readFileSync(p), p);
  };
  return { dir, app: page('index.html'), login: page('login.html'), files };
}
