// The broker, not only our service, keeps claims and devices in their lanes: a REAL Mosquitto with
// the ACL of provisioningTopicLayout. A claim certificate may only publish its requests and read
// answers addressed to its own client id; a device only its own tree. A refused MQTT 5 publication
// gets PUBACK 0x87; MQTT 3.1.1 has no refusal code, so the broker PUBACKs and drops it. Mosquitto's
// acl_file grants every SUBSCRIBE and applies read access at delivery. What did not arrive is shown
// deterministically: the forbidden traffic first, then a sentinel on an allowed topic, which must be
// the first message the listener gets (the broker delivers in the order it handled publications).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { MqttClient } from 'mqtt';
import { type ProvisionedDevice, provisionDevice } from '../../src/provision/device.js';
import { ask, type Bed, provisioningBed } from './env.js';

let bed: Bed;
const dev: Record<string, ProvisionedDevice> = {};
before(async () => {
  bed = await provisioningBed();
  const claim = bed.claims['factory-a']!;
  for (const s of ['ACLA0001', 'ACLB0001'])
    dev[s] = await provisionDevice({
      url: bed.url,
      ca: bed.rootPem,
      claimCert: claim.certPem,
      claimKey: claim.keyPem,
      template: 'sensor',
      attributes: { serialNumber: s },
      subject: `CN=sensor-${s}`,
    });
});
after(async () => {
  await bed?.close();
});

const A = 'devices/sensor-ACLA0001';
const B = 'devices/sensor-ACLB0001';

/** The PUBACK reason code of a QoS 1 publication (0 = accepted). */
async function pubCode(c: MqttClient, topic: string): Promise<number> {
  try {
    const p = (await c.publishAsync(topic, 'x', { qos: 1 })) as { reasonCode?: number } | undefined;
    return p?.reasonCode ?? 0;
  } catch (e) {
    return (e as { code?: number }).code ?? -1;
  }
}

function cred(d: ProvisionedDevice) {
  return { certPem: d.chainPem, keyPem: d.keyPem };
}

/** The first message `c` receives, as `topic payload-or-bytes`. */
function firstMessage(c: MqttClient): Promise<string> {
  return new Promise((r) => c.once('message', (t) => r(t)));
}

/**
 * Mosquitto's acl_file grants every SUBSCRIBE and applies read access when it delivers (2.0.11,
 * checked in test/mtls/mosquitto.test.ts). So a subscription outside the lane is shown refused by
 * what arrives: legitimate traffic on the forbidden topics first, then a sentinel on the client's
 * own allowed topic — which must be the first message it gets, since the broker delivers in the
 * order it handled the publications.
 */
async function forbiddenTraffic(): Promise<void> {
  const b = await bed.connect(cred(dev.ACLB0001!), {
    clientId: `acl-b-${Math.random().toString(16).slice(2)}`,
  });
  await b.publishAsync(`${B}/telemetry`, 'for b only', { qos: 1 });
  b.end(true);
  // Another holder of the claim asks: its request and its answer both cross the broker.
  const a = await ask(bed, bed.claims['factory-a']!, new TextEncoder().encode('{"v":1}'));
  assert.equal('error' in a && a.error.code, 'malformed-payload');
}

for (const protocol of [5, '3.1.1'] as const) {
  const v = protocol === 5 ? 5 : 4;
  describe(`MQTT ${protocol}: a claim certificate stays in its provisioning topics`, () => {
    it('publications outside its request tree are refused', async () => {
      const c = await bed.connect(bed.claims['factory-a']!, {
        clientId: `acl-claim-pub-${v}`,
        protocolVersion: v,
      });
      const table: [string, string][] = [
        ['a device tree', `${A}/telemetry`],
        ["another claim's requests", 'provisioning/claim-factory-b/request/json'],
        ['a forged answer', `provisioning/claim-factory-a/response/acl-claim-pub-${v}/t1`],
      ];
      if (protocol === 5) {
        assert.equal(await pubCode(c, `provisioning/claim-factory-a/request/json/acl-claim-pub-${v}/t0`), 0);
        for (const [what, topic] of table) assert.equal(await pubCode(c, topic), 0x87, `${what}: ${topic}`);
      } else {
        // 3.1.1 has no refusal code: the broker PUBACKs and drops. A listener on each topic hears nothing.
        const b = await bed.connect(cred(dev.ACLB0001!), { clientId: 'acl-listen-b' });
        await b.subscribeAsync(`${B}/#`, { qos: 1 });
        const first = firstMessage(b);
        await c.publishAsync(`${B}/telemetry`, 'intrusion', { qos: 1 });
        await b.publishAsync(`${B}/sentinel`, 'sentinel', { qos: 1 });
        assert.equal(await first, `${B}/sentinel`);
      }
    });

    it('subscriptions outside its own answers deliver nothing', async () => {
      const id = `acl-claim-sub-${v}`;
      const c = await bed.connect(bed.claims['factory-a']!, { clientId: id, protocolVersion: v });
      await c.subscribeAsync(
        [
          '#',
          'devices/#',
          'provisioning/claim-factory-a/request/#',
          'provisioning/claim-factory-a/response/#',
          'provisioning/+/response/#',
        ],
        { qos: 1 },
      );
      const first = firstMessage(c);
      await forbiddenTraffic();
      // Its own answer (the sentinel) is the first thing it hears.
      const own = await ask(bed, bed.claims['factory-a']!, new TextEncoder().encode('{"v":1}'), {
        client: c,
        protocol,
      });
      assert.equal('error' in own && own.error.code, 'malformed-payload');
      assert.match(await first, new RegExp(`^provisioning/claim-factory-a/response/${id}/`));
    });
  });

  describe(`MQTT ${protocol}: a device certificate stays in its own tree`, () => {
    it("another device's tree and the provisioning topics: publications refused", async () => {
      const c = await bed.connect(cred(dev.ACLA0001!), { clientId: `acl-dev-pub-${v}`, protocolVersion: v });
      if (protocol === 5) {
        assert.equal(await pubCode(c, `${A}/telemetry`), 0);
        for (const topic of [`${B}/telemetry`, 'provisioning/claim-factory-a/request/json'])
          assert.equal(await pubCode(c, topic), 0x87, topic);
      } else {
        const b = await bed.connect(cred(dev.ACLB0001!), { clientId: 'acl-listen-b2' });
        await b.subscribeAsync(`${B}/#`, { qos: 1 });
        const first = firstMessage(b);
        await c.publishAsync(`${B}/telemetry`, 'intrusion', { qos: 1 });
        await b.publishAsync(`${B}/sentinel`, 'sentinel', { qos: 1 });
        assert.equal(await first, `${B}/sentinel`);
      }
    });

    it("another device's tree and the provisioning topics: subscriptions deliver nothing", async () => {
      const c = await bed.connect(cred(dev.ACLA0001!), { clientId: `acl-dev-sub-${v}`, protocolVersion: v });
      await c.subscribeAsync([`${A}/#`, `${B}/#`, 'devices/+/telemetry', 'provisioning/#'], { qos: 1 });
      const first = firstMessage(c);
      await forbiddenTraffic();
      await c.publishAsync(`${A}/sentinel`, 'sentinel', { qos: 1 });
      assert.equal(await first, `${A}/sentinel`);
    });
  });
}
