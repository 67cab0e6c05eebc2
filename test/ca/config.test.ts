// ca/config.ts: defaults with no file, YAML and JSON files, and every rejection naming the
// offending key's path.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadConfig, parseConfig } from '../../src/ca/config.js';
import { CaError } from '../../src/ca/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'fleetpki-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('defaults', () => {
  test('no config at all gives a working CA: root, one intermediate, the six built-in profiles', () => {
    const c = parseConfig(undefined);
    assert.equal(c.hierarchy.root.id, 'root');
    assert.equal(c.hierarchy.root.keyType, 'ec-p384');
    assert.deepEqual(
      c.hierarchy.intermediates.map((i) => i.id),
      ['issuing'],
    );
    assert.equal(c.hierarchy.defaultIssuer, 'issuing');
    assert.deepEqual(Object.keys(c.profiles).sort(), [
      'admin',
      'claim',
      'device',
      'provisioner',
      'server',
      'service',
    ]);
    const d = c.profiles.device!;
    assert.equal(d.validityDays, 30);
    assert.deepEqual(d.extKeyUsage, ['clientAuth']);
    assert.equal(d.issuer, 'issuing');
    assert.equal(c.profiles.server!.san.required, true);
    assert.deepEqual(c.profiles.server!.extKeyUsage, ['serverAuth']);
    assert.ok(c.ocsp.pollIntervalMs <= 5000);
    assert.deepEqual(c.urls, { base: undefined, crl: [], ocsp: [] });
  });

  test('urls.base fills in the CRL and OCSP URLs', () => {
    const c = parseConfig({ urls: { base: 'https://pki.example:8443/' } });
    assert.deepEqual(c.urls.crl, ['https://pki.example:8443/crl/{issuer}.crl']);
    assert.deepEqual(c.urls.ocsp, ['https://pki.example:8443/ocsp']);
  });

  test('a profile given replaces the fields it names; a new profile starts from device', () => {
    const c = parseConfig({
      profiles: {
        device: {
          subject: { CN: { required: true, pattern: 'device-[0-9a-f]{16}' } },
          keyTypes: ['ec-p256'],
        },
        sensor: { approval: 'manual', validityDays: 7 },
      },
    });
    assert.deepEqual(c.profiles.device!.subject, {
      CN: { required: true, pattern: 'device-[0-9a-f]{16}', maxCount: 1 },
    });
    assert.deepEqual(c.profiles.device!.keyTypes, ['ec-p256']);
    assert.equal(c.profiles.device!.validityDays, 30, 'untouched fields keep the built-in value');
    assert.equal(c.profiles.sensor!.approval, 'manual');
    assert.equal(c.profiles.sensor!.validityDays, 7);
    assert.deepEqual(c.profiles.sensor!.extKeyUsage, ['clientAuth']);
  });
});

describe('files', () => {
  test('YAML', () => {
    const f = join(dir, 'ca.yaml');
    writeFileSync(
      f,
      [
        'hierarchy:',
        '  root: { subject: "CN=Acme Root,O=Acme", keyType: ec-p256 }',
        '  intermediates:',
        '    - id: devices',
        '      subject: "CN=Acme Devices CA,O=Acme"',
        '      nameConstraints: { permitted: ["dns:fleet.acme.example", "ip:10.0.0.0/8"] }',
        'profiles:',
        '  device:',
        '    subject:',
        '      CN: { required: true, pattern: "^device-[0-9a-f]{16}$" }',
        '',
      ].join('\n'),
    );
    const c = loadConfig(f);
    assert.equal(c.hierarchy.intermediates[0]!.id, 'devices');
    assert.equal(c.hierarchy.defaultIssuer, 'devices');
    assert.equal(c.profiles.device!.issuer, 'devices');
    assert.deepEqual(c.hierarchy.intermediates[0]!.nameConstraints?.permitted, [
      'dns:fleet.acme.example',
      'ip:10.0.0.0/8',
    ]);
  });

  test('JSON', () => {
    const f = join(dir, 'ca.json');
    writeFileSync(f, JSON.stringify({ crl: { validitySeconds: 3600 } }));
    assert.equal(loadConfig(f).crl.validitySeconds, 3600);
  });

  test('unparseable YAML is bad-config', () => {
    const f = join(dir, 'bad.yaml');
    writeFileSync(f, 'profiles: [unclosed\n');
    assert.throws(
      () => loadConfig(f),
      (e: unknown) => e instanceof CaError && e.code === 'bad-config',
    );
  });
});

describe('rejections name the offending key', () => {
  const cases: { name: string; input: unknown; path: string; message?: RegExp }[] = [
    {
      name: 'unknown top-level key',
      input: { profles: {} },
      path: 'profles',
    },
    {
      name: 'unknown subject attribute',
      input: { profiles: { device: { subject: { XX: { required: true } } } } },
      path: 'profiles.device.subject.XX',
    },
    {
      name: 'unknown key inside a subject rule',
      input: { profiles: { device: { subject: { CN: { requird: true } } } } },
      path: 'profiles.device.subject.CN.requird',
    },
    {
      name: 'subject pattern that is not a regular expression',
      input: { profiles: { device: { subject: { CN: { pattern: 'device-(' } } } } },
      path: 'profiles.device.subject.CN.pattern',
      message: /regular expression/,
    },
    {
      name: 'unknown profile field',
      input: { profiles: { device: { validity: 30 } } },
      path: 'profiles.device.validity',
    },
    {
      name: 'key type that does not exist',
      input: { profiles: { device: { keyTypes: ['ec-p192'] } } },
      path: 'profiles.device.keyTypes.0',
    },
    {
      name: 'RSA below 2048 bits',
      input: { profiles: { device: { rsaMinBits: 1024 } } },
      path: 'profiles.device.rsaMinBits',
    },
    {
      name: 'validity above the maximum',
      input: { profiles: { device: { validityDays: 400, maxValidityDays: 90 } } },
      path: 'profiles.device.validityDays',
    },
    {
      name: 'profile issuer that is not an issuer id',
      input: { profiles: { device: { issuer: 'No Such CA' } } },
      path: 'profiles.device.issuer',
    },
    {
      name: 'an EKU list without a TLS purpose',
      input: { profiles: { signer: { extKeyUsage: ['codeSigning'] } } },
      path: 'profiles.signer.extKeyUsage',
    },
    {
      name: 'the javascript URI scheme',
      input: { profiles: { device: { rules: { uriSchemes: ['https', 'javascript'] } } } },
      path: 'profiles.device.rules.uriSchemes.1',
    },
    {
      name: 'a CRL URL that relying parties cannot fetch',
      input: { urls: { crl: ['ftp://x/crl'] } },
      path: 'urls.crl.0',
    },
    {
      name: 'a SAN pattern that is not a regular expression',
      input: { profiles: { server: { san: { allow: { dns: ['[a-'] } } } } },
      path: 'profiles.server.san.allow.dns.0',
    },
    {
      name: 'a name constraint with a leading period',
      input: {
        hierarchy: {
          intermediates: [{ id: 'x', subject: 'CN=X', nameConstraints: { permitted: ['dns:.a.example'] } }],
        },
      },
      path: 'hierarchy.intermediates.0.nameConstraints.permitted.0',
    },
    {
      name: 'duplicate issuer ids',
      input: {
        hierarchy: {
          intermediates: [
            { id: 'a', subject: 'CN=A' },
            { id: 'a', subject: 'CN=B' },
          ],
        },
      },
      path: 'hierarchy.intermediates.1.id',
    },
    {
      name: 'an issuer id with the generation suffix',
      input: { hierarchy: { intermediates: [{ id: 'devices-g2', subject: 'CN=A' }] } },
      path: 'hierarchy.intermediates.0.id',
    },
    {
      name: 'OCSP poll slower than 5 s',
      input: { ocsp: { pollIntervalMs: 10_000 } },
      path: 'ocsp.pollIntervalMs',
    },
    {
      name: 'profile name with capitals',
      input: { profiles: { Device: {} } },
      path: 'profiles.Device',
    },
  ];
  for (const c of cases)
    test(c.name, () => {
      assert.throws(
        () => parseConfig(c.input),
        (e: unknown) => {
          assert.ok(e instanceof CaError, String(e));
          assert.equal(e.code, 'bad-config');
          assert.equal(e.details.path, c.path, e.message);
          if (c.message) assert.match(e.message, c.message);
          return true;
        },
      );
    });
});
