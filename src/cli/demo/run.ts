import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { parseConfig } from '../../ca/config.js';
import { exportKey, generateKeyPair } from '../../crypto/keys.js';
import { KeySigner } from '../../crypto/signer.js';
import { importBootstrapTrust } from '../../est/bootstrap.js';
import { EstClient } from '../../est/client.js';
import { enrollDevice, renewalDue } from '../../est/enroll.js';
import { CertificateBuilder, CrlBuilder, Issuer } from '../../issue/index.js';
import { BrokerCrlSync, writeCaBrokerConfig } from '../../server/broker.js';
import { Service } from '../../server/service.js';
import type { Certificate } from '../../x509/certificate.js';
import { type BrokerProcess, PortInUse, startMosquitto } from './mosquitto.js';
import { Progress } from './progress.js';

/**
 * `fleetpki demo`: the whole story on one machine, with real parts only — the CA service (SQLite in
 * a temporary directory) with EST and plain-HTTP OCSP, a demo manufacturing CA whose bootstrap
 * certificates the CA is told to trust, a real Mosquitto configured from the CA (broker.ts), and N
 * simulated devices that each make a key, enroll over EST with their bootstrap certificate, connect
 * to the broker over mutual TLS (mqtt.js) and publish telemetry. Then one device is revoked — the
 * broker's CRL file is rewritten and the broker signalled — and its next connection is refused while
 * the others keep publishing; then one device's certificate reaches its renewal threshold and the
 * device re-enrolls (/simplereenroll with its own certificate) and reconnects with the new one.
 *
 * Renewal: the Authority issues for whole days, so instead of a certificate valid for minutes the
 * renewing device uses a renewal threshold that its certificate reaches `renewAfterMs` after
 * issuance (the same `renewalDue` rule `fleetpki enroll --watch` uses, with its fraction set so).
 */
export interface DemoOptions {
  devices: number;
  /** Devices enrolling/connecting at once. Default 50. */
  concurrency?: number;
  /** When the renewing device's certificate becomes due. Default 3 s. */
  renewAfterMs?: number;
  signal?: AbortSignal;
  progress?: Progress;
}

export interface DemoResult {
  devices: number;
  enrolled: number;
  connected: number;
  published: number;
  /** Connections refused after revocation (expected: the revoked device's). */
  refused: number;
  /** Devices that kept publishing after the revocation. */
  stillPublishing: number;
  renewed: number;
  timings: Record<string, number>;
  ok: boolean;
}

interface Device {
  cn: string;
  bootstrap: { cert: string; key: string };
  certificate?: Certificate;
  chainPem?: string;
  keyPem?: string;
  client?: MqttClient;
}

const TOPIC_ROOT = 'devices';

export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const progress = o.progress ?? new Progress();
  const timings: Record<string, number> = {};
  const cleanup: (() => Promise<void> | void)[] = [];
  const t0 = performance.now();
  let mark = t0;
  const lap = (name: string) => {
    const now = performance.now();
    timings[name] = Math.round(now - mark);
    mark = now;
  };
  const aborted = () => {
    if (o.signal?.aborted) throw new Error('interrupted');
  };
  const result: DemoResult = {
    devices: o.devices,
    enrolled: 0,
    connected: 0,
    published: 0,
    refused: 0,
    stillPublishing: 0,
    renewed: 0,
    timings,
    ok: false,
  };
  const dir = mkdtempSync(join(tmpdir(), 'fleetpki-demo-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  try {
    progress.begin('starting the CA service (SQLite, EST, OCSP)');
    const svc = await Service.start({
      dataDir: join(dir, 'ca'),
      port: 0,
      revocationPort: 0,
      logLevel: 'silent',
      env: { ...process.env, FLEETPKI_PASSPHRASE: 'fleetpki demo passphrase (throwaway CA)' },
      config: parseConfig({
        crl: { debounceMs: 0 },
        est: {
          labels: {
            default: { profile: 'device', subject: 'device-[0-9]{4,6}', bootstrap: { subject: '{cn}' } },
          },
        },
      }),
    });
    cleanup.unshift(() => svc.close());
    const ca = svc.authority;
    const root = ca.rootCertificate();
    aborted();
    lap('ca');

    progress.begin('demo manufacturing CA: bootstrap certificates', o.devices);
    const factory = await manufacturingCa();
    const devices: Device[] = [];
    for (let i = 1; i <= o.devices; i++) {
      const cn = `device-${String(i).padStart(4, '0')}`;
      devices.push({ cn, bootstrap: await factory.bootstrap(cn) });
      if (i % 50 === 0 || i === o.devices) progress.tick(i % 50 || 50);
    }
    await importBootstrapTrust(ca, 'default', {
      certificates: [factory.certificate],
      crls: [await factory.crl()],
      requester: 'cli:demo',
    });
    await svc.est!.reload();
    aborted();
    lap('bootstrap');

    progress.begin('broker configuration from the CA, Mosquitto started');
    const brokerDir = join(dir, 'broker');
    mkdirSync(brokerDir);
    let broker: BrokerProcess | undefined;
    let port = 0;
    for (let attempt = 0; attempt < 8 && !broker; attempt++) {
      port = 20000 + Math.floor(Math.random() * 40000);
      await writeCaBrokerConfig(ca, {
        dir: brokerDir,
        port,
        requester: 'cli:demo',
        extra: ['max_connections -1', 'max_queued_messages 1000'],
      });
      try {
        broker = await startMosquitto(join(brokerDir, 'mosquitto.conf'), { signal: o.signal });
      } catch (e) {
        if (!(e instanceof PortInUse)) throw e;
      }
    }
    if (!broker) throw new Error('no free port for the broker');
    const b = broker;
    cleanup.unshift(() => b.stop());
    const crlSync = new BrokerCrlSync(ca, { dir: brokerDir, pollMs: 500 });
    await crlSync.start();
    cleanup.unshift(() => crlSync.stop());
    aborted();
    lap('broker');

    const rootPem = root.toPem();
    const est = (auth: { cert: string; key: string }) =>
      new EstClient({ url: svc.url, trustAnchors: [root], certificate: auth, timeoutMs: 60_000 });

    progress.begin('devices enroll over EST (bootstrap certificate → device certificate)', o.devices);
    await pool(devices, o.concurrency ?? 50, async (d) => {
      aborted();
      const client = est(d.bootstrap);
      const r = await enrollDevice(client, { subject: `CN=${d.cn}`, trustAnchors: [root] }).finally(() =>
        client.close(),
      );
      d.certificate = r.certificate;
      d.chainPem = r.chain.map((c) => c.toPem()).join('');
      d.keyPem = await exportKey(r.privateKey!, { format: 'pkcs8' });
      result.enrolled++;
      progress.tick();
    });
    lap('enroll');

    progress.begin('devices connect over mutual TLS and publish telemetry', o.devices);
    cleanup.unshift(() =>
      Promise.all(devices.map((d) => d.client?.endAsync(true).catch(() => undefined))).then(() => {}),
    );
    await pool(devices, o.concurrency ?? 50, async (d) => {
      aborted();
      d.client = await connect(port, rootPem, d);
      result.connected++;
      await publish(d, { seq: 1 });
      result.published++;
      progress.tick();
    });
    lap('connect');

    const victim = devices[0]!;
    progress.begin(
      `revoking ${victim.cn} (keyCompromise); the broker's CRL file is rewritten and the broker signalled`,
    );
    await ca.revoke(victim.certificate!.serialHex, 'keyCompromise', { requester: 'cli:demo' });
    const from = b.log().length;
    await ca.publishCrl(
      svc.authority.issuers().find((i) => i.role === 'intermediate' && i.status === 'active')!.id,
    );
    await crlSync.sync();
    await b.waitForLog(/Reloading config/, from);
    await victim.client!.endAsync(true);
    victim.client = undefined;
    try {
      victim.client = await connect(port, rootPem, victim);
      await publish(victim, { seq: 2 });
      progress.note(`  ${victim.cn}: connected after revocation — NOT expected`);
    } catch (e) {
      result.refused++;
      progress.note(`  ${victim.cn}: refused at its next connection (${(e as Error).message})`);
    }
    const others = devices.slice(1);
    progress.begin('the other devices keep publishing on their connections', others.length);
    await pool(others, o.concurrency ?? 50, async (d) => {
      await publish(d, { seq: 2 });
      result.stillPublishing++;
      progress.tick();
    });
    lap('revoke');

    const renewing = devices[1];
    if (renewing) {
      const renewAfter = o.renewAfterMs ?? 3000;
      const cert = renewing.certificate!;
      // The threshold: due `renewAfter` after now (the fraction of the lifetime then left).
      const fraction = (cert.notAfter - Date.now() - renewAfter) / (cert.notAfter - cert.notBefore);
      progress.begin(`${renewing.cn}: waiting for its certificate to reach the renewal threshold`);
      while (!renewalDue(cert, Date.now(), fraction)) {
        aborted();
        await sleep(200, o.signal);
      }
      const client = est({ cert: renewing.chainPem!, key: renewing.keyPem! });
      const r = await enrollDevice(client, { renew: cert, trustAnchors: [root] }).finally(() =>
        client.close(),
      );
      renewing.certificate = r.certificate;
      renewing.chainPem = r.chain.map((c) => c.toPem()).join('');
      renewing.keyPem = await exportKey(r.privateKey!, { format: 'pkcs8' });
      await renewing.client!.endAsync(true);
      renewing.client = await connect(port, rootPem, renewing);
      await publish(renewing, { seq: 3, renewed: true });
      result.renewed++;
      progress.note(
        `  ${renewing.cn}: renewed over /simplereenroll (serial ${cert.serialHex.slice(0, 12)}… → ${r.certificate.serialHex.slice(0, 12)}…), reconnected`,
      );
    }
    lap('renew');
    timings.total = Math.round(performance.now() - t0);
    progress.end();
    result.ok =
      result.enrolled === o.devices &&
      result.connected === o.devices &&
      result.refused === 1 &&
      result.stillPublishing === o.devices - 1 &&
      result.renewed === (o.devices > 1 ? 1 : 0);
    return result;
  } finally {
    progress.end();
    for (const c of cleanup) await Promise.resolve(c()).catch(() => undefined);
  }
}

/** The demo factory's CA: a self-signed CA that signs bootstrap (claim) certificates, and its CRL. */
async function manufacturingCa() {
  const key = await generateKeyPair('ec-p256');
  const signer = await KeySigner.create(key.privateKey);
  const ca = await new CertificateBuilder('root')
    .subject('CN=fleetpki Demo Manufacturing CA,O=Demo Factory')
    .notBefore(Date.now() - 3_600_000)
    .sign(signer);
  const issuer = Issuer.fromCertificate(ca.certificate, signer);
  return {
    certificate: ca.certificate,
    async bootstrap(cn: string) {
      const k = await generateKeyPair('ec-p256');
      const c = await new CertificateBuilder('device')
        .subject(`CN=${cn},O=Demo Factory`)
        .publicKey(k.publicKey)
        .issuer(issuer)
        .notBefore(Date.now() - 3_600_000)
        .sign();
      return { cert: c.toPem(), key: await exportKey(k.privateKey, { format: 'pkcs8' }) };
    },
    async crl() {
      return (await new CrlBuilder(issuer).crlNumber(1).sign()).crl;
    },
  };
}

function connect(port: number, rootPem: string, d: Device): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect({
      protocol: 'mqtts',
      host: '127.0.0.1',
      port,
      ca: rootPem,
      cert: d.chainPem!,
      key: d.keyPem!,
      rejectUnauthorized: true,
      reconnectPeriod: 0,
      connectTimeout: 20_000,
      protocolVersion: 5,
      clientId: d.cn,
    });
    const fail = (e: Error) => {
      c.end(true);
      reject(e);
    };
    c.once('connect', () => {
      c.off('error', fail);
      c.off('close', closed);
      resolve(c);
    });
    c.once('error', fail);
    const closed = () => fail(new Error('connection closed by the broker before CONNACK'));
    c.once('close', closed);
  });
}

async function publish(d: Device, payload: Record<string, unknown>): Promise<void> {
  const c = d.client;
  if (!c) throw new Error(`${d.cn} is not connected`);
  await c.publishAsync(
    `${TOPIC_ROOT}/${d.cn}/telemetry`,
    JSON.stringify({ device: d.cn, t: Date.now(), ...payload }),
    {
      qos: 1,
    },
  );
}

/** Runs `f` over `items`, at most `n` at once; the first failure rejects (after the others settle). */
async function pool<T>(items: readonly T[], n: number, f: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    while (next < items.length && failure === undefined) {
      const item = items[next++]!;
      try {
        await f(item);
      } catch (e) {
        failure ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  if (failure !== undefined) throw failure;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
