// `npm run bench -- dashboard`: the dashboard's certificate pages over HTTP at 1 M certificates, on
// SQLite and on PostgreSQL — the real service (Service.start: TLS, authentication, zod validation,
// the Authority, the store) answering the admin API over HTTPS (keep-alive, bearer token), timed
// from the request to the parsed JSON. Goal: the first inventory page, a filtered page and a page
// deep in the cursor each under 200 ms. Next to each, the same query on the store in process (the
// floor the HTTP layer adds to) and the ratio.
//
// The store is seeded with bench/store-seed.ts (the store bench's synthetic population: 3 issuers,
// 1 % revoked, issued over the last year) under a CA the service created itself (issuers `root`,
// `devices-1`, `devices-2`, so the seeded rows belong to real issuers).
//
// Env: FLEETPKI_BENCH_DASHBOARD_ROWS (default 1000000), FLEETPKI_BENCH_DASHBOARD_ONLY=sqlite|postgres.
// The seeded SQLite data directory is kept in .tmp/bench-dashboard/ for the next runs.
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { parseConfig } from '../src/ca/config.js';
// The Node crypto provider (the CLI's entry point registers it the same way).
import '../src/crypto/index.js';
import type { CertificateQuery } from '../src/ca/store/index.js';
import { encodeCursor } from '../src/ca/store/records.js';
import { SQLITE_MIGRATIONS } from '../src/ca/store/sqlite-schema.js';
import { Service } from '../src/server/service.js';
import { startPostgres } from '../test/helpers/postgres.js';
import { writeResults } from './harness.js';
import { DAY, seedPostgres, seedSqlite } from './store-seed.js';

const ROWS = Number(process.env.FLEETPKI_BENCH_DASHBOARD_ROWS) || 1_000_000;
const ONLY = process.env.FLEETPKI_BENCH_DASHBOARD_ONLY;
const RUNS = 15;
const WARMUP = 2;
const GOAL_MS = 200;
const PASSPHRASE = 'dashboard bench passphrase';
const tmp = fileURLToPath(new URL('../.tmp/bench-dashboard/', import.meta.url));
mkdirSync(tmp, { recursive: true });
const log = (s: string) => console.log(s);

/** The seeded rows' issuers, made by the service itself. */
const CONFIG = parseConfig({
  hierarchy: {
    intermediates: [
      { id: 'devices-1', subject: 'CN=Acme Devices CA 1,O=Acme Fleet' },
      { id: 'devices-2', subject: 'CN=Acme Devices CA 2,O=Acme Fleet' },
    ],
    defaultIssuer: 'devices-1',
  },
});

const quiet = new Writable({ write: (_c, _e, cb) => cb() });

function start(dataDir: string, db: string): Promise<Service> {
  return Service.start({
    dataDir,
    db,
    port: 0,
    config: CONFIG,
    env: { FLEETPKI_PASSPHRASE: PASSPHRASE },
    logDestination: quiet,
  });
}

interface Timing {
  name: string;
  goal: boolean;
  httpMedianMs: number;
  httpMaxMs: number;
  storeMedianMs: number;
  rows: number;
}

interface Probe {
  name: string;
  /** The admin API query string. */
  qs: string;
  /** The same query on the store (in process). */
  store: CertificateQuery;
  goal?: boolean;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

function httpGet(svc: Service, agent: Agent, token: string, root: string, path: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${svc.url}${path}`,
      { agent, ca: root, headers: { authorization: `Bearer ${token}`, accept: 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200)
            reject(new Error(`${path}: HTTP ${res.statusCode} ${text.slice(0, 300)}`));
          else resolve(JSON.parse(text));
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function time(svc: Service, p: Probe, agent: Agent, token: string, root: string): Promise<Timing> {
  const http: number[] = [];
  const store: number[] = [];
  let rows = 0;
  for (let i = 0; i < WARMUP + RUNS; i++) {
    let t = performance.now();
    const page = (await httpGet(svc, agent, token, root, `/api/v1/certificates?${p.qs}`)) as {
      items: unknown[];
    };
    const h = performance.now() - t;
    t = performance.now();
    await svc.store.findCertificates(p.store);
    const s = performance.now() - t;
    if (i >= WARMUP) {
      http.push(h);
      store.push(s);
    }
    rows = page.items.length;
  }
  return {
    name: p.name,
    goal: p.goal ?? false,
    httpMedianMs: median(http),
    httpMaxMs: Math.max(...http),
    storeMedianMs: median(store),
    rows,
  };
}

async function timeGet(
  svc: Service,
  agent: Agent,
  token: string,
  root: string,
  path: string,
): Promise<Timing> {
  const http: number[] = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const t = performance.now();
    await httpGet(svc, agent, token, root, path);
    if (i >= WARMUP) http.push(performance.now() - t);
  }
  return {
    name: `GET ${path}`,
    goal: false,
    httpMedianMs: median(http),
    httpMaxMs: Math.max(...http),
    storeMedianMs: Number.NaN,
    rows: 0,
  };
}

/** A cursor ~90 % deep into "issued, newest first", read from the database. */
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

async function measure(svc: Service, cursor: string): Promise<Timing[]> {
  const root = readFileSync(svc.rootPath, 'utf8');
  const token = readFileSync(svc.admin.tokenPath, 'utf8').trim();
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const now = Date.now();
    const mid = await svc.store.findCertificates({ limit: 1, cursor });
    const probe = mid.items[0]!;
    const cn = probe.subject.slice(3, 3 + 'device-'.length + 4).toLowerCase();
    const from = new Date(now).toISOString();
    const to = new Date(now + 7 * DAY).toISOString();
    const probes: Probe[] = [
      { name: 'first page (issued, newest first, 50)', qs: 'limit=50', store: { limit: 50 }, goal: true },
      {
        name: 'filtered page (valid device certs, expiring first, 50)',
        qs: 'status=valid&profile=device&sort=notAfter&order=asc&limit=50',
        store: { status: 'valid', profile: 'device', sort: 'notAfter', order: 'asc', limit: 50 },
        goal: true,
      },
      {
        name: 'deep page (cursor after 90 % of the rows, 50)',
        qs: `limit=50&cursor=${encodeURIComponent(cursor)}`,
        store: { limit: 50, cursor },
        goal: true,
      },
      {
        name: 'SAN exact',
        qs: `san=${encodeURIComponent(probe.sans[0]!)}`,
        store: { san: probe.sans[0]!, limit: 50 },
      },
      {
        name: 'SAN prefix dns:device-ab*',
        qs: `san=${encodeURIComponent('dns:device-ab*')}`,
        store: { san: 'dns:device-ab*', limit: 50 },
      },
      { name: `subject prefix ${cn}`, qs: `subject=${cn}`, store: { subject: cn, limit: 50 } },
      {
        name: `serial prefix ${probe.serialHex.slice(0, 4)}`,
        qs: `serial=${probe.serialHex.slice(0, 4)}`,
        store: { serial: probe.serialHex.slice(0, 4), limit: 50 },
      },
      {
        name: 'expiring in the next 7 days, soonest first',
        qs: `expiresAfter=${from}&expiresBefore=${to}&sort=notAfter&order=asc&limit=50`,
        store: { expiresFrom: now, expiresTo: now + 7 * DAY, sort: 'notAfter', order: 'asc', limit: 50 },
      },
      { name: 'status revoked', qs: 'status=revoked&limit=50', store: { status: 'revoked', limit: 50 } },
      {
        name: 'issuer devices-2, 100 per page',
        qs: 'issuer=devices-2&limit=100',
        store: { issuerId: 'devices-2', limit: 100 },
      },
    ];
    const out: Timing[] = [];
    for (const p of probes) out.push(await time(svc, p, agent, token, root));
    // What the overview and the expiry timeline ask besides pages.
    for (const path of ['/api/v1/statistics?days=90', '/api/v1/cas'])
      out.push(await timeGet(svc, agent, token, root, path));
    return out;
  } finally {
    agent.destroy();
  }
}

function print(title: string, ts: Timing[]): void {
  log(`\n${title}`);
  log(
    `${'query'.padEnd(56)} ${'HTTP median'.padStart(12)} ${'HTTP max'.padStart(9)} ${'store'.padStart(8)} ${'HTTP/store'.padStart(10)}  rows`,
  );
  for (const t of ts) {
    const ratio = Number.isNaN(t.storeMedianMs)
      ? ''
      : `${(t.httpMedianMs / Math.max(t.storeMedianMs, 0.01)).toFixed(1)}×`;
    const flag = t.goal ? (t.httpMaxMs < GOAL_MS ? '  ok' : `  OVER ${GOAL_MS} ms`) : '';
    log(
      `${t.name.padEnd(56)} ${`${t.httpMedianMs.toFixed(1)} ms`.padStart(12)} ${`${t.httpMaxMs.toFixed(1)}`.padStart(9)} ${
        Number.isNaN(t.storeMedianMs) ? ''.padStart(8) : `${t.storeMedianMs.toFixed(1)}`.padStart(8)
      } ${ratio.padStart(10)}  ${String(t.rows).padStart(4)}${flag}`,
    );
  }
}

const results: Record<string, { seedS?: number; timings: Timing[] }> = {};

async function sqliteBench(): Promise<void> {
  const schema = SQLITE_MIGRATIONS.length;
  const seeded = join(tmp, `sqlite-${ROWS}-v${schema}`);
  const r: (typeof results)[string] = { timings: [] };
  results.sqlite = r;
  if (!existsSync(seeded)) {
    log(`SQLite: a new CA, then ${ROWS} certificates seeded (kept in ${seeded} for the next runs)…`);
    const partial = `${seeded}.partial`;
    rmSync(partial, { recursive: true, force: true });
    const t = performance.now();
    await (await start(partial, `sqlite:${join(partial, 'fleetpki.db')}`)).close();
    seedSqlite(join(partial, 'fleetpki.db'), ROWS, Date.now(), log);
    renameSync(partial, seeded);
    r.seedS = (performance.now() - t) / 1000;
    log(`  seeded in ${r.seedS.toFixed(0)} s`);
  }
  const work = join(tmp, 'sqlite-run');
  rmSync(work, { recursive: true, force: true });
  cpSync(seeded, work, { recursive: true });
  try {
    const db = join(work, 'fleetpki.db');
    const cursor = await deepCursor('sqlite', db);
    const svc = await start(work, `sqlite:${db}`);
    try {
      r.timings = await measure(svc, cursor);
    } finally {
      await svc.close();
    }
    print(`SQLite, ${ROWS} certificates — admin API over HTTPS (ms)`, r.timings);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function postgresBench(): Promise<void> {
  const cluster = startPostgres({ mode: 'durable', settings: { shared_buffers: '256MB' } });
  const r: (typeof results)[string] = { timings: [] };
  results.postgres = r;
  const dataDir = join(tmp, 'postgres-run');
  rmSync(dataDir, { recursive: true, force: true });
  try {
    const url = cluster.url();
    log(`\nPostgreSQL: a new CA, then ${ROWS} certificates seeded…`);
    const t = performance.now();
    await (await start(dataDir, url)).close();
    await seedPostgres(url, ROWS, Date.now(), log);
    r.seedS = (performance.now() - t) / 1000;
    log(`  seeded in ${r.seedS.toFixed(0)} s`);
    const cursor = await deepCursor('postgres', url);
    const svc = await start(dataDir, url);
    try {
      r.timings = await measure(svc, cursor);
    } finally {
      await svc.close();
    }
    print(`PostgreSQL, ${ROWS} certificates — admin API over HTTPS (ms)`, r.timings);
  } finally {
    cluster.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

log(
  `dashboard pages at ${ROWS} certificates; load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
if (ONLY !== 'postgres') await sqliteBench();
if (ONLY !== 'sqlite') await postgresBench();
const over = Object.entries(results).flatMap(([k, v]) =>
  v.timings.filter((t) => t.goal && t.httpMaxMs >= GOAL_MS).map((t) => `${k}: ${t.name}`),
);
log(
  over.length
    ? `\nover ${GOAL_MS} ms: ${over.join('; ')}`
    : `\nevery goal page under ${GOAL_MS} ms (max of ${RUNS} runs)`,
);
log(
  `load average after: ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
log(`results: ${writeResults('dashboard', { rows: ROWS, goalMs: GOAL_MS, runs: RUNS, results })}`);
