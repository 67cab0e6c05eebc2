// A provisioning test bed: a CA on the real SQLite store (test/ca/fixture.ts) with a provisioning
// configuration, a REAL Mosquitto broker configured by writeBrokerConfig with the provisioning ACL
// (its certificate issued by that CA, its crlfile kept by CrlFileKeeper), claim certificates made
// by createClaims, and — unless told otherwise — the provisioning service running in-process.
// Everything is stopped by `close()`, which callers run in `after` (it tolerates partial setups).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Authority } from '../../src/ca/authority.js';
import { generateKeyPair, KeySigner } from '../../src/crypto/index.js';
import { CsrBuilder } from '../../src/issue/index.js';
import { type BrokerConfigFiles, CrlFileKeeper } from '../../src/mtls/index.js';
import { type ClaimCredential, createClaims } from '../../src/provision/claim.js';
import { decodeAnswer, type PayloadFormat, type ProvisionAnswer } from '../../src/provision/codec.js';
import { ProvisioningService } from '../../src/provision/service.js';
import { requestTopic, responseFilter, responseTopic } from '../../src/provision/topics.js';
import { writeCaBrokerConfig } from '../../src/server/broker.js';
import { type CaFixture, caFixture } from '../ca/fixture.js';
import { type Broker, startMosquitto } from '../helpers/mosquitto.js';

export const SERIAL = '[A-Z0-9]{4,20}';

/** The provisioning section the tests use (the allow-list file is written by the bed). */
export function provisioningConfig(dir: string): Record<string, unknown> {
  const sensor = {
    attributes: { serialNumber: { required: true, pattern: SERIAL }, model: { pattern: '[a-z0-9-]{1,20}' } },
    subject: { CN: 'sensor-{serialNumber}', O: { pattern: 'Acme', required: false } },
    san: { uri: ['urn:acme:sensor:{serialNumber}'] },
  };
  return {
    rateLimit: { burst: 100_000, perMinute: 6_000_000 },
    claims: {
      'factory-a': { templates: ['sensor', 'listed', 'keyless'] },
      'factory-b': { templates: ['sensor'] },
      slow: { templates: ['sensor'], rateLimit: { burst: 2, perMinute: 0.001 } },
    },
    templates: {
      sensor,
      listed: { ...sensor, allowList: { file: join(dir, 'serials.txt'), attribute: 'serialNumber' } },
      keyless: {
        attributes: { serialNumber: { required: true, pattern: SERIAL } },
        subject: { CN: 'meter-{serialNumber}' },
        createKey: { keyType: 'ec-p256', subject: { CN: 'meter-{serialNumber}' } },
      },
      other: { ...sensor, subject: { CN: 'other-{serialNumber}' } },
    },
  };
}

export interface Bed {
  fx: CaFixture;
  ca: Authority;
  broker: Broker;
  files: BrokerConfigFiles;
  keeper: CrlFileKeeper;
  service?: ProvisioningService;
  url: string;
  /** The root (PEM): the broker's and every device's anchor. */
  rootPem: string;
  rootFile: string;
  claims: Record<string, ClaimCredential>;
  /** Publishes the issuing CA's CRL, rewrites the crlfile and HUPs the broker. */
  refreshCrl(): Promise<void>;
  /** An mqtt.js client with the given credential (rejects on refusal); closed by `close()`. */
  connect(cred: { certPem: string; keyPem: string }, o?: Partial<IClientOptions>): Promise<MqttClient>;
  /** Certificate rows of every state in the store. */
  rows(): Promise<number>;
  close(): Promise<void>;
}

export async function provisioningBed(
  o: { service?: boolean; extraConfig?: Record<string, unknown> } = {},
): Promise<Bed> {
  const bed: Partial<Bed> & { clients: MqttClient[] } = { clients: [] };
  const close = async () => {
    for (const c of bed.clients) c.end(true);
    await bed.service?.close();
    bed.keeper?.stop();
    await bed.broker?.stop();
    await bed.fx?.close();
  };
  try {
    const dir = mkdtempSync(join(tmpdir(), 'fleetpki-prov-'));
    writeFileSync(join(dir, 'serials.txt'), '# factory export\nLIST0001\nLIST0002\n');
    const fx = await caFixture({
      config: { provisioning: { ...provisioningConfig(dir), ...(o.extraConfig ?? {}) } },
    });
    bed.fx = fx;
    const ca = fx.ca;
    bed.ca = ca;
    const rootPem = ca.rootCertificate().toPem();
    const rootFile = fx.file('root.pem', rootPem);

    // The broker configuration `fleetpki broker-config` writes (server/broker.ts): its certificate
    // from this CA, the CRLs, and the ACL of the provisioning layout. The listener port is set per
    // start attempt (startMosquitto retries on a port in use).
    const written = await writeCaBrokerConfig(ca, {
      dir: join(fx.dir, 'broker'),
      port: 1,
      requester: 'cli:test',
    });
    bed.files = written;
    const conf = readFileSync(written.conf, 'utf8');
    bed.broker = await startMosquitto((port) => {
      writeFileSync(written.conf, conf.replace(/^listener 1 /m, `listener ${port} `));
      return written.conf;
    });
    const crl = { der: (await ca.crl('issuing')).der };
    const broker = bed.broker;
    bed.keeper = new CrlFileKeeper({ path: bed.files!.crlfile, reload: () => broker.hup() });
    await bed.keeper.update(crl.der);
    bed.url = `mqtts://127.0.0.1:${broker.port}`;
    bed.claims = {};
    for (const label of ['factory-a', 'factory-b', 'slow'])
      [bed.claims[label]] = await createClaims(ca, { label, requester: 'cli:test' });
    if (o.service !== false) {
      bed.service = await ProvisioningService.start({
        authority: ca,
        config: ca.config.provisioning!,
        broker: { url: bed.url, ca: rootPem },
        backoff: { minMs: 100, maxMs: 1000 },
      });
      await bed.service.ready;
    }
    Object.assign(bed, {
      fx,
      rootPem,
      rootFile,
      refreshCrl: async () => {
        await bed.keeper!.update((await ca.publishCrl('issuing')).der);
      },
      connect: (cred: { certPem: string; keyPem: string }, extra: Partial<IClientOptions> = {}) =>
        new Promise<MqttClient>((resolve, reject) => {
          const c = mqtt.connect({
            protocol: 'mqtts',
            host: '127.0.0.1',
            port: broker.port,
            ca: rootPem,
            cert: cred.certPem,
            key: cred.keyPem,
            rejectUnauthorized: true,
            reconnectPeriod: 0,
            connectTimeout: 5000,
            protocolVersion: 5,
            ...extra,
          });
          bed.clients.push(c);
          c.once('connect', () => resolve(c));
          c.once('error', (e) => {
            c.end(true);
            reject(e);
          });
          c.once('close', () => reject(new Error('closed before CONNACK')));
        }),
      rows: async () => {
        const p = await ca.store.findCertificates({ states: ['reserved', 'issued', 'void'], limit: 500 });
        return p.items.length;
      },
      close: async () => {
        await close();
        rmSync(dir, { recursive: true, force: true });
      },
    });
    return bed as Bed;
  } catch (e) {
    await close().catch(() => undefined);
    throw e;
  }
}

let asked = 0;

/**
 * Sends one raw request payload as claim `cred` (MQTT 5: Response Topic + Correlation Data, or the
 * 3.1.1 per-request topic) and resolves with the decoded answer.
 */
export async function ask(
  bed: Bed,
  cred: { certPem: string; keyPem: string; identity: string },
  payload: Uint8Array,
  o: { format?: PayloadFormat; protocol?: 5 | '3.1.1'; client?: MqttClient } = {},
): Promise<ProvisionAnswer> {
  const format = o.format ?? 'json';
  const v5 = o.protocol !== '3.1.1';
  const clientId = `ask${process.pid}x${++asked}`;
  const client = o.client ?? (await bed.connect(cred, { clientId, protocolVersion: v5 ? 5 : 4 }));
  const cid = o.client ? o.client.options.clientId! : clientId;
  const tok = `t${++asked}`;
  const answerTopic = responseTopic('provisioning', cred.identity, cid, tok);
  const got = new Promise<ProvisionAnswer>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no answer in 20 s')), 20_000);
    client.on('message', (topic, p) => {
      if (topic !== answerTopic) return;
      clearTimeout(t);
      try {
        resolve(decodeAnswer(p, format));
      } catch (e) {
        reject(e);
      }
    });
  });
  await client.subscribeAsync(responseFilter('provisioning', cred.identity, cid), { qos: 1 });
  if (v5)
    await client.publishAsync(requestTopic('provisioning', cred.identity, format), Buffer.from(payload), {
      qos: 1,
      properties: { responseTopic: answerTopic, correlationData: Buffer.from(tok) },
    });
  else
    await client.publishAsync(
      requestTopic('provisioning', cred.identity, format, { clientId: cid, token: tok }),
      Buffer.from(payload),
      { qos: 1 },
    );
  try {
    return await got;
  } finally {
    if (!o.client) client.end(true);
  }
}

/** A CSR (DER) for `subject` and `san`, with a fresh P-256 key. */
export async function csrFor(subject: string, san: string[] = []): Promise<Uint8Array> {
  const k = await generateKeyPair('ec-p256');
  const b = new CsrBuilder().subject(subject);
  if (san.length) b.subjectAltName(san);
  return (await b.sign(await KeySigner.create(k.privateKey))).der;
}
