import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import {
  openStore,
  parseStoreUrl,
  type StoreError,
  type StoreLocation,
} from '../../../src/ca/store/index.js';
import { migrateSqlite } from '../../../src/ca/store/sqlite-migrate.js';
import { SQLITE_MIGRATIONS } from '../../../src/ca/store/sqlite-schema.js';

/** Store URLs and what opening a store that cannot be used says. */
const dir = mkdtempSync(join(tmpdir(), 'fleetpki-open-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('parseStoreUrl', () => {
  const ok: [string, StoreLocation][] = [
    ['sqlite:data/fleetpki.db', { kind: 'sqlite', path: 'data/fleetpki.db' }],
    ['sqlite:/var/lib/fleetpki/fleetpki.db', { kind: 'sqlite', path: '/var/lib/fleetpki/fleetpki.db' }],
    ['sqlite:///var/lib/fleetpki.db', { kind: 'sqlite', path: '/var/lib/fleetpki.db' }],
    ['SQLITE:./x.db', { kind: 'sqlite', path: './x.db' }],
    ['./fleetpki-data/fleetpki.db', { kind: 'sqlite', path: './fleetpki-data/fleetpki.db' }],
    ['/abs/store.db', { kind: 'sqlite', path: '/abs/store.db' }],
    ['C:\\data\\store.db', { kind: 'sqlite', path: 'C:\\data\\store.db' }],
    [
      'postgres://ca:secret@db.example:5432/fleetpki',
      { kind: 'postgres', url: 'postgres://ca:secret@db.example:5432/fleetpki' },
    ],
    [
      'postgresql://localhost/fleetpki?sslmode=require',
      { kind: 'postgres', url: 'postgresql://localhost/fleetpki?sslmode=require' },
    ],
  ];
  for (const [url, want] of ok) it(`accepts ${url}`, () => assert.deepEqual(parseStoreUrl(url), want));

  const bad = [
    '',
    '   ',
    'sqlite:',
    'sqlite://',
    'mysql://localhost/db',
    'http://x/y',
    'file:store.db',
    ':memory:',
    'sqlite::memory:',
    'postgres:/missing-slashes',
  ];
  for (const url of bad)
    it(`refuses ${JSON.stringify(url)} with bad-url`, async () => {
      assert.throws(
        () => parseStoreUrl(url),
        (e: StoreError) => e.code === 'bad-url',
      );
      await assert.rejects(openStore(url), (e: StoreError) => e.code === 'bad-url');
    });
});

describe('openStore failures', () => {
  it('a missing directory is unavailable', async () => {
    await assert.rejects(
      openStore(`sqlite:${join(dir, 'no', 'such', 'x.db')}`),
      (e: StoreError) => e.code === 'unavailable' && /does not exist/.test(e.message),
    );
  });

  it('a file that is not SQLite is unavailable', async () => {
    const f = join(dir, 'garbage.db');
    writeFileSync(f, 'this is not a database, it is just text long enough to have a header '.repeat(20));
    await assert.rejects(openStore(`sqlite:${f}`), (e: StoreError) => e.code === 'unavailable');
  });

  it('a SQLite database of another program is left alone', async () => {
    const f = join(dir, 'other.db');
    const db = new Database(f);
    db.exec('CREATE TABLE notes (t TEXT)');
    db.close();
    await assert.rejects(
      openStore(`sqlite:${f}`),
      (e: StoreError) => e.code === 'unavailable' && /not a fleetpki store/.test(e.message),
    );
    const again = new Database(f);
    assert.deepEqual(again.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table'`).all(), [
      { name: 'notes' },
    ]);
    again.close();
  });

  it('another process migrating right after our first look at a new file: no "not a fleetpki store"', () => {
    // Deterministic form of 4 processes opening one new store at once (contract.ts): the moment
    // this connection has read the empty schema, another connection creates the whole store.
    // Reading the schema in two statements, the second one saw that store's schema_version as a
    // foreign table.
    const f = join(dir, 'race.db');
    const ours = new Database(f);
    const theirs = new Database(f);
    let raced = false;
    const watched = new Proxy(ours, {
      get(target, key) {
        if (key === 'prepare')
          return (sql: string) => {
            const st = target.prepare(sql);
            if (raced || !sql.includes('sqlite_schema')) return st;
            return new Proxy(st, {
              get(s, k) {
                const v = Reflect.get(s, k, s);
                if (k !== 'get') return typeof v === 'function' ? v.bind(s) : v;
                return (...args: unknown[]) => {
                  const row = (v as (...a: unknown[]) => unknown).apply(s, args);
                  if (!raced) {
                    raced = true;
                    migrateSqlite(theirs);
                  }
                  return row;
                };
              },
            });
          };
        const v = Reflect.get(target, key, target);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    try {
      const latest = SQLITE_MIGRATIONS[SQLITE_MIGRATIONS.length - 1]!.version;
      assert.equal(migrateSqlite(watched), latest);
      assert.ok(raced, 'the other connection migrated in between');
      assert.deepEqual(ours.prepare('SELECT count(*) AS n FROM schema_version').get(), {
        n: SQLITE_MIGRATIONS.length,
      });
    } finally {
      ours.close();
      theirs.close();
    }
  });

  it('a PostgreSQL server that is not there is unavailable, and the password stays out of the message', async () => {
    // A port that was free a moment ago: connecting is refused at once.
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    await assert.rejects(
      openStore(`postgres://ca:hunter2-canary@127.0.0.1:${port}/fleetpki`),
      (e: StoreError) => {
        assert.equal(e.code, 'unavailable');
        assert.doesNotMatch(e.message, /hunter2-canary/);
        assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${port}/fleetpki`));
        return true;
      },
    );
  });
});
