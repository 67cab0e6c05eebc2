import type { PostgresStoreOptions } from './postgres.js';
import { SqliteStore, type SqliteStoreOptions } from './sqlite.js';
import { type Store, StoreError } from './types.js';

export { CRLS_KEPT } from './ops.js';
export type { PostgresStore, PostgresStoreOptions } from './postgres.js';
export { MAX_PAGE } from './search.js';
export { SqliteStore, type SqliteStoreOptions } from './sqlite.js';
export * from './types.js';

/** Per-backend options for `openStore`. */
export interface OpenStoreOptions {
  sqlite?: SqliteStoreOptions;
  postgres?: PostgresStoreOptions;
}

/** Where a store URL points. */
export type StoreLocation = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

/**
 * Parses a store URL: `sqlite:PATH` (also `sqlite://PATH`, so `sqlite:///abs/path` is absolute),
 * a bare file path (SQLite), or `postgres://…` / `postgresql://…` (a libpq connection URI).
 * Anything else is `StoreError('bad-url')`. The default location is the caller's choice.
 */
export function parseStoreUrl(url: string): StoreLocation {
  if (typeof url !== 'string' || url.trim() === '') throw new StoreError('bad-url', 'empty store URL');
  if (/^postgres(ql)?:\/\//i.test(url)) return { kind: 'postgres', url };
  let path = url;
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]+):/.exec(url);
  if (scheme) {
    if (scheme[1]!.toLowerCase() !== 'sqlite')
      throw new StoreError(
        'bad-url',
        `unknown store URL scheme ${scheme[1]}: (expected sqlite:PATH, a file path, or postgres://…)`,
      );
    path = url.slice(scheme[0].length);
    if (path.startsWith('//')) path = path.slice(2);
  }
  if (path === '') throw new StoreError('bad-url', `no file path in ${url}`);
  // One file shared by two connections (and by other processes): an in-memory database cannot be.
  if (path === ':memory:' || path.startsWith('file:'))
    throw new StoreError('bad-url', `${url}: the SQLite store needs a file path`);
  return { kind: 'sqlite', path };
}

/**
 * Opens the store a URL names (see `parseStoreUrl`), creating and migrating its schema as needed.
 *
 * ```ts
 * const store = await openStore('sqlite:./fleetpki-data/fleetpki.db');
 * const store2 = await openStore(process.env.DATABASE_URL!);   // postgres://user@host/db
 * ```
 */
export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<Store> {
  const where = parseStoreUrl(url);
  if (where.kind === 'sqlite') return SqliteStore.open(where.path, options.sqlite);
  // Loaded on demand: the embedded default does not pay for the pg driver.
  const { PostgresStore } = await import('./postgres.js');
  return PostgresStore.open(where.url, options.postgres);
}
