// The in-process row of `npm run bench -- ca` (`Authority.issue` on SQLite, durable), in a process
// of its own. Run in the bench's own process it shared that process with the load generator of
// every HTTP row: its heap (and the collections it needs) and its store's threads stayed there
// after its window, so the next CA's window was measured by a load generator that paused for
// them. Here it is a child, and between its windows it is idle.
//
// Commands over IPC, each answered with a message carrying the command's key:
//   init {dir, cacheDir, pool}  → ready        open the store and the Authority, read the CSR pool
//   window {ms, connections}    → window       `connections` loops of `ca.issue`, timed
//   extras {ms}                 → extras       1 in flight; build+sign only (the floor)
//   close                       → closed
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Authority } from '../src/ca/authority.js';
import { parseConfig } from '../src/ca/config.js';
import { KeyStore } from '../src/ca/keys.js';
import { openStore } from '../src/ca/store/index.js';
// The Node entry of crypto/ makes node:crypto the default provider (as the CLI's imports do).
import '../src/crypto/index.js';
import { CertificateBuilder, Issuer } from '../src/issue/index.js';
import { parseCsr } from '../src/x509/csr.js';
import { csrPool, type PooledCsr } from './ca-pool.js';
import { measure } from './harness.js';

export interface InProcessWindow {
  perSec: number;
  ok: number;
  failed: number;
  latencies: number[];
  elapsedMs: number;
  /** CPU of this whole process (every thread) during the window. */
  cpuMs: number;
  firstFailure?: string;
}

let state:
  | { ca: Authority; keys: KeyStore; store: Awaited<ReturnType<typeof openStore>>; pool: PooledCsr[] }
  | undefined;
let cursor = 0;
const next = () => state!.pool[cursor++ % state!.pool.length]!;

async function init(o: { dir: string; cacheDir: string; pool: number }): Promise<number> {
  const store = await openStore(`sqlite:${join(o.dir, 'fleetpki.db')}`);
  const keys = await KeyStore.open({ dataDir: o.dir, passphrase: 'bench' });
  const { authority: ca } = await Authority.init({ store, keys, config: parseConfig({}), background: 'off' });
  const pool = await csrPool(o.cacheDir, o.pool, () => undefined);
  state = { ca, keys, store, pool };
  return process.pid;
}

async function window(o: { ms: number; connections: number }): Promise<InProcessWindow> {
  const { ca } = state!;
  const latencies: number[] = [];
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + o.ms;
  let failed = 0;
  let firstFailure: string | undefined;
  const worker = async () => {
    while (performance.now() < end) {
      const s = performance.now();
      try {
        const r = await ca.issue(next().der, { profile: 'device', requester: 'bench' });
        if (r.status !== 'issued') throw new Error(r.status);
        latencies.push(performance.now() - s);
      } catch (e) {
        failed++;
        firstFailure ??= String(e);
      }
    }
  };
  await Promise.all(Array.from({ length: o.connections }, worker));
  const elapsedMs = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return {
    perSec: (latencies.length * 1000) / elapsedMs,
    ok: latencies.length,
    failed,
    latencies,
    elapsedMs,
    cpuMs: (c.user + c.system) / 1000,
    ...(firstFailure ? { firstFailure } : {}),
  };
}

async function extras(o: { ms: number }): Promise<{ oneInFlight: number; floor: number }> {
  const { ca, keys, store, pool } = state!;
  const one = await measure(
    'Authority.issue, 1 in flight',
    async () => {
      await ca.issue(next().der, { profile: 'device', requester: 'bench' });
    },
    { durationMs: o.ms },
  );
  const intRec = (await store.listIssuers()).find((i) => i.role === 'intermediate')!;
  const issuer = Issuer.fromCertificate(ca.chain()[0]!, await keys.signer(intRec.key));
  const parsed = pool.slice(0, 256).map((c) => parseCsr(c.der));
  let n = 0;
  const floor = await measure(
    'build+sign only',
    () => {
      new CertificateBuilder('device')
        .fromCsr(parsed[n++ % parsed.length]!)
        .issuer(issuer)
        .days(30)
        .signSync();
    },
    { durationMs: o.ms },
  );
  return { oneInFlight: one.opsPerSec, floor: floor.opsPerSec };
}

async function close(): Promise<true> {
  if (state) {
    await state.ca.close();
    state.keys.close();
    await state.store.close();
    state = undefined;
  }
  return true;
}

type Command =
  | { init: Parameters<typeof init>[0] }
  | { window: Parameters<typeof window>[0] }
  | {
      extras: Parameters<typeof extras>[0];
    }
  | { close: true };

process.on('message', (m: Command) => {
  const run = async (): Promise<Record<string, unknown>> => {
    if ('init' in m) return { ready: await init(m.init) };
    if ('window' in m) return { window: await window(m.window) };
    if ('extras' in m) return { extras: await extras(m.extras) };
    return { closed: await close() };
  };
  run().then(
    (answer) => process.send!(answer),
    (e) => process.send!({ error: String((e as Error)?.stack ?? e) }),
  );
});
// The parent going away takes this process with it.
process.on('disconnect', () => {
  close().finally(() => process.exit(0));
});
