// `npm run bench -- store`: the Store at 1 M certificates, on SQLite and on PostgreSQL side by side.
//
// 1. Search (the dashboard's pages, keyset cursor): the first page (newest first), a filtered page,
//    and a page deep in the cursor (after ~90 % of the rows) — each should stay under 200 ms — plus
//    other filters (subject, SAN, serial prefix, revoked, issuer, expiry window) and statistics().
// 2. Durable issuances (reserve + complete with its audit record, group commit) from 64 concurrent
//    callers: issuances/s and p50/p99 latency, on SQLite with the writer thread and with the writer
//    inline (the event loop's p99 delay shows what an inline fsync costs the service), and on
//    PostgreSQL with fsync on; then again with 0.3 ms of CPU per issuance standing in for signing
//    and HTTP.
//
// Env: FLEETPKI_BENCH_STORE_ROWS (default 1000000), FLEETPKI_BENCH_MS (load duration per row of
// the table, default 4000 here), FLEETPKI_BENCH_STORE_ONLY=sqlite|postgres.
// The seeded SQLite file is kept in .tmp/bench-store/ and copied for each run (seeding takes a
// while); PostgreSQL is seeded in a fresh throwaway cluster each run.
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import {
  type CertificateQuery,
  type OpenStoreOptions,
  openStore,
  type Store,
} from '../src/ca/store/index.js';
import { encodeCursor } from '../src/ca/store/records.js';
import { SQLITE_MIGRATIONS } from '../src/ca/store/sqlite-schema.js';
import { ev, fakeCert, HIERARCHY, issuer, randomSerial } from '../test/ca/store/fixtures.js';
import { startPostgres } from '../test/helpers/postgres.js';
import { writeResults } from './harness.js';
import { DAY, seedPostgres, seedSqlite } from './store-seed.js';

const ROWS = Number(process.env.FLEETPKI_BENCH_STORE_ROWS) || 1_000_000;
const LOAD_MS = Number(process.env.FLEETPKI_BENCH_MS) || 4000;
const ONLY = process.env.FLEETPKI_BENCH_STORE_ONLY;
const NOW = Date.UTC(2026, 5, 1);
const QUERY_RUNS = 15;
const GOAL_MS = 200;

const log = (s: string) => console.log(s);
const tmp = fileURLToPath(new URL('../.tmp/bench-store/', import.meta.url));
mkdirSync(tmp, { recursive: true });

const ISSUERS = [...HIERARCHY, issuer('devices-2', 'intermediate', 'root')];

interface QueryTiming {
  name: string;
  medianMs: number;
  maxMs: number;
  rows: number;
}
interface LoadResult {
  name: string;
  perSec: number;
  p50: number;
  p99: number;
  loopP99: number;
  /** CPU time of this process (all its threads) per issuance: what the machine's load does not change. */
  cpuUs: number;
}
const results: Record<string, { seedS?: number; queries: QueryTiming[]; load: LoadResult[] }> = {};

async function timeQuery(store: Store, name: string, q: CertificateQuery): Promise<QueryTiming> {
  const ms: number[] = [];
  let rows = 0;
  for (let i = 0; i < QUERY_RUNS; i++) {
    const t = performance.now();
    const page = await store.findCertificates({ now: NOW, ...q });
    ms.push(performance.now() - t);
    rows = page.items.length;
  }
  ms.sort((a, b) => a - b);
  return { name, medianMs: ms[ms.length >> 1]!, maxMs: ms.at(-1)!, rows };
}

/** A cursor pointing ~90 % deep into "issued, newest first", read from the database itself. */
async function deepCursor(kind: 'sqlite' | 'postgres', target: string): Promise<string> {
  const sql = `SELECT listed_at, id FROM certificates WHERE state = 'issued' ORDER BY listed_at DESC, id DESC LIMIT 1 OFFSET ${Math.floor(ROWS * 0.9)}`;
  let row: { listed_at: number | string; id: number | string };
  if (kind === 'sqlite') {
    const db = new Database(target, { readonly: true });
    row = db.prepare(sql).get() as typeof row;
    db.close();
  } else {
    const c = new pg.Client({ connectionString: target });
    await c.connect();
    row = (await c.query(sql)).rows[0];
    await c.end();
  }
  return encodeCursor({ sort: 'issuedAt', order: 'desc', value: Number(row.listed_at), id: Number(row.id) });
}

async function queries(store: Store, cursor: string): Promise<QueryTiming[]> {
  // A name that exists: the subject prefix of a row near the middle.
  const mid = await store.findCertificates({ limit: 1, cursor, now: NOW });
  const probe = mid.items[0]!;
  const cn = probe.subject.slice(3, 3 + 'device-'.length + 4).toLowerCase();
  const out = [
    await timeQuery(store, 'first page (issued, newest first, 50)', { limit: 50 }),
    await timeQuery(store, 'filtered page (valid device certs expiring first, 50)', {
      status: 'valid',
      profile: 'device',
      sort: 'notAfter',
      order: 'asc',
      limit: 50,
    }),
    await timeQuery(store, 'deep page (cursor after 90 % of the rows, 50)', { limit: 50, cursor }),
    await timeQuery(store, `subject prefix "${cn}"`, { subject: cn, limit: 50 }),
    await timeQuery(store, 'SAN exact', { san: probe.sans[0]!, limit: 50 }),
    await timeQuery(store, 'SAN prefix "dns:device-ab*"', { san: 'dns:device-ab*', limit: 50 }),
    await timeQuery(store, `serial prefix "${probe.serialHex.slice(0, 4)}"`, {
      serial: probe.serialHex.slice(0, 4),
      limit: 50,
    }),
    await timeQuery(store, 'status revoked, newest first', { status: 'revoked', limit: 50 }),
    await timeQuery(store, 'status hold, by notAfter', { status: 'hold', sort: 'notAfter', limit: 50 }),
    await timeQuery(store, 'issuer root, newest first', { issuerId: 'root', limit: 50 }),
    await timeQuery(store, 'profile server, expiring first', {
      profile: 'server',
      sort: 'notAfter',
      order: 'asc',
      limit: 50,
    }),
    await timeQuery(store, 'expiry window (next 7 days)', {
      expiresFrom: NOW,
      expiresTo: NOW + 7 * DAY,
      sort: 'notAfter',
      order: 'asc',
      limit: 50,
    }),
    await timeQuery(store, 'status expired, newest first', { status: 'expired', limit: 50 }),
  ];
  const ms: number[] = [];
  for (let i = 0; i < QUERY_RUNS; i++) {
    const t = performance.now();
    await store.statistics(NOW, NOW + 30 * DAY);
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  out.push({
    name: 'statistics(now, now + 30 days)',
    medianMs: ms[ms.length >> 1]!,
    maxMs: ms.at(-1)!,
    rows: 0,
  });
  return out;
}

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {}
}

/** `callers` loops of reserve → [cpu] → complete for LOAD_MS; issuances/s and latency. */
async function load(store: Store, name: string, callers: number, cpuMs: number): Promise<LoadResult> {
  const lat: number[] = [];
  const h = monitorEventLoopDelay({ resolution: 1 });
  const end = performance.now() + LOAD_MS;
  const one = async () => {
    const t = performance.now();
    const serialHex = randomSerial();
    const cert = fakeCert(serialHex, 420);
    const r = await store.reserve({
      issuerId: 'devices-1',
      serialHex,
      profile: 'device',
      subject: `CN=device-${serialHex.slice(0, 16)},O=Acme Fleet`,
      sans: [`dns:device-${serialHex.slice(0, 16)}.fleet.example`],
      notBefore: NOW,
      notAfter: NOW + 30 * DAY,
      tbs: cert.tbs,
      requester: 'admin:token:bench',
      reservedAt: NOW,
    });
    if (r !== 'reserved') throw new Error(r);
    if (cpuMs > 0) busy(cpuMs);
    await store.complete(
      { issuerId: 'devices-1', serialHex, der: cert.der, fingerprint: cert.fingerprint, issuedAt: NOW },
      ev('issue', { issuerId: 'devices-1', serialHex, fingerprint: cert.fingerprint }),
    );
    lat.push(performance.now() - t);
  };
  // Warm-up.
  await Promise.all(Array.from({ length: callers }, () => one()));
  lat.length = 0;
  h.enable();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (performance.now() < end) await one();
    }),
  );
  const elapsed = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  h.disable();
  lat.sort((a, b) => a - b);
  return {
    name,
    perSec: (lat.length * 1000) / elapsed,
    p50: lat[Math.floor(lat.length * 0.5)]!,
    p99: lat[Math.floor(lat.length * 0.99)]!,
    loopP99: h.percentile(99) / 1e6,
    cpuUs: (cpu.user + cpu.system) / lat.length,
  };
}

async function sqliteBench(): Promise<void> {
  // Keyed by the schema's text, so that a changed schema (or seed) is never measured on old files.
  const schema = createHash('sha256')
    .update(JSON.stringify(SQLITE_MIGRATIONS))
    .update(readFileSync(new URL('./store-seed.ts', import.meta.url)))
    .digest('hex')
    .slice(0, 12);
  const seeded = join(tmp, `sqlite-${ROWS}-${schema}.db`);
  const r: (typeof results)[string] = { queries: [], load: [] };
  results.sqlite = r;
  if (!existsSync(seeded)) {
    log(`seeding SQLite with ${ROWS} certificates (kept in ${seeded} for the next runs)…`);
    const t = performance.now();
    const partial = `${seeded}.partial`;
    for (const f of [partial, `${partial}-wal`, `${partial}-shm`]) rmSync(f, { force: true });
    const s = await openStore(`sqlite:${partial}`, { sqlite: { writer: 'inline' } });
    await s.initHierarchy(ISSUERS, ev('init'));
    await s.close();
    seedSqlite(partial, ROWS, NOW, log);
    renameSync(partial, seeded);
    r.seedS = (performance.now() - t) / 1000;
    log(`  seeded in ${r.seedS.toFixed(0)} s`);
  }
  const work = join(tmp, 'sqlite-work.db');
  for (const f of [work, `${work}-wal`, `${work}-shm`]) rmSync(f, { force: true });
  copyFileSync(seeded, work);
  const cursor = await deepCursor('sqlite', work);
  const store = await openStore(`sqlite:${work}`);
  r.queries = await queries(store, cursor);
  printQueries('SQLite', r.queries);
  r.load.push(await load(store, 'SQLite, writer thread', 64, 0));
  r.load.push(await load(store, 'SQLite, writer thread, 0.3 ms CPU each', 64, 0.3));
  await store.close();
  const inline = await openStore(`sqlite:${work}`, { sqlite: { writer: 'inline' } });
  r.load.push(await load(inline, 'SQLite, writer inline', 64, 0));
  r.load.push(await load(inline, 'SQLite, writer inline, 0.3 ms CPU each', 64, 0.3));
  await inline.close();
  for (const f of [work, `${work}-wal`, `${work}-shm`]) rmSync(f, { force: true });
}

async function postgresBench(): Promise<void> {
  const r: (typeof results)[string] = { queries: [], load: [] };
  results.postgres = r;
  // fsync and synchronous_commit on: commits are as durable as SQLite's synchronous=FULL.
  const cluster = startPostgres({
    mode: 'durable',
    settings: { shared_buffers: '512MB', max_wal_size: '4GB' },
  });
  try {
    const url = cluster.url();
    const opts: OpenStoreOptions = {};
    log(`seeding PostgreSQL with ${ROWS} certificates…`);
    const t = performance.now();
    const s = await openStore(url, opts);
    await s.initHierarchy(ISSUERS, ev('init'));
    await s.close();
    await seedPostgres(url, ROWS, NOW, log);
    r.seedS = (performance.now() - t) / 1000;
    log(`  seeded in ${r.seedS.toFixed(0)} s`);
    const cursor = await deepCursor('postgres', url);
    const store = await openStore(url, opts);
    r.queries = await queries(store, cursor);
    printQueries('PostgreSQL', r.queries);
    r.load.push(await load(store, 'PostgreSQL (fsync on)', 64, 0));
    r.load.push(await load(store, 'PostgreSQL (fsync on), 0.3 ms CPU each', 64, 0.3));
    await store.close();
  } finally {
    cluster.stop();
  }
}

function printQueries(title: string, qs: QueryTiming[]): void {
  log(
    `\n${title}, ${ROWS} certificates: findCertificates (median / max of ${QUERY_RUNS}; goal < ${GOAL_MS} ms)`,
  );
  const w = Math.max(...qs.map((q) => q.name.length));
  for (const q of qs)
    log(
      `  ${q.name.padEnd(w)}  ${q.medianMs.toFixed(1).padStart(7)} ms  ${q.maxMs.toFixed(1).padStart(7)} ms  ${String(q.rows).padStart(3)} rows${q.maxMs > GOAL_MS ? '  OVER GOAL' : ''}`,
    );
}

if (ONLY !== 'postgres') await sqliteBench();
if (ONLY !== 'sqlite') await postgresBench();

log(`\nDurable issuances (reserve + complete with audit), 64 concurrent callers, ${LOAD_MS} ms each`);
const all = Object.values(results).flatMap((r) => r.load);
const w = Math.max(...all.map((l) => l.name.length));
log(`  ${''.padEnd(w)}  issuances/s      p50      p99  event-loop p99  CPU/issuance`);
for (const l of all)
  log(
    `  ${l.name.padEnd(w)}  ${l.perSec.toFixed(0).padStart(11)}  ${l.p50.toFixed(1).padStart(6)} ms ${l.p99.toFixed(1).padStart(6)} ms  ${l.loopP99.toFixed(1).padStart(10)} ms  ${l.cpuUs.toFixed(0).padStart(9)} µs`,
  );
log('  (CPU/issuance: this process, every thread; the PostgreSQL server CPU is not in it)');
log(
  `  machine load average during the run: ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')} (${cpus().length} CPUs)`,
);
log(`\nresults: ${writeResults('store', { rows: ROWS, ...results })}`);
