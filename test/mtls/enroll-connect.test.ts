// The story end to end from the parts of this layer, before the Authority exists: devices enroll
// over EST (EstClient + enrollDevice against the small real endpoint), connect to a REAL Mosquitto
// configured by writeBrokerConfig with the certificates they got, round-trip MQTT; one is revoked
// (CRL rewritten by CrlFileKeeper + SIGHUP) and refused at its next connection while the other
// stays connected and publishing.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { exportKey } from '../../src/crypto/index.js';
import { EstClient, enrollDevice } from '../../src/est/index.js';
import { CrlFileKeeper, writeBrokerConfig } from '../../src/mtls/index.js';
import type { Certificate } from '../../src/x509/index.js';
import { type Endpoint, startEndpoint } from '../est/endpoint.js';
import { type Hierarchy, makeHierarchy, tempDir } from '../helpers/fleet.js';
import { type Broker, startMosquitto } from '../helpers/mosquitto.js';

let fleet: Hierarchy;
let ep: Endpoint;
let broker: Broker;
let keeper: CrlFileKeeper;
const tmp = tempDir('enroll-connect');
const clients: MqttClient[] = [];
const devices: Record<string, { certificate: Certificate; chainPem: string; keyPem: string }> = {};

before(async () => {
  fleet = await makeHierarchy('Story');
  const factory = await makeHierarchy('Story Factory');
  ep = await startEndpoint(fleet, factory, await fleet.server('est'));
  const crl = await fleet.crl([]);
  const brokerId = await fleet.server('broker');
  broker = await startMosquitto((port) => {
    const f = writeBrokerConfig({
      dir: join(tmp.dir, 'broker'),
      port,
      serverChain: brokerId.chainPem,
      serverKey: brokerId.keyPem,
      clientCas: fleet.rootPem,
      crls: [crl],
    });
    keeper = new CrlFileKeeper({ path: f.crlfile, reload: () => broker.hup() });
    return f.conf;
  });
  await keeper.update(crl);
});
after(async () => {
  for (const c of clients) c.end(true);
  await broker?.stop();
  await ep?.close();
  tmp.remove();
});

function connect(name: string): Promise<MqttClient> {
  const d = devices[name]!;
  return new Promise((resolve, reject) => {
    const c = mqtt.connect({
      protocol: 'mqtts',
      host: '127.0.0.1',
      port: broker.port,
      ca: fleet.rootPem,
      cert: d.chainPem,
      key: d.keyPem,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      protocolVersion: 5,
    });
    clients.push(c);
    c.once('connect', () => resolve(c));
    c.once('error', (e) => {
      c.end(true);
      reject(e);
    });
  });
}

it('enroll over EST with single-use tokens → connect over mTLS → publish/subscribe → revoke → refused at the next connection, the other carries on', async () => {
  for (const name of ['sensor-1', 'sensor-2']) {
    ep.tokens.set(name, `${name}-secret`);
    const est = new EstClient({
      url: ep.url,
      trustAnchors: [fleet.rootPem],
      basic: { username: name, password: `${name}-secret` },
    });
    const r = await enrollDevice(est, { subject: `CN=${name}`, trustAnchors: [fleet.root.certificate] });
    devices[name] = {
      certificate: r.certificate,
      chainPem: r.chain.map((c) => c.toPem()).join(''),
      keyPem: await exportKey(r.privateKey!, { format: 'pkcs8' }),
    };
  }
  const s1 = await connect('sensor-1');
  const s2 = await connect('sensor-2');
  for (const [c, name] of [
    [s1, 'sensor-1'],
    [s2, 'sensor-2'],
  ] as const) {
    await c.subscribeAsync(`devices/${name}/#`, { qos: 1 });
    const got = new Promise<string>((r) => c.once('message', (_t, p) => r(p.toString())));
    await c.publishAsync(`devices/${name}/telemetry`, `hello from ${name}`, { qos: 1 });
    assert.equal(await got, `hello from ${name}`);
  }

  await keeper.update(await fleet.crl([devices['sensor-1']!.certificate]));
  await assert.rejects(connect('sensor-1'), /certificate revoked/);
  const got = new Promise<string>((r) => s2.once('message', (_t, p) => r(p.toString())));
  await s2.publishAsync('devices/sensor-2/telemetry', 'still publishing', { qos: 1 });
  assert.equal(await got, 'still publishing');
  assert.ok(s2.connected);
});
