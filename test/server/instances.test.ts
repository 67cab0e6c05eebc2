// Several `fleetpki serve` processes on one store share the load behind any balancer: 3 instances on
// one PostgreSQL (a throwaway cluster this test starts) and 4 on one SQLite file each issue 5 000
// device certificates through the HTTP admin API (keep-alive, requests spread round-robin), while
// three of them publish CRLs concurrently. Then: no serial twice; every certificate a client
// received is in the store exactly once with the same DER, and the store holds no other; CRL
// numbers strictly increase (each publication got its own, every instance saw them grow); and a
// revocation made on instance 1 is answered `revoked` by OCSP on instance 3 within the configured
// poll interval (plus a margin), polled — no fixed sleep.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { openStore } from '../../src/ca/store/index.js';
import { serialKey } from '../../src/revocation/status-source.js';
import type { Certificate } from '../../src/x509/certificate.js';
import { parseCrl } from '../../src/x509/crl.js';
import { cliBundle } from '../helpers/cli-bundle.js';
import { type PgCluster, startPostgres } from '../helpers/postgres.js';
import {
  type Client,
  clientFor,
  deviceCsrs,
  type Instance,
  issuingCa,
  startInstance,
} from '../helpers/service.js';

/** Certificates per store (FLEETPKI_LOAD_TOTAL overrides it for a quick local run). */
const TOTAL = Number(process.env.FLEETPKI_LOAD_TOTAL ?? 5000);
/** Requests in flight at once, over all instances. */
const CONCURRENCY = 48;
/** ocsp.pollIntervalMs of the instances: how soon another instance's revocation is served. */
const POLL_MS = 1000;
/** Allowance on top of the poll interval for one poll's own work and a loaded machine. */
const MARGIN_MS = 3000;
const PASS = 'instances-test-pass';

let work: string;
let cluster: PgCluster | undefined;
before(async () => {
  work = mkdtempSync(join(tmpdir(), 'fleetpki-instances-'));
  await cliBundle();
});
after(() => {
  cluster?.stop();
  rmSync(work, { recursive: true, force: true });
});

interface Published {
  instance: number;
  crlNumber: bigint;
  /** The number in the CRL the same instance served right after (GET /crl/issuing.crl). */
  served: bigint;
}

async function runGroup(
  label: string,
  n: number,
  dbUrl: string | undefined,
  diag: (s: string) => void,
): Promise<void> {
  const data = join(work, label);
  mkdirSync(data, { mode: 0o700 });
  writeFileSync(join(data, 'config.yaml'), `ocsp:\n  pollIntervalMs: ${POLL_MS}\n`);
  const env = { FLEETPKI_PASSPHRASE: PASS, DATABASE_URL: undefined };
  const args = ['--data', data, ...(dbUrl ? ['--db', dbUrl] : [])];
  const t0 = performance.now();
  // All at once: the first starts on an empty store race to create the CA; exactly one does.
  const instances: Instance[] = await Promise.all(
    Array.from({ length: n }, (_, i) => startInstance(`${label}-${i + 1}`, args, { cwd: work, env })),
  );
  const clients: Client[] = instances.map((inst) => clientFor(inst, data, Math.ceil(CONCURRENCY / n)));
  try {
    const created = instances.filter((i) => i.stdout().includes('new CA created')).length;
    assert.equal(created, 1, 'exactly one instance created the CA');
    diag(`${label}: ${n} instances up in ${ms(t0)}`);
    const issuer = issuingCa(data);
    const csrs = await deviceCsrs(64, label);

    // ---- the load, with CRL publications from three instances meanwhile ------------------------
    const received: Certificate[] = [];
    const failures: string[] = [];
    let next = 0;
    let done = false;
    const tLoad = performance.now();
    const cpu0 = instances.map(cpuSeconds);
    const self0 = process.cpuUsage();
    const workers = Array.from({ length: CONCURRENCY }, async () => {
      for (;;) {
        const i = next++;
        if (i >= TOTAL) return;
        try {
          received.push(await clients[i % n]!.issue(csrs[i % csrs.length]!));
        } catch (e) {
          failures.push(`request ${i} on instance ${(i % n) + 1}: ${(e as Error).message}`);
        }
      }
    });
    const published: Published[] = [];
    const publishers = [0, 1, n - 1].map(async (k) => {
      while (!done) {
        const r = await clients[k]!.request('POST', '/api/v1/crl', { json: { issuer: 'issuing' } });
        assert.equal(r.status, 200, r.body.toString());
        const crlNumber = BigInt(r.json<{ published: { crlNumber: string }[] }>().published[0]!.crlNumber);
        const g = await clients[k]!.request('GET', '/crl/issuing.crl', { auth: false });
        assert.equal(g.status, 200);
        published.push({ instance: k + 1, crlNumber, served: parseCrl(new Uint8Array(g.body)).cRLNumber! });
      }
    });
    await Promise.all(workers);
    const loadMs = performance.now() - tLoad;
    const serverCpu = instances.reduce((sum, inst, i) => sum + cpuSeconds(inst) - cpu0[i]!, 0);
    const self = process.cpuUsage(self0);
    done = true;
    await Promise.all(publishers);
    // CPU used, to tell a slow machine (little CPU given to us) from slow code (much CPU per issuance).
    diag(
      `${label}: ${received.length} certificates in ${(loadMs / 1000).toFixed(1)} s ` +
        `(${Math.round(received.length / (loadMs / 1000))}/s over ${n} instances, ${CONCURRENCY} in flight); ` +
        `${published.length} CRLs published meanwhile; CPU: servers ${serverCpu.toFixed(1)} s ` +
        `(${((serverCpu * 1000) / received.length).toFixed(2)} ms per certificate), ` +
        `client ${((self.user + self.system) / 1e6).toFixed(1)} s`,
    );
    assert.deepEqual(failures, []);
    assert.equal(received.length, TOTAL);

    // ---- serials, storage ------------------------------------------------------------------------
    const serials = received.map((c) => serialKey(c.serialHex));
    assert.equal(new Set(serials).size, TOTAL, 'no serial twice');
    const url = dbUrl ?? `sqlite:${join(data, 'fleetpki.db')}`;
    const store = await openStore(url, { sqlite: { writer: 'inline' } });
    try {
      for (const c of received) {
        const rec = await store.getCertificate('issuing', serialKey(c.serialHex));
        assert.equal(rec?.state, 'issued');
        assert.ok(rec.der && Buffer.compare(rec.der, c.der) === 0, `stored DER of ${c.serialHex}`);
      }
    } finally {
      await store.close();
    }
    const counts = await countDevices(url);
    assert.deepEqual(
      counts,
      { issued: TOTAL, other: 0, distinct: TOTAL },
      'the store holds each exactly once',
    );

    // ---- CRL numbers -----------------------------------------------------------------------------
    const numbers = published.map((p) => p.crlNumber);
    assert.equal(new Set(numbers).size, numbers.length, 'every publication got its own number');
    for (const k of new Set(published.map((p) => p.instance))) {
      const mine = published.filter((p) => p.instance === k).map((p) => p.crlNumber);
      for (let i = 1; i < mine.length; i++) assert.ok(mine[i]! > mine[i - 1]!, `instance ${k}: increasing`);
    }
    for (const p of published) assert.ok(p.served >= p.crlNumber, 'an instance never serves an older CRL');

    // ---- a revocation on instance 1, seen by OCSP on instance 3 ----------------------------------
    const victim = serials[0]!;
    assert.equal(await clients[2]!.ocspStatus(issuer, victim), 'good');
    const r = await clients[0]!.request('POST', `/api/v1/certificates/${victim}/revoke`, {
      json: { reason: 'keyCompromise' },
    });
    assert.equal(r.status, 200, r.body.toString());
    const tRevoked = performance.now();
    let status = await clients[2]!.ocspStatus(issuer, victim);
    while (status !== 'revoked' && performance.now() - tRevoked < POLL_MS + MARGIN_MS) {
      await new Promise((res) => setTimeout(res, 50));
      status = await clients[2]!.ocspStatus(issuer, victim);
    }
    const seenMs = performance.now() - tRevoked;
    diag(`${label}: revocation on instance 1 answered revoked by instance 3 after ${Math.round(seenMs)} ms`);
    assert.equal(status, 'revoked', `not revoked on instance 3 within ${POLL_MS} + ${MARGIN_MS} ms`);
  } finally {
    for (const c of clients) c.close();
    const exits = await Promise.all(instances.map((i) => i.stop()));
    for (const [i, e] of exits.entries())
      assert.equal(e.code, 0, `${instances[i]!.name}: ${instances[i]!.stderr()}`);
  }
}

/** Device certificates in the store: issued, in any other state, and distinct (issuer, serial). */
async function countDevices(url: string): Promise<{ issued: number; other: number; distinct: number }> {
  const sql = `SELECT
      sum(CASE WHEN state = 'issued' THEN 1 ELSE 0 END) AS issued,
      sum(CASE WHEN state <> 'issued' THEN 1 ELSE 0 END) AS other,
      count(DISTINCT issuer_id || '/' || serial) AS distinct_
    FROM certificates WHERE profile = 'device'`;
  let row: Record<string, unknown>;
  if (url.startsWith('sqlite:')) {
    const db = new Database(url.slice('sqlite:'.length), { readonly: true });
    try {
      row = db.prepare(sql).get() as Record<string, unknown>;
    } finally {
      db.close();
    }
  } else {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      row = (await c.query(sql)).rows[0] as Record<string, unknown>;
    } finally {
      await c.end();
    }
  }
  return { issued: Number(row.issued), other: Number(row.other), distinct: Number(row.distinct_) };
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
function cpuSeconds(inst: Instance): number {
  try {
    const f = readFileSync(`/proc/${inst.proc.pid}/stat`, 'utf8');
    const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

const ms = (t0: number) => `${Math.round(performance.now() - t0)} ms`;

describe('several fleetpki serve instances on one store', () => {
  test(`3 instances on one PostgreSQL issue ${TOTAL} certificates together`, async (t) => {
    cluster = startPostgres();
    const c = new pg.Client({ connectionString: cluster.url() });
    await c.connect();
    await c.query('CREATE DATABASE fleet');
    await c.end();
    await runGroup('pg', 3, cluster.url('fleet'), (s) => t.diagnostic(s));
  });

  test(`4 instances on one SQLite file issue ${TOTAL} certificates together`, async (t) => {
    await runGroup('sqlite', 4, undefined, (s) => t.diagnostic(s));
  });
});
