import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { openStore, type StoreError } from '../../../src/ca/store/index.js';
import { type PgCluster, startPostgres } from '../../helpers/postgres.js';
import { storeContract } from './contract.js';

/**
 * The store contract on a real PostgreSQL: one throwaway cluster for this file (started on
 * 127.0.0.1 on a free port, stopped afterwards even when a test fails), a new schema per store —
 * the store lives in the connection's search_path.
 */
let cluster: PgCluster;
let admin: pg.Client;
before(async () => {
  cluster = startPostgres();
  admin = new pg.Client({ connectionString: cluster.url() });
  admin.on('error', () => {});
  await admin.connect();
});
let n = 0;
const clients = new Map<string, pg.Client>();
after(async () => {
  for (const c of clients.values()) await c.end().catch(() => {});
  await admin?.end().catch(() => {});
  cluster?.stop();
});

storeContract({
  kind: 'postgres',
  freshUrl: async () => {
    const schema = `s${++n}`;
    await admin.query(`CREATE SCHEMA ${schema}`);
    return `${cluster.url()}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  },
  sql: async (url, text, params = []) => {
    let c = clients.get(url);
    if (!c) {
      c = new pg.Client({ connectionString: url });
      c.on('error', () => {});
      await c.connect();
      clients.set(url, c);
    }
    let i = 0;
    const r = await c.query(
      text.replace(/\?/g, () => `$${++i}`),
      params,
    );
    return r.rows as Record<string, unknown>[];
  },
});

describe('postgres: backup', () => {
  it('is unsupported, pointing at pg_dump', async () => {
    const store = await openStore(cluster.url());
    after(() => store.close());
    await assert.rejects(
      store.backup('/tmp/x.db'),
      (e: StoreError) => e.code === 'unsupported' && /pg_dump/.test(e.message),
    );
  });
});
