// verifyAudit over the real SQLite store: an intact log verifies; a record edited, two records
// swapped, a record removed (by someone with write access to the database file, who first drops
// the append-only triggers) are each detected and the first bad record is named.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { verifyAudit } from '../../src/ca/audit.js';
import { openStore } from '../../src/ca/store/index.js';
import { type CaFixture, caFixture } from './fixture.js';
import { freshSigner, makeCsr } from './requests.js';

let f: CaFixture;
before(async () => {
  f = await caFixture();
  for (let i = 0; i < 4; i++) {
    const r = await f.ca.issue(await makeCsr({ subject: `CN=device-audit-${i}` }, await freshSigner()), {
      profile: 'device',
      requester: 'est:audit',
    });
    if (i === 0 && r.status === 'issued')
      await f.ca.revoke(r.serialHex, 'superseded', { requester: 'cli:ops' });
  }
  await f.ca
    .issue(Uint8Array.of(1, 2, 3), { profile: 'device', requester: 'est:audit' })
    .catch(() => undefined);
});
after(() => f?.close());

/** Runs SQL on a copy of the database file (the fixture's store stays untouched) and verifies it. */
async function tampered(sql: string[]) {
  const copy = `${f.dir}/tampered-${Math.random().toString(36).slice(2)}.db`;
  await f.store.backup(copy);
  const db = new Database(copy);
  try {
    for (const s of ['audit_no_update', 'audit_no_delete', 'audit_linked'])
      db.exec(`DROP TRIGGER IF EXISTS ${s}`);
    for (const s of sql) db.exec(s);
  } finally {
    db.close();
  }
  const store = await openStore(`sqlite:${copy}`);
  try {
    return await verifyAudit(store);
  } finally {
    await store.close();
  }
}

describe('audit verify', () => {
  test('the intact log verifies: init, issuances, a refusal, a revocation', async () => {
    const r = await verifyAudit(f.store);
    assert.equal(r.ok, true);
    const all = await f.store.readAudit(0, 1000);
    assert.equal(r.ok && r.records, all.length);
    const kinds = new Set(all.map((a) => `${a.action}:${a.result}`));
    for (const k of ['init:ok', 'issue:ok', 'revoke:ok', 'issue:refused:malformed-csr'])
      assert.ok(kinds.has(k), k);
  });

  const cases: { name: string; sql: string[]; code: string; seq: number }[] = [
    {
      name: 'an edited record is named',
      sql: [`UPDATE audit SET actor = 'someone-else' WHERE seq = 4`],
      code: 'hash-mismatch',
      seq: 4,
    },
    {
      name: 'an edited record with a forged hash value',
      sql: [`UPDATE audit SET hash = '${'a'.repeat(64)}', result = 'ok' WHERE seq = 5`],
      code: 'hash-mismatch',
      seq: 5,
    },
    {
      name: 'two records swapped',
      sql: [
        'UPDATE audit SET seq = 1000000 WHERE seq = 3',
        'UPDATE audit SET seq = 3 WHERE seq = 4',
        'UPDATE audit SET seq = 4 WHERE seq = 1000000',
      ],
      code: 'broken-link',
      seq: 3,
    },
    { name: 'a removed record', sql: ['DELETE FROM audit WHERE seq = 6'], code: 'seq-gap', seq: 7 },
    { name: 'the first record removed', sql: ['DELETE FROM audit WHERE seq = 1'], code: 'seq-gap', seq: 2 },
  ];
  for (const c of cases)
    test(c.name, async () => {
      const r = await tampered(c.sql);
      assert.equal(r.ok, false);
      assert.ok(!r.ok);
      assert.equal(r.code, c.code, r.message);
      assert.equal(r.seq, c.seq, r.message);
    });

  test('truncation is found against a head noted earlier', async () => {
    const head = await verifyAudit(f.store);
    assert.ok(head.ok && head.head);
    const last = head.head.seq;
    const r = await tampered([`DELETE FROM audit WHERE seq = ${last}`]);
    assert.equal(r.ok, true, 'a chain alone cannot see its end cut off');
    const copy = `${f.dir}/trunc.db`;
    await f.store.backup(copy);
    const db = new Database(copy);
    db.exec('DROP TRIGGER audit_no_delete');
    db.exec(`DELETE FROM audit WHERE seq = ${last}`);
    db.close();
    const store = await openStore(`sqlite:${copy}`);
    try {
      const t = await verifyAudit(store, { expectHead: head.head });
      assert.equal(t.ok, false);
      assert.ok(!t.ok && t.code === 'truncated');
    } finally {
      await store.close();
    }
  });
});
