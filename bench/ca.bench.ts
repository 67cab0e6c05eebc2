// `npm run bench -- ca`: durable certificate issuance, fleetpki next to the CAs a user would pick
// instead, in the same run.
//
// Over HTTPS (keep-alive, 32 connections with one request in flight each; bench/ca-load.ts drives
// them all the same way), each request a fresh P-256 CSR from a pre-made pool (bench/ca-pool.ts):
// - fleetpki serve, SQLite   POST /api/v1/certificates, bearer token; WAL, synchronous=FULL, group commit
// - fleetpki serve, PostgreSQL  the same on a throwaway cluster with fsync and synchronous_commit on
// - step-ca 0.19             POST /1.0/sign with a one-time token (JWK provisioner), bbolt database
// - cfssl 1.2 serve          POST /api/v1/cfssl/sign, SQLite certdb (no authentication: cfssl's default)
// and in process: `Authority.issue` on SQLite (durable), 32 in flight, in a child process of its
// own (bench/ca-inprocess.ts) so that the load generator's process holds nothing but the load
// generator. bench/ca-peers.ts starts the servers.
//
// The machine is shared, so the CAs take turns: ROUNDS rounds, each giving every CA one window of
// FLEETPKI_BENCH_MS (the order rotates per round). A CA's rate is the median of its windows, and a
// ratio is the median of the per-round ratios (windows next to each other in time). Latencies are
// pooled over the windows. Every window starts on a settled machine: `sync` writes out what the
// previous window left dirty in the page cache (PostgreSQL writes its data pages without fsync
// until its checkpoint), and a short pause lets the previous CA's background work end, so no CA
// pays for another's. Next to
// each rate: the CPU its server processes used per issuance (the PostgreSQL row includes the
// database's processes) and the load average during its windows.
// Before the timed windows every CA gets a warm-up window; step-ca's tokens for a window are signed
// before it starts (the load side then costs every CA the same), and how long that took is shown.
//
// Afterwards: every answered certificate is in the CA's store (SQLite, PostgreSQL, cfssl's certdb),
// no reservation is left unresolved, and one issued certificate per CA passes `openssl verify`.
//
// Env: FLEETPKI_BENCH_MS (window, default 6000), FLEETPKI_BENCH_ROUNDS (default 4),
// FLEETPKI_BENCH_CA_ONLY (comma list of row keys: sqlite, postgres, step-ca, cfssl, inprocess),
// FLEETPKI_BENCH_CA_PROF=1 (the fleetpki servers run with `node --cpu-prof`; profiles in the run dir,
// kept), FLEETPKI_BENCH_CA_POOL (CSR pool size, default 16384), FLEETPKI_BENCH_CA_BASE=<git ref> (adds
// a row: that commit's `fleetpki serve` on SQLite, built into .tmp/bench-ca/ — a change measured
// against the code before it, in the same run).
import { execFileSync, fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
// The Node entry of crypto/ makes node:crypto the default provider (as the CLI's imports do).
import '../src/crypto/index.js';
import { startPostgres } from '../test/helpers/postgres.js';
import type { InProcessWindow } from './ca-inprocess.js';
import { drive, percentile, processTreeCpuMs } from './ca-load.js';
import {
  buildBaseline,
  buildStepCa,
  findCfssl,
  type Peer,
  startCfssl,
  startFleetpki,
  startStepCa,
} from './ca-peers.js';
import { csrPool, type PooledCsr } from './ca-pool.js';
import { askChild, buildDist, writeResults } from './harness.js';

const WINDOW_MS = Number(process.env.FLEETPKI_BENCH_MS) || 6000;
const ROUNDS = Number(process.env.FLEETPKI_BENCH_ROUNDS) || 4;
// A full window: on a loaded machine the Node servers reach their optimised code only after a few
// thousand requests (their rates still rose from round to round with a 3 s warm-up).
const WARMUP_MS = WINDOW_MS;
const CONNECTIONS = 32;
const SETTLE_MS = 1000;
const POOL = Number(process.env.FLEETPKI_BENCH_CA_POOL) || 16_384;
const ONLY = process.env.FLEETPKI_BENCH_CA_ONLY?.split(',').map((s) => s.trim());
const PROFILE = process.env.FLEETPKI_BENCH_CA_PROF === '1';
const BASE = process.env.FLEETPKI_BENCH_CA_BASE;
const ALL_KEYS = ['sqlite', 'base', 'postgres', 'step-ca', 'cfssl', 'inprocess'] as const;
type Key = (typeof ALL_KEYS)[number];
const wanted = (k: Key) => (k === 'base' ? BASE !== undefined : !ONLY || ONLY.includes(k));

const say = (s: string) => console.log(s);
const load = () => loadavg()[0]!;
const repo = fileURLToPath(new URL('../', import.meta.url));
const cacheDir = join(repo, '.tmp', 'bench-ca');
mkdirSync(cacheDir, { recursive: true });
// Run state on the real disk (the system temp dir is not a tmpfs here: fsync costs what it costs).
const runDir = mkdtempSync(join(tmpdir(), 'fbca-'));
const cleanups: (() => Promise<void> | void)[] = [];
process.on('exit', () => {
  if (!PROFILE) rmSync(runDir, { recursive: true, force: true });
});

/** One timed window of one CA. */
interface Window {
  round: number;
  perSec: number;
  ok: number;
  failed: number;
  latencies: number[];
  elapsedMs: number;
  serverCpuMs: number;
  loadCpuMs: number;
  /** 1-minute load average at the start and the end of the window. */
  loadBefore: number;
  loadAfter: number;
  /** Time spent before the window making its request bodies (step-ca's tokens), ms. */
  prepMs: number;
  firstFailure?: string;
}

interface Target {
  key: Key;
  name: string;
  /** Runs one window (after preparing its bodies). */
  window(ms: number, round: number): Promise<Window>;
  /** Checks after the last window (stored counts, a certificate verified): notes for the report. */
  check(okTotal: number): Promise<string[]>;
  windows: Window[];
  /** The rate of the latest window, warm-up included (sizes the next window's bodies). */
  lastRate?: number;
}

say(
  `ca bench: window ${WINDOW_MS} ms, ${ROUNDS} rounds, ${CONNECTIONS} connections; load average ${fmtLoad()}`,
);
const pool = await csrPool(cacheDir, POOL, say);

/** Between windows: the page cache written out, then a pause (see the header). */
async function settle(): Promise<void> {
  execFileSync('sync');
  await new Promise((r) => setTimeout(r, SETTLE_MS));
}

/** Each CA walks the pool from its own cursor, so a CSR comes back only after POOL requests. */
function cursor(): () => PooledCsr {
  let i = 0;
  return () => pool[i++ % pool.length]!;
}

/** Expected requests in a window, from the last window's rate (generously). */
function bodiesFor(t: Target, ms: number): number {
  const last = t.lastRate ?? 600;
  return Math.ceil((Math.max(last, 200) * 1.5 * ms) / 1000) + 500;
}

function httpTarget(
  key: Key,
  name: string,
  peer: Peer,
  path: string,
  headers: Record<string, string>,
  ok: readonly number[],
  body: () => string,
  check: (okTotal: number, sample: string | undefined) => Promise<string[]>,
  cpuRoots: () => number[],
): Target {
  let sample: string | undefined;
  const cpu = () => cpuRoots().reduce((s, pid) => s + processTreeCpuMs(pid), 0);
  const t: Target = {
    key,
    name,
    windows: [],
    async window(ms, round) {
      const p0 = performance.now();
      const bodies = Array.from({ length: bodiesFor(t, ms) }, body);
      const prepMs = performance.now() - p0;
      const loadBefore = load();
      const c0 = cpu();
      const r = await drive({
        origin: peer.origin,
        path,
        headers,
        bodies,
        connections: CONNECTIONS,
        durationMs: ms,
        ok,
      });
      const serverCpuMs = cpu() - c0;
      sample ??= r.sample;
      return {
        round,
        perSec: r.perSec,
        ok: r.ok,
        failed: r.failed,
        latencies: r.latencies,
        elapsedMs: r.elapsedMs,
        serverCpuMs,
        loadCpuMs: r.loadCpuMs,
        loadBefore,
        loadAfter: load(),
        prepMs,
        ...(r.firstFailure ? { firstFailure: r.firstFailure } : {}),
        ...(r.used > bodies.length
          ? { firstFailure: `body list wrapped (${r.used} > ${bodies.length})` }
          : {}),
      };
    },
    check: (okTotal) => check(okTotal, sample),
  };
  return t;
}

/** `openssl verify` of a leaf against a root with the intermediates given: a note for the report. */
function opensslVerify(what: string, leafPem: string, chainPem: string, rootPem: string): string {
  const d = mkdtempSync(join(runDir, 'verify-'));
  writeFileSync(join(d, 'leaf.pem'), leafPem);
  writeFileSync(join(d, 'chain.pem'), chainPem);
  writeFileSync(join(d, 'root.pem'), rootPem);
  try {
    execFileSync(
      'openssl',
      ['verify', '-x509_strict', '-CAfile', 'root.pem', '-untrusted', 'chain.pem', 'leaf.pem'],
      {
        cwd: d,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    return `${what}: a certificate it issued passes openssl verify -x509_strict`;
  } catch (e) {
    const err = e as { stdout?: Buffer; stderr?: Buffer };
    return `${what}: openssl verify FAILED: ${String(err.stdout ?? '')}${String(err.stderr ?? '')}`.trim();
  }
}

const targets: Target[] = [];
const skipped: string[] = [];

// ---- fleetpki serve ------------------------------------------------------------------------------

async function fleetpkiTarget(key: 'sqlite' | 'postgres' | 'base'): Promise<void> {
  let db: string | undefined;
  let pgCluster: ReturnType<typeof startPostgres> | undefined;
  let pgPid: (() => number) | undefined;
  let pgSettings = '';
  if (key === 'postgres') {
    // `durable`: the server's defaults — fsync, synchronous_commit and full_page_writes on (the
    // helper's default for tests turns them off).
    pgCluster = startPostgres({ mode: 'durable', settings: { max_connections: 200 } });
    cleanups.push(() => pgCluster!.stop());
    db = pgCluster.url();
    const c = new pg.Client({ connectionString: db });
    await c.connect();
    const show = async (n: string) => (await c.query(`SHOW ${n}`)).rows[0][n] as string;
    pgSettings = `fsync=${await show('fsync')}, synchronous_commit=${await show('synchronous_commit')}, full_page_writes=${await show('full_page_writes')}`;
    await c.end();
    if (!pgSettings.startsWith('fsync=on, synchronous_commit=on'))
      throw new Error(`the bench's PostgreSQL is not durable: ${pgSettings}`);
    const pidFile = join(pgCluster.dir, 'data', 'postmaster.pid');
    pgPid = () => Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  }
  const dataDir = join(runDir, `fleetpki-${key}`, 'data');
  mkdirSync(dataDir, { recursive: true });
  const base = key === 'base' ? buildBaseline(BASE!, cacheDir, say) : undefined;
  const peer = await startFleetpki({
    name: `fleetpki-${key}`,
    dataDir,
    db,
    root: base?.root,
    nodeArgs: PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${join(runDir, `prof-${key}`)}`] : [],
  });
  cleanups.push(() => peer.stop());
  const next = cursor();
  const name =
    key === 'postgres'
      ? 'fleetpki serve, PostgreSQL'
      : `fleetpki serve${base ? ` @${base.sha}` : ''}, SQLite`;
  targets.push(
    httpTarget(
      key,
      name,
      peer,
      '/api/v1/certificates',
      { authorization: peer.authorization, 'content-type': 'application/json' },
      [201],
      () => JSON.stringify({ csr: next().pem, profile: 'device' }),
      async (okTotal, sample) => {
        const notes: string[] = [];
        if (key === 'postgres') notes.push(`PostgreSQL ${pgSettings}`);
        // Requests still in flight when the last window closed finish first (up to 30 s).
        let counts = await storedStates(key === 'postgres' ? 'postgres' : 'sqlite', dataDir, db);
        for (let i = 0; i < 60 && counts.reserved; i++) {
          await new Promise((r) => setTimeout(r, 500));
          counts = await storedStates(key === 'postgres' ? 'postgres' : 'sqlite', dataDir, db);
        }
        const issued = counts.issued ?? 0;
        notes.push(
          `${name}: ${okTotal} certificates answered, ${issued} issued in the store (incl. the service's own), ` +
            `${counts.reserved ?? 0} reservations unresolved${issued >= okTotal && !counts.reserved ? '' : ' — MISMATCH'}`,
        );
        if (sample) {
          const s = JSON.parse(sample) as { pem: string; chainPem: string };
          notes.push(opensslVerify(name, s.pem, s.chainPem, peer.rootPem));
        }
        return notes;
      },
      () => [peer.pid, ...(pgPid ? [pgPid()] : [])],
    ),
  );
}

/** Certificates by state, read from the database itself. */
async function storedStates(
  key: 'sqlite' | 'postgres',
  dataDir: string,
  url?: string,
): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const sql = 'SELECT state, count(*) AS n FROM certificates GROUP BY state';
  if (key === 'sqlite') {
    const d = new Database(join(dataDir, 'fleetpki.db'), { readonly: true });
    try {
      for (const r of d.prepare(sql).all() as { state: string; n: number }[]) out[r.state] = r.n;
    } finally {
      d.close();
    }
  } else {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      for (const r of (await c.query(sql)).rows as { state: string; n: string }[]) out[r.state] = Number(r.n);
    } finally {
      await c.end();
    }
  }
  return out;
}

// ---- step-ca, cfssl ------------------------------------------------------------------------------

async function stepCaTarget(): Promise<void> {
  const built = buildStepCa(join(cacheDir, 'step-ca'));
  if (!built.bin) {
    skipped.push(`step-ca: not measured — ${built.why}`);
    return;
  }
  const dir = join(runDir, 'step-ca');
  mkdirSync(dir);
  const peer = await startStepCa(built.bin, dir);
  cleanups.push(() => peer.stop());
  const next = cursor();
  targets.push(
    httpTarget(
      'step-ca',
      'step-ca 0.19, bbolt',
      peer,
      '/1.0/sign',
      { 'content-type': 'application/json' },
      [200, 201],
      () => {
        const c = next();
        return JSON.stringify({ csr: c.pem, ott: peer.token(c.cn) });
      },
      async (_okTotal, sample) => {
        if (!sample) return ['step-ca: no certificate answered'];
        const s = JSON.parse(sample) as { crt: string; ca: string };
        return [opensslVerify('step-ca', s.crt, s.ca, peer.rootPem)];
      },
      () => [peer.pid],
    ),
  );
}

async function cfsslTarget(): Promise<void> {
  const found = findCfssl();
  if (found.why) {
    skipped.push(`cfssl: not measured — ${found.why}`);
    return;
  }
  const dir = join(runDir, 'cfssl');
  mkdirSync(dir);
  const peer = await startCfssl(dir);
  cleanups.push(() => peer.stop());
  const next = cursor();
  const intPem = readFileSync(join(dir, 'int.pem'), 'utf8');
  targets.push(
    httpTarget(
      'cfssl',
      'cfssl 1.2 serve, SQLite certdb',
      peer,
      '/api/v1/cfssl/sign',
      { 'content-type': 'application/json' },
      [200],
      () => JSON.stringify({ certificate_request: next().pem, profile: 'client' }),
      async (okTotal, sample) => {
        const stored = peer.storedCount();
        const notes = [
          `cfssl: ${okTotal} certificates answered, ${stored} in its certdb${stored >= okTotal ? '' : ' — MISMATCH'}`,
        ];
        if (sample) {
          const s = JSON.parse(sample) as { result: { certificate: string } };
          notes.push(opensslVerify('cfssl', s.result.certificate, intPem, peer.rootPem));
        }
        return notes;
      },
      () => [peer.pid],
    ),
  );
}

// ---- Authority.issue in process ------------------------------------------------------------------

/** Asks the in-process row's child (bench/ca-inprocess.ts), once started. */
let askInProcess: (<T>(cmd: Record<string, unknown>, key: string) => Promise<T>) | undefined;

async function inProcessTarget(): Promise<void> {
  const dir = join(runDir, 'inprocess');
  mkdirSync(dir);
  const child = fork(fileURLToPath(new URL('./ca-inprocess.ts', import.meta.url)), {
    execArgv: process.execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  cleanups.push(async () => {
    if (child.exitCode === null && child.connected)
      await ask({ close: true }, 'closed').catch(() => undefined);
    child.kill('SIGTERM');
  });
  const ask = <T>(cmd: Record<string, unknown>, key: string) => askChild<T>(child, cmd, key);
  await ask({ init: { dir, cacheDir, pool: POOL } }, 'ready');
  askInProcess = ask;
  const t: Target = {
    key: 'inprocess',
    name: 'Authority.issue in process, SQLite',
    windows: [],
    async window(ms, round) {
      const loadBefore = load();
      const w = await ask<InProcessWindow>({ window: { ms, connections: CONNECTIONS } }, 'window');
      return {
        round,
        perSec: w.perSec,
        ok: w.ok,
        failed: w.failed,
        latencies: w.latencies,
        elapsedMs: w.elapsedMs,
        serverCpuMs: w.cpuMs,
        loadCpuMs: 0,
        loadBefore,
        loadAfter: load(),
        prepMs: 0,
        ...(w.firstFailure ? { firstFailure: w.firstFailure } : {}),
      };
    },
    async check(okTotal) {
      const counts = await storedStates('sqlite', dir);
      return [
        `in process: ${okTotal} issued, ${counts.issued ?? 0} in the store, ${counts.reserved ?? 0} reservations unresolved`,
      ];
    },
  };
  targets.push(t);
}

// ---- run -----------------------------------------------------------------------------------------

try {
  if (wanted('sqlite') || wanted('postgres')) buildDist(say);
  if (wanted('sqlite')) await fleetpkiTarget('sqlite');
  if (wanted('base')) await fleetpkiTarget('base');
  if (wanted('postgres')) await fleetpkiTarget('postgres');
  if (wanted('step-ca')) await stepCaTarget();
  if (wanted('cfssl')) await cfsslTarget();
  if (wanted('inprocess')) await inProcessTarget();
  for (const s of skipped) say(s);
  say(`started: ${targets.map((t) => t.name).join('; ')}; load average ${fmtLoad()}`);

  for (const t of targets) {
    await settle();
    const w = await t.window(WARMUP_MS, 0);
    t.lastRate = w.perSec;
    say(
      `  warm-up ${t.name}: ${w.perSec.toFixed(0)}/s${w.failed ? `, ${w.failed} failed: ${w.firstFailure}` : ''}`,
    );
    if (w.ok === 0) throw new Error(`${t.name} issued nothing in its warm-up: ${w.firstFailure}`);
  }
  for (let round = 1; round <= ROUNDS; round++) {
    for (let i = 0; i < targets.length; i++) {
      const t = targets[(i + round - 1) % targets.length]!;
      await settle();
      const w = await t.window(WINDOW_MS, round);
      t.windows.push(w);
      t.lastRate = w.perSec;
      say(
        `  round ${round} ${t.name}: ${w.perSec.toFixed(0)}/s, p50 ${percentile(w.latencies, 50).toFixed(1)} ms, ` +
          `p99 ${percentile(w.latencies, 99).toFixed(1)} ms, server CPU ${(w.serverCpuMs / Math.max(1, w.ok)).toFixed(2)} ms/issue, ` +
          `load ${w.loadBefore.toFixed(1)}→${w.loadAfter.toFixed(1)}${w.failed ? `, ${w.failed} failed: ${w.firstFailure}` : ''}`,
      );
    }
  }

  const notes: string[] = [];
  for (const t of targets) notes.push(...(await t.check(t.windows.reduce((s, w) => s + w.ok, 0))));

  // Informational rows, outside the rotation.
  const extra: { name: string; perSec: number; note: string }[] = [];
  if (askInProcess) {
    const x = await askInProcess<{ oneInFlight: number; floor: number }>(
      { extras: { ms: WINDOW_MS / 2 } },
      'extras',
    );
    extra.push({
      name: 'Authority.issue in process, 1 in flight (SQLite)',
      perSec: x.oneInFlight,
      note: 'one fsync per request',
    });
    extra.push({
      name: 'CertificateBuilder.signSync only',
      perSec: x.floor,
      note: 'no CSR check, policy, store: the floor',
    });
  }

  const report = summarise(targets, extra, notes);
  say(report.text);
  writeResults('ca', report.json);
} finally {
  for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
}

// ---- report --------------------------------------------------------------------------------------

function fmtLoad(): string {
  return loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Median over the rounds of this target's rate divided by the other's in the same round. */
function ratio(t: Target, other: Target | undefined): number {
  if (!other) return Number.NaN;
  const per = t.windows.flatMap((w) => {
    const o = other.windows.find((x) => x.round === w.round);
    return o && o.perSec > 0 ? [w.perSec / o.perSec] : [];
  });
  return median(per);
}

function summarise(ts: Target[], extra: { name: string; perSec: number; note: string }[], notes: string[]) {
  const step = ts.find((t) => t.key === 'step-ca');
  const cfssl = ts.find((t) => t.key === 'cfssl');
  const base = ts.find((t) => t.key === 'base');
  const rows = ts.map((t) => {
    const lat = t.windows.flatMap((w) => w.latencies);
    const ok = t.windows.reduce((s, w) => s + w.ok, 0);
    const rates = t.windows.map((w) => w.perSec);
    const perSec = median(rates);
    const spread = Math.max(...rates.map((r) => Math.abs(r - perSec))) / perSec;
    return {
      key: t.key,
      name: t.name,
      perSec,
      spread,
      p50: percentile(lat, 50),
      p99: percentile(lat, 99),
      serverCpuMsPerIssue: t.windows.reduce((s, w) => s + w.serverCpuMs, 0) / Math.max(1, ok),
      loadCpuMsPerRequest: t.windows.reduce((s, w) => s + w.loadCpuMs, 0) / Math.max(1, ok),
      prepMsPerRequest: t.windows.reduce((s, w) => s + w.prepMs, 0) / Math.max(1, ok),
      vsStepCa: t === step ? 1 : ratio(t, step),
      vsCfssl: t === cfssl ? 1 : ratio(t, cfssl),
      vsBase: t === base ? 1 : ratio(t, base),
      ok,
      failed: t.windows.reduce((s, w) => s + w.failed, 0),
      load: median(t.windows.flatMap((w) => [w.loadBefore, w.loadAfter])),
      windows: t.windows.map(({ latencies, ...w }) => ({
        ...w,
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
      })),
    };
  });
  const fx = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');
  const head = [
    '',
    'issued/s',
    'spread',
    'p50 ms',
    'p99 ms',
    'CPU ms/issue',
    'vs step-ca',
    'vs cfssl',
    'load',
    'failed',
  ];
  const cells = rows.map((r) => [
    r.name,
    fx(r.perSec, 0),
    `±${fx(r.spread * 100)}%`,
    fx(r.p50),
    fx(r.p99),
    fx(r.serverCpuMsPerIssue, 2),
    Number.isFinite(r.vsStepCa) ? `${fx(r.vsStepCa, 2)}x` : '-',
    Number.isFinite(r.vsCfssl) ? `${fx(r.vsCfssl, 2)}x` : '-',
    fx(r.load),
    String(r.failed),
    ...(base ? [Number.isFinite(r.vsBase) ? `${fx(r.vsBase, 2)}x` : '-'] : []),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) =>
    c.map((x, i) => (i === 0 ? x.padEnd(widths[i]!) : x.padStart(widths[i]!))).join('  ');
  const lines = [
    '',
    `durable issuance over HTTPS, ${CONNECTIONS} keep-alive connections, fresh P-256 CSR per request; ` +
      `${ROUNDS} rounds x ${WINDOW_MS / 1000} s per CA (median); load average now ${fmtLoad()} on ${navigatorCpus()} CPUs`,
    line(head),
    ...cells.map(line),
    ...extra.map((e) => `${e.name}: ${fx(e.perSec, 0)}/s (${e.note})`),
    '',
    'CPU ms/issue: the CA server process(es) (PostgreSQL row: fleetpki + PostgreSQL; in-process row: its',
    `own process, every thread). Load generator: ${rows
      .filter((r) => r.key !== 'inprocess')
      .map(
        (r) =>
          `${r.name} ${fx(r.loadCpuMsPerRequest, 2)} ms/req${r.prepMsPerRequest > 0.001 ? ` (+${fx(r.prepMsPerRequest, 3)} ms/req made before the window)` : ''}`,
      )
      .join('; ')}.`,
    ...skipped,
    ...notes,
  ];
  const sqlite = rows.find((r) => r.key === 'sqlite');
  if (sqlite) {
    const goal = (ok: boolean) => (ok ? 'met' : 'NOT met');
    lines.push(
      '',
      `goals (fleetpki serve, SQLite): >= 1000/s: ${goal(sqlite.perSec >= 1000)} (${fx(sqlite.perSec, 0)}/s); ` +
        `>= 2x step-ca: ${Number.isFinite(sqlite.vsStepCa) ? `${goal(sqlite.vsStepCa >= 2)} (${fx(sqlite.vsStepCa, 2)}x)` : 'not measured'}; ` +
        `>= 5x cfssl: ${Number.isFinite(sqlite.vsCfssl) ? `${goal(sqlite.vsCfssl >= 5)} (${fx(sqlite.vsCfssl, 2)}x)` : 'not measured'}; ` +
        `p99 < 50 ms: ${goal(sqlite.p99 < 50)} (${fx(sqlite.p99)} ms); load average ${fx(sqlite.load)}`,
    );
  }
  return {
    text: lines.join('\n'),
    json: {
      windowMs: WINDOW_MS,
      rounds: ROUNDS,
      connections: CONNECTIONS,
      loadavgEnd: loadavg(),
      rows,
      extra,
      notes: [...skipped, ...notes],
    },
  };
}

function navigatorCpus(): number {
  return Number(execFileSync('nproc', { encoding: 'utf8' }).trim());
}
