// The story end to end with the CA service and a REAL Mosquitto started here on 127.0.0.1: two
// devices enroll over EST (bootstrap certificate; single-use credential), connect over mutual TLS
// with the broker configuration the CA wrote (writeCaBrokerConfig), round-trip MQTT; one is revoked
// — the CRL file is rewritten and the broker signalled by BrokerCrlSync, the mechanism `serve
// --broker-config` and `fleetpki demo` use — and is refused at its next connection, while the other
// stays connected and publishing.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { parseConfig } from '../../src/ca/config.js';
import { type BrokerProcess, PortInUse, startMosquitto } from '../../src/cli/demo/mosquitto.js';
import { exportKey } from '../../src/crypto/index.js';
import { importBootstrapTrust } from '../../src/est/bootstrap.js';
import { createEnrollmentCredential } from '../../src/est/credentials.js';
import { EstClient, enrollDevice } from '../../src/est/index.js';
import { BrokerCrlSync, writeCaBrokerConfig } from '../../src/server/broker.js';
import { Service } from '../../src/server/service.js';
import { makeHierarchy, tempDir } from '../helpers/fleet.js';

const tmp = tempDir('est-story');
let svc: Service;
let broker: BrokerProcess | undefined;
let port = 0;
let sync: BrokerCrlSync;
const clients: MqttClient[] = [];

before(async () => {
  svc = await Service.start({
    dataDir: join(tmp.dir, 'data'),
    port: 0,
    logLevel: 'silent',
    env: { FLEETPKI_PASSPHRASE: 'est story test passphrase' },
    config: parseConfig({ crl: { debounceMs: 0 } }),
  });
  const dir = join(tmp.dir, 'broker');
  for (let attempt = 0; attempt < 8 && !broker; attempt++) {
    port = 20000 + Math.floor(Math.random() * 40000);
    await writeCaBrokerConfig(svc.authority, { dir, port, requester: 'cli:test' });
    try {
      broker = await startMosquitto(join(dir, 'mosquitto.conf'));
    } catch (e) {
      if (!(e instanceof PortInUse)) throw e;
    }
  }
  sync = new BrokerCrlSync(svc.authority, { dir, pollMs: 200 });
  await sync.start();
});

after(async () => {
  // A client ended already (the revoked device's) must not be ended again: mqtt.js never settles
  // endAsync on an ended client, and the file would never finish.
  for (const c of clients) if (!c.disconnecting && !c.disconnected) await c.endAsync(true).catch(() => {});
  sync?.stop();
  await broker?.stop();
  await svc?.close();
  tmp.remove();
});

function connect(cn: string, chainPem: string, keyPem: string): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect({
      protocol: 'mqtts',
      host: '127.0.0.1',
      port,
      ca: svc.authority.rootCertificate().toPem(),
      cert: chainPem,
      key: keyPem,
      rejectUnauthorized: true,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      protocolVersion: 5,
      clientId: cn,
    });
    const fail = (e: Error) => {
      c.end(true);
      reject(e);
    };
    c.once('connect', () => {
      c.removeAllListeners('error');
      c.removeAllListeners('close');
      clients.push(c);
      resolve(c);
    });
    c.once('error', fail);
    c.once('close', () => fail(new Error('closed by the broker before CONNACK')));
  });
}

it('enroll over EST → mTLS connect → publish/subscribe → revoke → refused at the next connection, the other device carries on', async () => {
  const ca = svc.authority;
  const root = ca.rootCertificate();
  const factory = await makeHierarchy('Story Factory');
  await importBootstrapTrust(ca, 'default', {
    certificates: [factory.int.certificate],
    requester: 'cli:test',
  });
  await svc.est!.reload();

  // device-a: bootstrap certificate; device-b: a single-use credential.
  const bootA = await factory.device('device-a');
  const a = await enrollDevice(
    new EstClient({
      url: svc.url,
      trustAnchors: [root],
      certificate: { cert: bootA.chainPem, key: bootA.keyPem },
    }),
    {
      subject: 'CN=device-a',
      trustAnchors: [root],
    },
  );
  const t = await createEnrollmentCredential(ca, {
    label: 'default',
    subject: 'device-b',
    validityHours: 1,
    requester: 'cli:test',
  });
  const b = await enrollDevice(
    new EstClient({
      url: svc.url,
      trustAnchors: [root],
      basic: { username: t.username, password: t.password },
    }),
    {
      subject: 'CN=device-b',
      trustAnchors: [root],
    },
  );
  const pem = async (d: typeof a) => ({
    chain: d.chain.map((c) => c.toPem()).join(''),
    key: await exportKey(d.privateKey!, { format: 'pkcs8' }),
  });
  const A = await pem(a);
  const B = await pem(b);

  const ca1 = await connect('device-a', A.chain, A.key);
  const cb1 = await connect('device-b', B.chain, B.key);
  // Round trip: each device subscribes to its own tree and publishes to it.
  const got = new Promise<string>((resolve) => cb1.once('message', (_t, m) => resolve(m.toString())));
  await cb1.subscribeAsync('devices/device-b/#', { qos: 1 });
  await cb1.publishAsync('devices/device-b/telemetry', 'b:1', { qos: 1 });
  assert.equal(await got, 'b:1');
  await ca1.publishAsync('devices/device-a/telemetry', 'a:1', { qos: 1 });
  // The ACL keeps device-a out of device-b's tree (MQTT 5: PUBACK "Not authorized").
  await assert.rejects(
    ca1.publishAsync('devices/device-b/telemetry', 'a-intrudes', { qos: 1 }),
    /Not authorized/,
  );

  // Revoke device-a: new CRL → file rewritten → broker signalled.
  const from = broker!.log().length;
  await ca.revoke(a.certificate.serialHex, 'keyCompromise', { requester: 'cli:test' });
  await ca.publishCrl(ca.issuers().find((i) => i.role === 'intermediate' && i.status === 'active')!.id);
  await sync.sync();
  await broker!.waitForLog(/Reloading config/, from);

  await ca1.endAsync(true);
  await assert.rejects(connect('device-a', A.chain, A.key), /revoked|closed|ECONNRESET/);

  // device-b is still connected and publishing, and a new connection of its works.
  const again = new Promise<string>((resolve) => cb1.once('message', (_t, m) => resolve(m.toString())));
  await cb1.publishAsync('devices/device-b/telemetry', 'b:2', { qos: 1 });
  assert.equal(await again, 'b:2');
  const cb2 = await connect('device-b-2nd', B.chain, B.key);
  await cb2.publishAsync('devices/device-b/telemetry', 'b:3', { qos: 1 });
});
