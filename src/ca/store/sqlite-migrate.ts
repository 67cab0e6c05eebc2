import type Database from 'better-sqlite3';
import { sqliteError } from './sqlite-connection.js';
import { type Migration, SQLITE_MIGRATIONS } from './sqlite-schema.js';
import { StoreError } from './types.js';

/**
 * Brings a SQLite store to the schema this code knows, at open. Safe with several processes
 * opening one file at once: the check is a plain read, and only when something is missing does a
 * process take the write lock (`BEGIN IMMEDIATE`, waiting out the others with the busy timeout),
 * read the version again under the lock, and apply the missing steps in that one transaction —
 * the others then find it done. A schema newer than this code → `schema-too-new`; a database
 * that has tables but no `schema_version` is not a fleetpki store and is left alone.
 */
export function migrateSqlite(
  db: Database.Database,
  migrations: readonly Migration[] = SQLITE_MIGRATIONS,
): number {
  const latest = migrations[migrations.length - 1]!.version;
  // One statement, so one snapshot: as two reads, another process's first migration could commit
  // between them, and the second read would see its schema_version as a foreign table.
  const current = () => {
    const { has, other } = db
      .prepare(
        `SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_version') AS has,
                (SELECT name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' LIMIT 1) AS other`,
      )
      .get() as { has: number; other: string | null };
    if (!has) {
      if (other !== null)
        throw new StoreError(
          'unavailable',
          `not a fleetpki store: it has table ${other} but no schema_version`,
        );
      return 0;
    }
    // The table and its rows commit in one transaction (below): seen, it has its rows.
    const row = db.prepare('SELECT max(version) AS v FROM schema_version').get() as { v: number | null };
    return row.v ?? 0;
  };
  const tooNew = (v: number) =>
    new StoreError(
      'schema-too-new',
      `the store's schema is version ${v}; this fleetpki knows up to ${latest}`,
    );

  try {
    const seen = current();
    if (seen > latest) throw tooNew(seen);
    if (seen === latest) return latest;
    db.prepare('BEGIN IMMEDIATE').run();
    try {
      const v = current();
      if (v > latest) throw tooNew(v);
      if (v === 0)
        db.exec(
          'CREATE TABLE schema_version (version INTEGER NOT NULL PRIMARY KEY, applied_at INTEGER NOT NULL, ' +
            'description TEXT NOT NULL) STRICT',
        );
      const record = db.prepare(
        'INSERT INTO schema_version (version, applied_at, description) VALUES (?, ?, ?)',
      );
      for (const m of migrations) {
        if (m.version <= v) continue;
        db.exec(m.sql);
        record.run(m.version, Date.now(), m.description);
      }
      db.prepare('COMMIT').run();
    } catch (e) {
      if (db.inTransaction) db.prepare('ROLLBACK').run();
      throw e;
    }
    return latest;
  } catch (e) {
    throw sqliteError(e, 'migrating the SQLite store');
  }
}
