// Crash safety of `fleetpki serve`: 10 rounds of 500 concurrent issuance requests, each round ended
// by `kill -9` of the service part-way, on SQLite and on PostgreSQL. Where the kill lands varies by
// round (after 0 … 300 answers), and no check depends on where it landed: after every restart
//   - every certificate a client received is in the store, with the same DER;
//   - the recovery pass at open leaves no reservation unresolved;
//   - OCSP answers no voided serial (a reservation that never became a certificate) as `good`;
//     serials stored as issued whose answer never reached a client are counted and stay revocable;
//   - SQLite's `PRAGMA integrity_check` is ok, and `fleetpki audit verify` passes.
// On SQLite a `fleetpki backup` taken while a round's requests are in flight is restored into a
// new data directory (with the key files and configuration) and passes the same checks, then
// issues, verifies (OpenSSL) and revokes like any CA.
// clock-shift: skip — what this file tests runs in child processes, which keep the real clock
// (scripts/test.sh --clock-sensitive leaves it out: shifting this process's clock tests nothing).
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { openStore, type Store } from '../../src/ca/store/index.js';
import { serialKey } from '../../src/revocation/status-source.js';
import type { Certificate } from '../../src/x509/certificate.js';
import { cliBundle, fleetpkiAsync } from '../helpers/cli-bundle.js';
import { type PgCluster, startPostgres } from '../helpers/postgres.js';
import { run } from '../helpers/proc.js';
import {
  type Client,
  clientFor,
  deviceCsrs,
  type Instance,
  issuingCa,
  startInstance,
} from '../helpers/service.js';

/** FLEETPKI_CRASH_ROUNDS overrides it for a quick local run. */
const ROUNDS = Number(process.env.FLEETPKI_CRASH_ROUNDS ?? 10);
const REQUESTS = 500;
/** Answers received before the kill, per round (0: right after the requests are sent). */
const KILL_AFTER = [0, 10, 25, 50, 75, 100, 150, 200, 250, 300];
/** The round in which the SQLite store is backed up while its requests are in flight. */
const BACKUP_ROUND = 4;
/** recovery.graceMs: reservations older than this are voided by the recovery pass at open. */
const GRACE_MS = 1000;
const PASS = 'crash-test-pass';
const env = { FLEETPKI_PASSPHRASE: PASS, DATABASE_URL: undefined };

let work: string;
let cluster: PgCluster | undefined;
before(async () => {
  work = mkdtempSync(join(tmpdir(), 'fleetpki-crash-'));
  await cliBundle();
});
after(() => {
  cluster?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** What the clients got in one round. */
interface RoundResult {
  received: Certificate[];
  failed: number;
  /** Certificates received before the backup of this round started (BACKUP_ROUND only). */
  beforeBackup?: Certificate[];
}

/** Rows of device certificates: serial and state. */
async function deviceRows(url: string): Promise<{ serial: string; state: string }[]> {
  const sql = `SELECT serial, state FROM certificates WHERE profile = 'device' AND issuer_id = 'issuing'`;
  if (url.startsWith('sqlite:')) {
    const db = new Database(url.slice('sqlite:'.length), { readonly: true });
    try {
      return db.prepare(sql).all() as { serial: string; state: string }[];
    } finally {
      db.close();
    }
  }
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql)).rows as { serial: string; state: string }[];
  } finally {
    await c.end();
  }
}

/** Sessions and ungranted locks on the database: what a stuck instance waits for. */
async function pgActivity(url: string): Promise<string> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await c.connect();
  try {
    const sessions = await c.query(
      `SELECT pid, application_name, state, wait_event_type, wait_event, now() - xact_start AS xact_age,
              left(query, 120) AS query
         FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
    );
    const waiting = await c.query(
      `SELECT pid, locktype, relation::regclass AS relation, mode, pg_blocking_pids(pid) AS blocked_by
         FROM pg_locks WHERE NOT granted`,
    );
    return `pg_stat_activity: ${JSON.stringify(sessions.rows)}\nlocks not granted: ${JSON.stringify(waiting.rows)}`;
  } finally {
    await c.end();
  }
}

function integrityCheck(path: string): string {
  const db = new Database(path, { readonly: true });
  try {
    return (db.pragma('integrity_check') as { integrity_check: string }[])
      .map((r) => r.integrity_check)
      .join('; ');
  } finally {
    db.close();
  }
}

async function withStore<T>(url: string, f: (s: Store) => Promise<T>): Promise<T> {
  const s = await openStore(url, { sqlite: { writer: 'inline' } });
  try {
    return await f(s);
  } finally {
    await s.close();
  }
}

/**
 * The checks after a restart (see the file comment). `received`: every certificate clients got so
 * far from this store. Returns how many issued certificates never reached a client.
 */
async function checkStore(
  label: string,
  o: {
    url: string;
    data: string;
    client: Client;
    received: readonly Certificate[];
    db?: string;
    /** Voided serials already asked about (earlier rounds): not asked again. */
    checked?: Set<string>;
  },
): Promise<{ issuedUnreceived: number; voided: number }> {
  const issuer = issuingCa(o.data);
  await withStore(o.url, async (s) => {
    for (const c of o.received) {
      const rec = await s.getCertificate('issuing', serialKey(c.serialHex));
      assert.equal(rec?.state, 'issued', `${label}: received ${c.serialHex} is stored`);
      assert.ok(rec.der && Buffer.compare(rec.der, c.der) === 0, `${label}: same DER`);
    }
    assert.deepEqual(await s.unresolvedReservations(Date.now() + 1, 10), [], `${label}: no reservation left`);
  });
  const got = new Set(o.received.map((c) => serialKey(c.serialHex)));
  const rows = await deviceRows(o.url);
  const voided = rows.filter((r) => r.state === 'void');
  for (const r of voided) {
    if (o.checked?.has(r.serial)) continue;
    assert.notEqual(
      await o.client.ocspStatus(issuer, r.serial),
      'good',
      `${label}: voided ${r.serial} is not good`,
    );
    o.checked?.add(r.serial);
  }
  const issuedUnreceived = rows.filter((r) => r.state === 'issued' && !got.has(r.serial));
  // Stored and signed, but the answer died with the process: a recorded certificate, revocable.
  for (const r of issuedUnreceived.slice(0, 5))
    assert.equal(await o.client.ocspStatus(issuer, r.serial), 'good');
  if (o.url.startsWith('sqlite:')) assert.equal(integrityCheck(o.url.slice('sqlite:'.length)), 'ok');
  const audit = await fleetpkiAsync(['audit', 'verify', '--data', o.data, ...(o.db ? ['--db', o.db] : [])], {
    cwd: work,
    env,
  });
  assert.equal(audit.code, 0, `${label}: audit verify: ${audit.stdout}${audit.stderr}`);
  return { issuedUnreceived: issuedUnreceived.length, voided: voided.length };
}

/** Waits until every reservation the killed process made is older than the grace period. */
async function pastGrace(killedAt: number): Promise<void> {
  while (Date.now() <= killedAt + GRACE_MS) await new Promise((r) => setTimeout(r, 50));
}

async function crashRounds(
  label: string,
  dbUrl: string | undefined,
  diag: (s: string) => void,
): Promise<void> {
  const data = join(work, label);
  mkdirSync(data, { mode: 0o700 });
  // The sweep while running is off: only the pass at open voids (the previous process is dead then).
  writeFileSync(join(data, 'config.yaml'), `recovery:\n  graceMs: ${GRACE_MS}\n  sweepIntervalMs: 0\n`);
  // Debug-level logs: a restart that hangs then shows the last startup step it reached.
  const args = ['--data', data, ...(dbUrl ? ['--db', dbUrl] : []), '--log-level', 'debug'];
  const start = (name: string) =>
    startInstance(name, args, {
      cwd: work,
      env,
      // A start takes 1–3 s here; a stuck one fails the round in 2 min, with the database's view.
      timeoutMs: 120_000,
      ...(dbUrl ? { diagnose: () => pgActivity(dbUrl) } : {}),
    });
  const url = dbUrl ?? `sqlite:${join(data, 'fleetpki.db')}`;
  const csrs = await deviceCsrs(32, label);
  const all: Certificate[] = [];
  let inst: Instance = await start(`${label}-0`);
  let client = clientFor(inst, data, REQUESTS);
  let backup: { file: string; received: Certificate[] } | undefined;
  let unreceived = 0;
  let voided = 0;
  const checked = new Set<string>();
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const t0 = performance.now();
      const result: RoundResult = { received: [], failed: 0 };
      let backupDone: Promise<void> | undefined;
      const killAfter = KILL_AFTER[round]!;
      let killed = false;
      let killedAt = 0;
      const kill = () => {
        if (killed) return;
        killed = true;
        inst.proc.kill('SIGKILL');
      };
      const maybeKill = () => {
        if (round === BACKUP_ROUND && !dbUrl) {
          if (!backupDone && result.received.length >= 50) {
            const beforeBackup = [...result.received];
            const file = join(work, `${label}-backup.db`);
            backupDone = fleetpkiAsync(['backup', '--data', data, '--out', file], { cwd: work, env }).then(
              (r) => {
                assert.equal(r.code, 0, `backup: ${r.stdout}${r.stderr}`);
                backup = { file, received: [...all, ...beforeBackup] };
                kill();
              },
            );
          }
          return;
        }
        if (result.received.length >= killAfter) kill();
      };
      const requests = Array.from({ length: REQUESTS }, (_, i) =>
        client.issue(csrs[i % csrs.length]!).then(
          (c) => {
            result.received.push(c);
            maybeKill();
          },
          () => {
            result.failed++;
          },
        ),
      );
      if (killAfter === 0 && round !== BACKUP_ROUND) setImmediate(kill);
      await Promise.all(requests);
      await backupDone;
      kill(); // a round whose requests all finished first still ends with the kill
      const exit = await inst.exited;
      killedAt = Date.now();
      assert.equal(exit.signal, 'SIGKILL');
      all.push(...result.received);
      client.close();

      await pastGrace(killedAt);
      inst = await start(`${label}-${round + 1}`);
      client = clientFor(inst, data, REQUESTS);
      const c = await checkStore(`${label} round ${round + 1}`, {
        url,
        data,
        client,
        received: all,
        db: dbUrl,
        checked,
      });
      unreceived = c.issuedUnreceived;
      voided = c.voided;
      diag(
        `${label} round ${round + 1}: killed after ${result.received.length} answers ` +
          `(${result.failed} requests cut off) in ${Math.round(performance.now() - t0)} ms; store now: ` +
          `${all.length} received, ${c.voided} voided, ${c.issuedUnreceived} issued but never answered`,
      );
    }
  } finally {
    client.close();
    await inst.stop('SIGKILL');
  }
  diag(
    `${label}: ${ROUNDS} rounds, ${all.length} certificates received, ${voided} voided, ${unreceived} unanswered`,
  );
  assert.ok(all.length > 0);
  if (!dbUrl) await checkRestoredBackup(label, data, backup, diag);
}

/** Restores the backup into a new data directory and checks it as after a crash, then uses it. */
async function checkRestoredBackup(
  label: string,
  data: string,
  backup: { file: string; received: Certificate[] } | undefined,
  diag: (s: string) => void,
): Promise<void> {
  assert.ok(backup, 'a backup was taken during the load');
  const restored = join(work, `${label}-restored`);
  mkdirSync(restored, { mode: 0o700 });
  // What a complete backup holds besides the store: the key files and the configuration (the
  // passphrase comes from the environment here).
  cpSync(join(data, 'keys'), join(restored, 'keys'), { recursive: true });
  cpSync(join(data, 'config.yaml'), join(restored, 'config.yaml'));
  cpSync(backup.file, join(restored, 'fleetpki.db'));
  await pastGrace(Date.now());
  const inst = await startInstance(`${label}-restored`, ['--data', restored], { cwd: work, env });
  const client = clientFor(inst, restored, 8);
  try {
    const url = `sqlite:${join(restored, 'fleetpki.db')}`;
    const c = await checkStore(`${label} restored`, {
      url,
      data: restored,
      client,
      received: backup.received,
    });
    diag(
      `${label}: backup restored: ${backup.received.length} certificates received before it, all present; ` +
        `${c.voided} voided, ${c.issuedUnreceived} issued after the client snapshot`,
    );
    // A working CA: it issues, OpenSSL verifies against the restored root, and it revokes.
    const [csr] = await deviceCsrs(1, `${label}-restored`);
    const cert = await client.issue(csr!);
    writeFileSync(join(work, 'restored-leaf.pem'), cert.toPem());
    const v = await run('openssl', [
      'verify',
      '-x509_strict',
      '-CAfile',
      join(restored, 'ca', 'root.pem'),
      '-untrusted',
      join(restored, 'ca', 'chain.pem'),
      join(work, 'restored-leaf.pem'),
    ]);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    const r = await client.request('POST', `/api/v1/certificates/${serialKey(cert.serialHex)}/revoke`, {
      json: { reason: 'keyCompromise' },
    });
    assert.equal(r.status, 200, r.body.toString());
    assert.equal(await client.ocspStatus(issuingCa(restored), serialKey(cert.serialHex)), 'revoked');
    assert.equal(
      readFileSync(join(restored, 'ca', 'root.pem'), 'utf8'),
      readFileSync(join(data, 'ca', 'root.pem'), 'utf8'),
    );
  } finally {
    client.close();
    await inst.stop();
  }
}

describe('kill -9 of fleetpki serve during concurrent issuance', () => {
  test(`SQLite: ${ROUNDS} rounds of ${REQUESTS} concurrent requests, a backup taken under load restores`, async (t) => {
    await crashRounds('sqlite', undefined, (s) => t.diagnostic(s));
  });

  test(`PostgreSQL: ${ROUNDS} rounds of ${REQUESTS} concurrent requests`, async (t) => {
    cluster = startPostgres();
    const c = new pg.Client({ connectionString: cluster.url() });
    await c.connect();
    await c.query('CREATE DATABASE crash');
    await c.end();
    await crashRounds('pg', cluster.url('crash'), (s) => t.diagnostic(s));
  });
});
