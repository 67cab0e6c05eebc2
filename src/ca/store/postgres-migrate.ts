import type pg from 'pg';
import { pgError } from './postgres-error.js';
import { POSTGRES_MIGRATIONS } from './postgres-schema.js';
import type { Migration } from './sqlite-schema.js';
import { StoreError } from './types.js';

/**
 * Brings a PostgreSQL store (the connection's current schema) to the schema this code knows, at
 * open. Several instances starting at once: a plain read first; only when something is missing
 * does one take a transaction-scoped advisory lock (per schema), read the version again, and apply
 * the missing steps in that transaction — DDL is transactional, so the others, waiting on the lock,
 * find it done. Newer than this code → `schema-too-new`; a schema with tables but no
 * `schema_version` is not a fleetpki store and is left alone.
 */
export async function migratePostgres(
  pool: pg.Pool,
  migrations: readonly Migration[] = POSTGRES_MIGRATIONS,
): Promise<number> {
  const latest = migrations[migrations.length - 1]!.version;
  const tooNew = (v: number) =>
    new StoreError(
      'schema-too-new',
      `the store's schema is version ${v}; this fleetpki knows up to ${latest}`,
    );
  const client = await pool.connect().catch((e: unknown) => {
    throw pgError(e, 'cannot connect to PostgreSQL');
  });
  try {
    const seen = await currentVersion(client);
    if (seen > latest) throw tooNew(seen);
    if (seen === latest) return latest;
    await client.query('BEGIN');
    try {
      await client.query(`SELECT pg_advisory_xact_lock(hashtext('fleetpki:migrate:' || current_schema()))`);
      const v = await currentVersion(client);
      if (v > latest) throw tooNew(v);
      if (v === 0) {
        const other = await client.query(
          `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() LIMIT 1`,
        );
        if (other.rowCount)
          throw new StoreError(
            'unavailable',
            `not a fleetpki store: schema has table ${other.rows[0].tablename} but no schema_version`,
          );
        await client.query(
          'CREATE TABLE schema_version (version integer NOT NULL PRIMARY KEY, applied_at bigint NOT NULL, ' +
            'description text NOT NULL)',
        );
      }
      for (const m of migrations) {
        if (m.version <= v) continue;
        await client.query(m.sql);
        await client.query(
          'INSERT INTO schema_version (version, applied_at, description) VALUES ($1, $2, $3)',
          [m.version, Date.now(), m.description],
        );
      }
      await client.query('COMMIT');
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      throw e;
    }
    return latest;
  } catch (e) {
    throw pgError(e, 'migrating the PostgreSQL store');
  } finally {
    client.release();
  }
}

async function currentVersion(client: pg.PoolClient): Promise<number> {
  // A plain MVCC read of the catalog: after waiting for another instance's migration it sees the
  // tables that migration committed.
  const schema = await client.query(
    `SELECT current_schema() AS s, EXISTS (SELECT 1 FROM pg_tables
       WHERE schemaname = current_schema() AND tablename = 'schema_version') AS t`,
  );
  if (schema.rows[0].s === null)
    throw new StoreError('unavailable', 'no schema to use: the search_path names no existing schema');
  if (!schema.rows[0].t) return 0;
  const r = await client.query('SELECT max(version) AS v FROM schema_version');
  return r.rows[0].v ?? 0;
}
