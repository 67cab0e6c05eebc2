import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { openStore, type StoreError } from '../../../src/ca/store/index.js';
import { startLooper } from './children.js';
import { everySerial, storeContract } from './contract.js';
import { ev, type Harness, HIERARCHY, issue, randomSerial, verifyChain } from './fixtures.js';

/**
 * The store contract on SQLite: one temporary directory, a new file per store. On a tmpfs when
 * the machine has one: an fsync there returns at once, and what these tests check — behaviour,
 * invariants, process crashes — does not depend on the disk (the bench measures durable commits).
 */
const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
const dir = mkdtempSync(join(base, 'fleetpki-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

const harness: Harness = {
  kind: 'sqlite',
  freshUrl: async () => `sqlite:${join(dir, `s${++n}.db`)}`,
  sql: async (url, text, params = []) => {
    const db = new Database(url.slice('sqlite:'.length), { timeout: 5000 });
    try {
      const st = db.prepare(text);
      if (st.reader) return st.all(...params) as Record<string, unknown>[];
      st.run(...params);
      return [];
    } finally {
      db.close();
    }
  },
};

// Everything with the writer on the calling thread (as the CLI runs it), then the tests of
// concurrent callers again with the writer thread (as `serve` runs it): the same SqliteWriter,
// reached through the thread's messages.
storeContract({ ...harness, variant: 'inline writer', options: { sqlite: { writer: 'inline' } } });
storeContract({ ...harness, variant: 'writer thread', only: 'concurrency' });

describe('sqlite: online backup', () => {
  it('a backup taken while another process issues opens as a complete store whose chain verifies', async () => {
    const url = await harness.freshUrl();
    const store = await openStore(url, { sqlite: { writer: 'inline' } });
    after(() => store.close());
    await store.initHierarchy(HIERARCHY, ev('init'));
    const copyPath = join(dir, 'backup.db');
    const looper = await startLooper(url, 'thread');
    let before: string[];
    try {
      await looper.waitFor(20);
      before = [...looper.issued];
      await store.backup(copyPath);
      // The writer went on during the copy.
      await looper.waitFor(before.length + 10);
    } finally {
      await looper.kill();
    }
    assert.deepEqual(await harness.sql(`sqlite:${copyPath}`, 'PRAGMA integrity_check'), [
      { integrity_check: 'ok' },
    ]);
    const copy = await openStore(`sqlite:${copyPath}`, { sqlite: { writer: 'inline' } });
    after(() => copy.close());
    const audit = await verifyChain(copy);
    const issued = await everySerial(copy, ['issued']);
    // One snapshot: each stored certificate with its audit record, nothing half-written.
    assert.deepEqual(
      new Set(issued),
      new Set(audit.filter((a) => a.action === 'issue').map((a) => a.serialHex!)),
    );
    for (const s of before) assert.deepEqual(await copy.status('devices-1', s), { status: 'good' });
    for (const s of issued.slice(0, 5)) {
      const r = await copy.getCertificate('devices-1', s);
      assert.ok(r?.der && r.fingerprint && r.issuedAt !== undefined);
    }
    // It is a working store.
    await issue(copy, randomSerial());
    await assert.rejects(
      store.backup(url.slice('sqlite:'.length)),
      (e: StoreError) => e.code === 'bad-input',
    );
  });
});
