// Fleet provisioning end to end with a REAL Mosquitto (started here on 127.0.0.1, a free port) and
// the provisioning service in-process: claim certificate → CSR (or "create key") → certificate →
// reconnect with it → publish on the device's own topic, over MQTT 5 and MQTT 3.1.1, with JSON and
// CBOR payloads; the issued certificate checked by `openssl verify -x509_strict -purpose sslclient`.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PayloadFormat } from '../../src/provision/codec.js';
import { proveIdentity, provisionDevice } from '../../src/provision/device.js';
import type { ProvisionError } from '../../src/provision/errors.js';
import { assertVerified } from '../ca/fixture.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { type Bed, provisioningBed } from './env.js';

let bed: Bed;
before(async () => {
  bed = await provisioningBed();
});
after(async () => {
  await bed?.close();
});

const CASES: { name: string; protocol: 5 | '3.1.1'; format: PayloadFormat; serial: string }[] = [
  { name: 'MQTT 5, JSON', protocol: 5, format: 'json', serial: 'M5JSON01' },
  { name: 'MQTT 5, CBOR', protocol: 5, format: 'cbor', serial: 'M5CBOR01' },
  { name: 'MQTT 3.1.1, JSON', protocol: '3.1.1', format: 'json', serial: 'M3JSON01' },
  { name: 'MQTT 3.1.1, CBOR', protocol: '3.1.1', format: 'cbor', serial: 'M3CBOR01' },
];

describe('a device provisions itself with a claim certificate', () => {
  for (const c of CASES)
    it(`${c.name}: claim → CSR → certificate → reconnect → publish on its own topic`, async () => {
      const claim = bed.claims['factory-a']!;
      const r = await provisionDevice({
        url: bed.url,
        ca: bed.rootPem,
        claimCert: claim.certPem,
        claimKey: claim.keyPem,
        protocol: c.protocol,
        format: c.format,
        template: 'sensor',
        attributes: { serialNumber: c.serial, model: 'th-1' },
        subject: `CN=sensor-${c.serial},O=Acme`,
        san: [`uri:urn:acme:sensor:${c.serial}`],
      });
      assert.equal(r.certificate.subject.commonName, `sensor-${c.serial}`);
      assert.equal(r.deviceTopic, `devices/sensor-${c.serial}`);
      assert.equal(r.replayed, false);
      const rec = await bed.ca.store.findBySerial(r.certificate.serialHex);
      assert.equal(rec[0]?.requester, 'mqtt:claim-factory-a');
      assert.equal(rec[0]?.requestId, `mqtt:claim-factory-a:${r.requestId}`);
      await proveIdentity({
        url: bed.url,
        ca: bed.rootPem,
        protocol: c.protocol,
        cert: r.chainPem,
        key: r.keyPem,
        topic: r.deviceTopic,
      });
      const leaf = bed.fx.file(`${c.serial}.crt`, r.certificate.toPem());
      const untrusted = bed.fx.file(
        `${c.serial}-chain.crt`,
        r.chain
          .slice(1)
          .map((x) => x.toPem())
          .join(''),
      );
      assertVerified(bed.fx.dir, leaf, { root: bed.rootFile, untrusted, purpose: 'sslclient' });
    });

  it('"create key and certificate": the key comes back once, and a replay does not get it again', async () => {
    const claim = bed.claims['factory-a']!;
    const o = {
      url: bed.url,
      ca: bed.rootPem,
      claimCert: claim.certPem,
      claimKey: claim.keyPem,
      template: 'keyless',
      mode: 'create-key' as const,
      attributes: { serialNumber: 'KEYLESS1' },
      requestId: 'keyless-request-1',
    };
    const r = await provisionDevice(o);
    assert.equal(r.certificate.subject.commonName, 'meter-KEYLESS1');
    await proveIdentity({
      url: bed.url,
      ca: bed.rootPem,
      cert: r.chainPem,
      key: r.keyPem,
      topic: r.deviceTopic,
    });
    await assert.rejects(provisionDevice(o), (e: ProvisionError) => e.code === 'key-already-delivered');
  });
});

describe('the service and its broker', () => {
  it('reconnects (with backoff) when the broker goes away and comes back, and serves again', async () => {
    const svc = bed.service!;
    const connects = svc.stats.connects;
    const conf = bed.files.conf;
    await bed.broker.stop();
    for (let i = 0; i < 200 && svc.connected; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(svc.connected, false);
    // The same configuration, so the same port (Mosquitto sets SO_REUSEADDR).
    bed.broker = await startMosquitto(() => conf);
    for (let i = 0; i < 400 && !(svc.connected && svc.stats.connects > connects); i++)
      await new Promise((r) => setTimeout(r, 50));
    assert.ok(svc.stats.connects > connects, 'reconnected');
    await svc.whenSubscribed();
    const claim = bed.claims['factory-a']!;
    const r = await provisionDevice({
      url: bed.url,
      ca: bed.rootPem,
      claimCert: claim.certPem,
      claimKey: claim.keyPem,
      template: 'sensor',
      attributes: { serialNumber: 'AFTERHUP' },
      subject: 'CN=sensor-AFTERHUP',
    });
    assert.equal(r.certificate.subject.commonName, 'sensor-AFTERHUP');
  });
});
