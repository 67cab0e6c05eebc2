// The provisioning configuration (validated with the CA's), the template policy applied to
// requests, the topic grammar, the token buckets and the allow-list file.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/ca/config.js';
import { CaError } from '../../src/ca/errors.js';
import { AllowList } from '../../src/provision/allow-list.js';
import { ProvisionError, type ProvisionErrorCode } from '../../src/provision/errors.js';
import {
  checkAttributes,
  checkDeviceIdentity,
  checkSan,
  checkSubject,
  createKeyNames,
} from '../../src/provision/policy.js';
import { RateLimiter } from '../../src/provision/rate-limit.js';
import { isClaimResponseTopic, parseRequestTopic } from '../../src/provision/topics.js';
import { Name } from '../../src/x509/index.js';

const template = {
  attributes: { serialNumber: { required: true, pattern: '[A-Z0-9.]{2,20}' }, model: { pattern: '[a-z]+' } },
  subject: { CN: 'sensor-{serialNumber}', O: { pattern: 'Acme', required: false } },
  san: { uri: ['urn:acme:{serialNumber}'], dns: ['{serialNumber}\\.fleet\\.example'] },
  createKey: { subject: { O: 'Acme', CN: 'sensor-{serialNumber}' }, san: ['uri:urn:acme:{serialNumber}'] },
};
const cfg = parseConfig({ provisioning: { claims: { a: { templates: ['t'] } }, templates: { t: template } } })
  .provisioning!;
const t = cfg.templates.t!;

describe('configuration', () => {
  it('fills in the defaults and the claim identity', () => {
    assert.equal(cfg.topicRoot, 'provisioning');
    assert.equal(cfg.serviceIdentity, 'fleetpki-provisioning');
    assert.equal(cfg.claims.a!.identity, 'claim-a');
    assert.deepEqual(cfg.claims.a!.rateLimit, { burst: 20, perMinute: 120 });
    assert.equal(t.profile, 'device');
  });
  const BAD: [string, unknown, string][] = [
    ['unknown key', { templates: { t: { ...template, colour: 1 } } }, 'provisioning.templates.t.colour'],
    [
      'bad regular expression',
      { templates: { t: { ...template, subject: { CN: '(' } } } },
      'provisioning.templates.t.subject.CN',
    ],
    [
      'placeholder of no attribute',
      { templates: { t: { ...template, subject: { CN: '{mac}' } } } },
      'provisioning.templates.t.subject.CN',
    ],
    [
      'no CN rule',
      { templates: { t: { ...template, subject: { O: 'x' }, createKey: undefined } } },
      'provisioning.templates.t.subject',
    ],
    [
      'unknown profile',
      { templates: { t: { ...template, profile: 'nope' } } },
      'provisioning.templates.t.profile',
    ],
    [
      'a profile without clientAuth',
      { templates: { t: { ...template, profile: 'server' } } },
      'provisioning.templates.t.profile',
    ],
    [
      'a claim naming no template',
      { claims: { a: { templates: ['x'] } } },
      'provisioning.claims.a.templates.0',
    ],
    [
      'an upper-case label',
      { claims: { A: { templates: ['t'] } }, templates: { t: template } },
      'provisioning.claims.A',
    ],
    [
      'allow-list on no attribute',
      { templates: { t: { ...template, allowList: { file: 'x', attribute: 'mac' } } } },
      'provisioning.templates.t.allowList.attribute',
    ],
    ['a service identity outside fleetpki-', { serviceIdentity: 'svc' }, 'provisioning.serviceIdentity'],
  ];
  for (const [name, p, path] of BAD)
    it(`refuses ${name} (${path})`, () =>
      assert.throws(
        () => parseConfig({ provisioning: p }),
        (e: unknown) => e instanceof CaError && e.code === 'bad-config' && e.details?.path === path,
      ));
  it('a configuration without the section has none', () =>
    assert.equal(parseConfig({}).provisioning, undefined));
});

function refuses(f: () => void, code: ProvisionErrorCode): void {
  assert.throws(f, (e: unknown) => e instanceof ProvisionError && e.code === code);
}

describe('template policy', () => {
  const attrs = { serialNumber: 'SN.01' };
  it('attributes: required, declared, matching', () => {
    checkAttributes(t, attrs);
    checkAttributes(t, { ...attrs, model: 'abc' });
    refuses(() => checkAttributes(t, { model: 'abc' }), 'missing-attribute');
    refuses(() => checkAttributes(t, { ...attrs, model: 'ABC' }), 'bad-attribute');
    refuses(() => checkAttributes(t, { ...attrs, colour: 'red' }), 'bad-attribute');
    refuses(() => checkAttributes(t, { ...attrs, constructor: 'x' }), 'bad-attribute');
  });
  const SUBJECTS: [string, string, ProvisionErrorCode | 'ok'][] = [
    ['the CN the template makes', 'CN=sensor-SN.01', 'ok'],
    ['with the optional O', 'CN=sensor-SN.01,O=Acme', 'ok'],
    ['the serial as a literal (the dot is not a wildcard)', 'CN=sensor-SNx01', 'subject-not-allowed'],
    ["another device's CN", 'CN=sensor-SN.02', 'subject-not-allowed'],
    ['an unlisted attribute', 'CN=sensor-SN.01,OU=x', 'subject-not-allowed'],
    ['CN twice', 'CN=sensor-SN.01+CN=sensor-SN.01', 'subject-not-allowed'],
    ['no CN', 'O=Acme', 'subject-not-allowed'],
  ];
  for (const [name, dn, want] of SUBJECTS)
    it(`subject: ${name}`, () => {
      const f = () => checkSubject(t, attrs, Name.parse(dn));
      if (want === 'ok') f();
      else refuses(f, want);
    });
  it('SAN: each entry matches a pattern of its type', () => {
    checkSan(t, attrs, [
      { type: 'uniformResourceIdentifier', value: 'urn:acme:SN.01' },
      { type: 'dNSName', value: 'SN.01.fleet.example' },
    ]);
    refuses(() => checkSan(t, attrs, [{ type: 'dNSName', value: 'other.fleet.example' }]), 'san-not-allowed');
    refuses(() => checkSan(t, attrs, [{ type: 'rfc822Name', value: 'a@b.example' }]), 'san-not-allowed');
  });
  it('create key: subject and SAN built from the attributes, in the order given', () => {
    const n = createKeyNames(t, attrs);
    assert.equal(n.subject.toString(), 'CN=sensor-SN.01,O=Acme');
    assert.deepEqual(n.san, ['uri:urn:acme:SN.01']);
    checkSubject(t, attrs, n.subject);
  });
  const IDS: [string, string, boolean][] = [
    ['a plain identifier', 'CN=sensor-1', true],
    ['a slash (another tree)', 'CN=a/b', false],
    ['a wildcard', 'CN=a#', false],
    ['a claim identity', 'CN=claim-x', false],
    ["the service's prefix", 'CN=fleetpki-provisioning', false],
  ];
  for (const [name, dn, good] of IDS)
    it(`device identity: ${name}`, () => {
      if (good) checkDeviceIdentity(Name.parse(dn));
      else refuses(() => checkDeviceIdentity(Name.parse(dn)), 'subject-not-allowed');
    });
});

describe('topics', () => {
  const ROWS: [string, unknown][] = [
    ['provisioning/claim-a/request/json', { claim: 'claim-a', format: 'json' }],
    [
      'provisioning/claim-a/request/cbor/cid1/tok1',
      { claim: 'claim-a', format: 'cbor', responseTopic: 'provisioning/claim-a/response/cid1/tok1' },
    ],
    ['provisioning/claim-a/request/xml', undefined],
    ['provisioning/device-1/request/json', undefined],
    ['provisioning/claim-a/request/json/cid1', undefined],
    ['provisioning/claim-a/request/json/cid+/tok', undefined],
    ['other/claim-a/request/json', undefined],
  ];
  for (const [topic, want] of ROWS)
    it(topic, () => assert.deepEqual(parseRequestTopic('provisioning', topic), want));
  it('an MQTT 5 response topic must lie in the same claim’s answer tree', () => {
    assert.ok(isClaimResponseTopic('provisioning', 'claim-a', 'provisioning/claim-a/response/cid/tok'));
    assert.ok(!isClaimResponseTopic('provisioning', 'claim-a', 'provisioning/claim-b/response/cid/tok'));
    assert.ok(!isClaimResponseTopic('provisioning', 'claim-a', 'devices/x/y'));
    assert.ok(!isClaimResponseTopic('provisioning', 'claim-a', 'provisioning/claim-a/response/cid/#'));
    assert.ok(!isClaimResponseTopic('provisioning', 'claim-a', 'provisioning/claim-a/response/cid'));
  });
});

describe('token buckets', () => {
  it('burst, then one per refill interval; buckets are per key', () => {
    let now = 1_000_000;
    const rl = new RateLimiter(() => now);
    const limit = { burst: 2, perMinute: 60 }; // one a second
    assert.deepEqual(rl.take('a', limit), { ok: true });
    assert.deepEqual(rl.take('a', limit), { ok: true });
    assert.deepEqual(rl.take('a', limit), { ok: false, retryAfterMs: 1000 });
    assert.deepEqual(rl.take('b', limit), { ok: true });
    now += 500;
    assert.deepEqual(rl.take('a', limit), { ok: false, retryAfterMs: 500 });
    now += 500;
    assert.deepEqual(rl.take('a', limit), { ok: true });
    now -= 10_000; // a clock stepping back refills nothing
    assert.equal(rl.take('a', limit).ok, false);
  });
});

describe('allow-list file', () => {
  it('reads serials (comments, blanks ignored) and picks up changes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleetpki-allow-'));
    try {
      const f = join(dir, 'serials.txt');
      writeFileSync(f, '# batch 7\nSN1\n\n  SN2  # trailing comment\n');
      let now = 0;
      const list = new AllowList(f, { now: () => now, checkMs: 1000 });
      assert.equal(await list.has('SN1'), true);
      assert.equal(await list.has('SN2'), true);
      assert.equal(await list.has('SN3'), false);
      writeFileSync(f, 'SN3\n');
      utimesSync(f, new Date(), new Date(Date.now() + 5000));
      assert.equal(await list.has('SN3'), false, 'not looked at again within checkMs');
      now += 1000;
      assert.equal(await list.has('SN3'), true);
      assert.equal(await list.has('SN1'), false);
      rmSync(f);
      now += 1000;
      await assert.rejects(
        list.has('SN3'),
        (e: unknown) => e instanceof ProvisionError && e.code === 'unavailable',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
