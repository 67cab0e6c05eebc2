// `npm run bench -- provision`: fleet provisioning over MQTT, end to end, on one machine:
// a real Mosquitto (configured by writeCaBrokerConfig), the CA service as `fleetpki serve --mqtt`
// in its own process (its store durable: SQLite WAL, synchronous=FULL), and simulated devices in
// this process, each with its own MQTT connection over mutual TLS.
// Rows:
// - `provision, 50 concurrent`: a device makes a P-256 key and CSR, connects with the claim
//   certificate (MQTT 5, JSON), asks, receives and validates its chain — provisionings/s;
// - `provision + reconnect`: the same for FLEETPKI_BENCH_DEVICES devices (default 1 000), each then
//   reconnecting with its new certificate and publishing on its own topic until the message comes
//   back (proveIdentity) — the total time is the figure the goal speaks of (< 30 s);
// - the floor: the same 50 concurrent devices only reconnecting with an issued certificate and
//   publishing on their own topic (mTLS handshake + MQTT round trip, no CA), in connections/s.
// The load average is printed with the figures: the machine is shared.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { Authority } from '../src/ca/authority.js';
import { loadConfig } from '../src/ca/config.js';
import { KeyStore } from '../src/ca/keys.js';
import { openStore } from '../src/ca/store/index.js';
import { createClaims } from '../src/provision/claim.js';
import { type ProvisionedDevice, proveIdentity, provisionDevice } from '../src/provision/device.js';
import { writeCaBrokerConfig } from '../src/server/broker.js';
import { startMosquitto } from '../test/helpers/mosquitto.js';
import { type BenchResult, printTable, writeResults } from './harness.js';

const DEVICES = Number(process.env.FLEETPKI_BENCH_DEVICES) || 1000;
const CONCURRENCY = 50;
const RATE_N = Math.min(DEVICES, 300);
const root = fileURLToPath(new URL('../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'fleetpki-prov-bench-'));
const data = join(dir, 'data');
mkdirSync(data, { mode: 0o700 });
const configFile = join(dir, 'ca.yaml');
const PASSPHRASE = 'provisioning bench';
const stops: (() => Promise<unknown>)[] = [];
const cleanup = async () => {
  for (const s of stops.reverse()) await s().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
};
process.once('SIGINT', () => cleanup().then(() => process.exit(130)));

writeFileSync(
  configFile,
  stringify({
    provisioning: {
      maxInFlight: 1024,
      rateLimit: { burst: 100_000, perMinute: 6_000_000 },
      claims: { bench: { templates: ['sensor'] } },
      templates: {
        sensor: {
          attributes: { serialNumber: { required: true, pattern: '[A-Z0-9]{4,20}' } },
          subject: { CN: 'sensor-{serialNumber}' },
        },
      },
    },
  }),
);

// The CA, its claim certificate and the broker configuration, made here; then the service runs
// from the same data directory in its own process.
const store = await openStore(`sqlite:${join(data, 'fleetpki.db')}`);
const keys = await KeyStore.open({ dataDir: data, passphrase: PASSPHRASE });
const { authority: ca } = await Authority.init({
  store,
  keys,
  config: loadConfig(configFile),
  background: 'off',
});
const rootPem = ca.rootCertificate().toPem();
const [claim] = await createClaims(ca, { label: 'bench', requester: 'cli:bench' });
const files = await writeCaBrokerConfig(ca, {
  dir: join(dir, 'broker'),
  port: 1,
  requester: 'cli:bench',
  extra: ['max_inflight_messages 0', 'max_queued_messages 10000'],
});
await ca.close();
keys.close();
await store.close();

const conf = readFileSync(files.conf, 'utf8');
const broker = await startMosquitto((port) => {
  writeFileSync(files.conf, conf.replace(/^listener 1 /m, `listener ${port} `));
  return files.conf;
});
stops.push(() => broker.stop());
const url = `mqtts://127.0.0.1:${broker.port}`;

function serveEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, FLEETPKI_PASSPHRASE: PASSPHRASE };
  delete env.DATABASE_URL;
  return env;
}

const serve = spawn(
  process.execPath,
  [
    '--import',
    import.meta.resolve('tsx'),
    join(root, 'src/cli/main.ts'),
    'serve',
    '--data',
    data,
    '--config',
    configFile,
    '--port',
    '0',
    '--log-level',
    'warn',
    '--mqtt',
    url,
  ],
  { env: serveEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
);
stops.push(
  () =>
    new Promise((r) => {
      if (serve.exitCode !== null) return r(undefined);
      serve.once('exit', r);
      serve.kill('SIGTERM');
    }),
);
let serveErr = '';
serve.stderr!.on('data', (d) => {
  serveErr += d;
});
serve.stdout!.resume();

/** Provisions device `i` (CSR, MQTT 5, JSON); with `prove`, reconnects with it and publishes. */
async function device(i: number, prove: boolean, retryMs = 60_000): Promise<ProvisionedDevice> {
  const serial = `B${i.toString().padStart(7, '0')}`;
  const r = await provisionDevice({
    url,
    ca: rootPem,
    claimCert: claim!.certPem,
    claimKey: claim!.keyPem,
    template: 'sensor',
    attributes: { serialNumber: serial },
    subject: `CN=sensor-${serial}`,
    retryMs,
  });
  if (prove) await proveIdentity({ url, ca: rootPem, cert: r.chainPem, key: r.keyPem, topic: r.deviceTopic });
  return r;
}

/** CPU seconds used so far by a process (/proc/PID/stat utime + stime; Linux clock ticks are 1/100 s). */
function cpuOf(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/** CPU seconds of this process (devices), the service and the broker. */
function cpuNow(): { devices: number; service: number; broker: number } {
  const u = process.cpuUsage();
  return { devices: (u.user + u.system) / 1e6, service: cpuOf(serve.pid!), broker: cpuOf(broker.pid) };
}

/** CPU milliseconds per device since `before`, per process. */
function cpuPer(before: ReturnType<typeof cpuNow>, n: number): string {
  const now = cpuNow();
  const ms = (k: keyof typeof now) => (((now[k] - before[k]) * 1000) / n).toFixed(1);
  return `CPU/device: devices ${ms('devices')} ms, service ${ms('service')} ms, broker ${ms('broker')} ms`;
}

/** Runs `task(i)` for i in [from, from + n) with `CONCURRENCY` at once; returns elapsed ms. */
async function pool<T>(from: number, n: number, task: (i: number) => Promise<T>, out?: T[]): Promise<number> {
  let next = from;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < from + n) {
        const i = next++;
        const r = await task(i);
        out?.push(r);
      }
    }),
  );
  return performance.now() - t0;
}

try {
  // Ready: the first device provisions (the service connects and subscribes after it starts).
  const t0 = performance.now();
  for (;;) {
    if (serve.exitCode !== null) throw new Error(`serve exited:\n${serveErr}`);
    try {
      await device(0, false, 2000);
      break;
    } catch (e) {
      if (performance.now() - t0 > 120_000) throw new Error(`service not ready: ${e}\n${serveErr}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  console.log(
    `service ready after ${((performance.now() - t0) / 1000).toFixed(1)} s; load ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );

  // Warm-up (JIT, TLS session caches stay off: each device is a new client).
  await pool(1, 50, (i) => device(i, false));

  const load1 = loadavg()[0]!;
  const provisioned: ProvisionedDevice[] = [];
  let cpu = cpuNow();
  const rateMs = await pool(100, RATE_N, (i) => device(i, false), provisioned);
  const cpu1 = cpuPer(cpu, RATE_N);
  const rate = (RATE_N / rateMs) * 1000;

  const load2 = loadavg()[0]!;
  cpu = cpuNow();
  const allMs = await pool(10_000, DEVICES, (i) => device(i, true));
  const cpu2 = cpuPer(cpu, DEVICES);
  const all = (DEVICES / allMs) * 1000;

  const load3 = loadavg()[0]!;
  const floorN = provisioned.length;
  cpu = cpuNow();
  const floorMs = await pool(0, floorN, (i) => {
    const d = provisioned[i]!;
    return proveIdentity({ url, ca: rootPem, cert: d.chainPem, key: d.keyPem, topic: d.deviceTopic });
  });
  const floor = (floorN / floorMs) * 1000;
  const cpu3 = cpuPer(cpu, floorN);
  for (const [what, c] of [
    ['provision', cpu1],
    ['provision + reconnect', cpu2],
    ['floor', cpu3],
  ])
    console.log(`${what}: ${c}`);

  const results: BenchResult[] = [
    {
      name: `provision, ${CONCURRENCY} concurrent`,
      opsPerSec: rate,
      rounds: [],
      ops: RATE_N,
      note: `${RATE_N} devices in ${(rateMs / 1000).toFixed(1)} s (load ${load1.toFixed(1)})`,
    },
    {
      name: 'provision + reconnect + publish',
      opsPerSec: all,
      rounds: [],
      ops: DEVICES,
      note: `${DEVICES} devices in ${(allMs / 1000).toFixed(1)} s, goal < 30 s for 1000 (load ${load2.toFixed(1)})`,
    },
    {
      name: 'floor: reconnect + publish only',
      opsPerSec: floor,
      rounds: [],
      ops: floorN,
      note: `mTLS connect + MQTT round trip, no CA (load ${load3.toFixed(1)})`,
    },
  ];
  printTable(
    `fleet provisioning over MQTT (Mosquitto, fleetpki serve --mqtt, SQLite durable; ${CONCURRENCY} devices at a time)`,
    results,
    'floor: reconnect + publish only',
    'devices/s',
  );
  writeResults('provision', {
    devices: DEVICES,
    concurrency: CONCURRENCY,
    provisionPerSec: rate,
    thousandDevicesSeconds: (allMs / 1000) * (1000 / DEVICES),
    floorPerSec: floor,
    loadavg: [load1, load2, load3],
    results,
  });
} finally {
  await cleanup();
}
