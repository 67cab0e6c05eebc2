import Database from 'better-sqlite3';
import { StoreError, type StoreErrorCode } from './types.js';

/**
 * Opening a SQLite connection the way every fleetpki connection must be: WAL (readers never block
 * the writer), `synchronous = FULL` (a commit is on disk before it returns — WAL's default NORMAL
 * could lose the last commits on power loss), foreign keys on, and a busy timeout so that writers
 * in other processes are waited for rather than failed.
 */
export interface ConnectionOptions {
  /** How long a write waits for another process's transaction (SQLite busy timeout). */
  busyTimeoutMs: number;
  /** Page cache size in KiB for this connection. */
  cacheKiB: number;
}

export function openConnection(path: string, o: ConnectionOptions): Database.Database {
  let db: Database.Database;
  try {
    db = new Database(path, { timeout: o.busyTimeoutMs });
  } catch (e) {
    throw new StoreError('unavailable', `cannot open SQLite store ${path}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  try {
    // journal_mode is persistent: the first connection switches the file, the others see 'wal'.
    // Switching needs a moment without other connections, so retry a busy answer.
    let mode = '';
    for (let i = 0; i < 50; i++) {
      try {
        mode = String(db.pragma('journal_mode = WAL', { simple: true }));
        break;
      } catch (e) {
        if ((e as { code?: string }).code !== 'SQLITE_BUSY' || i === 49) throw e;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
      }
    }
    if (mode !== 'wal') throw new Error(`journal_mode is ${mode}, not wal`);
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma(`cache_size = -${Math.max(2000, Math.floor(o.cacheKiB))}`);
    // Keep the WAL from growing without bound between checkpoints (bytes).
    db.pragma('journal_size_limit = 67108864');
    db.pragma('temp_store = MEMORY');
  } catch (e) {
    db.close();
    throw sqliteError(e, `cannot open SQLite store ${path}`);
  }
  return db;
}

/** A StoreError for what better-sqlite3 threw: constraints by kind, everything else `unavailable`. */
export function sqliteError(e: unknown, context: string): StoreError {
  if (e instanceof StoreError) return e;
  const code = (e as { code?: unknown }).code;
  let mapped: StoreErrorCode = 'unavailable';
  if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') mapped = 'unknown-issuer';
  else if (typeof code === 'string' && code.startsWith('SQLITE_CONSTRAINT')) mapped = 'constraint';
  return new StoreError(mapped, `${context}: ${(e as Error).message ?? String(e)}`, { cause: e });
}
