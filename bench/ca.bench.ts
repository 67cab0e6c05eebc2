// `npm run bench -- ca`: certificate issuance through the CA.
// Rows (the service's HTTP rows and the step-ca / cfssl peers are added next to these):
// - `Authority.issue` in process on the SQLite store, durable (WAL, synchronous=FULL; concurrent
//   requests share group commits): 32 requests in flight, and one at a time — each request does the
//   whole pipeline (CSR parse + proof of possession, policy, build, lint, reserve, sign, verify the
//   signature, complete with its audit record);
// - the same certificate built and signed without CA, store or checks (CertificateBuilder on the
//   parsed CSR): what the pipeline costs on top of signing.
// Latency percentiles are per request. Each row also reports the process's CPU time per
// certificate (both threads: the event loop and the store's writer), which a busy machine changes
// far less than the rates, and the load average during the run.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Authority } from '../src/ca/authority.js';
import { parseConfig } from '../src/ca/config.js';
import { KeyStore } from '../src/ca/keys.js';
import { openStore } from '../src/ca/store/index.js';
import { generateKeyPair, KeySigner } from '../src/crypto/index.js';
import { CertificateBuilder, CsrBuilder, Issuer } from '../src/issue/index.js';
import type { CertificationRequest } from '../src/x509/index.js';
import { type BenchResult, measure, printTable, writeResults } from './harness.js';

const durationMs = Number(process.env.FLEETPKI_BENCH_MS) || 5000;
const dir = mkdtempSync(join(tmpdir(), 'fleetpki-ca-bench-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const store = await openStore(`sqlite:${join(dir, 'fleetpki.db')}`);
const keys = await KeyStore.open({ dataDir: dir, passphrase: 'bench' });
const { authority: ca } = await Authority.init({ store, keys, config: parseConfig({}), background: 'off' });

// 64 device keys and their CSRs (P-256), cycled through.
const csrs: CertificationRequest[] = [];
for (let i = 0; i < 64; i++) {
  const k = await generateKeyPair('ec-p256');
  csrs.push(
    await new CsrBuilder()
      .subject(`CN=device-${i.toString(16).padStart(16, '0')}`)
      .sign(await KeySigner.create(k.privateKey)),
  );
}
let next = 0;
const csr = () => csrs[next++ % csrs.length]!.der;

async function issueOnce(): Promise<void> {
  const r = await ca.issue(csr(), { profile: 'device', requester: 'bench' });
  if (r.status !== 'issued') throw new Error('not issued');
}

/** `inFlight` requests kept running for `ms`; ops/s over rounds, and per-request latency percentiles. */
async function concurrent(
  name: string,
  inFlight: number,
  ms: number,
): Promise<BenchResult & { p50: number; p99: number; cpuUs: number }> {
  const latencies: number[] = [];
  const rounds: number[] = [];
  let ops = 0;
  const roundMs = ms / 5;
  await runFor(Math.max(200, ms / 10), inFlight, () => undefined); // warm-up
  const cpu0 = process.cpuUsage();
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    const n = await runFor(roundMs, inFlight, (l) => latencies.push(l));
    rounds.push((n * 1000) / (performance.now() - t0));
    ops += n;
  }
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!;
  const median = [...rounds].sort((a, b) => a - b)[2]!;
  const p50 = pct(50);
  const p99 = pct(99);
  const cpu = process.cpuUsage(cpu0);
  const cpuUs = (cpu.user + cpu.system) / ops;
  return {
    name,
    opsPerSec: median,
    rounds,
    ops,
    p50,
    p99,
    cpuUs,
    note: `p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, CPU ${Math.round(cpuUs)} µs/cert, load ${loadavg()[0]!.toFixed(1)}`,
  };
}

async function runFor(ms: number, inFlight: number, onLatency: (ms: number) => void): Promise<number> {
  const end = performance.now() + ms;
  let done = 0;
  const worker = async () => {
    while (performance.now() < end) {
      const t = performance.now();
      await issueOnce();
      onLatency(performance.now() - t);
      done++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return done;
}

const results: BenchResult[] = [];
results.push(await concurrent('Authority.issue, 32 in flight (SQLite, durable)', 32, durationMs));
results.push(await concurrent('Authority.issue, 1 in flight (SQLite, durable)', 1, durationMs / 2));

// The floor: the same certificate built and signed with no CA around it.
const intRec = (await store.listIssuers()).find((i) => i.role === 'intermediate')!;
const intSigner = await keys.signer(intRec.key);
const issuer = Issuer.fromCertificate(ca.chain()[0]!, intSigner);
results.push(
  await measure(
    'CertificateBuilder.signSync only (no CSR check, policy, store)',
    () => {
      const c = csrs[next++ % csrs.length]!;
      new CertificateBuilder('device').fromCsr(c).issuer(issuer).days(30).signSync();
    },
    { durationMs: durationMs / 2 },
  ),
);

printTable('issuance (P-256 device certificates)', results, results[0]!.name, 'certs/s');
writeResults('ca', results);
await ca.close();
keys.close();
await store.close();
