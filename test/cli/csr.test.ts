// `fleetpki csr create`: CSRs from plain and encrypted keys pass `openssl req -verify` with the
// requested subject and SANs; bad subject / SAN / passphrase → exit 2, nothing written.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fleetpki, openssl } from './pki-cli.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'fleetpki-cli-csr-'));
  writeFileSync(join(dir, 'pw'), 'pw-1\n');
  assert.equal(
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'plain.key'], dir)
      .code,
    0,
  );
  assert.equal(
    openssl(
      ['genpkey', '-algorithm', 'ED25519', '-aes-256-cbc', '-pass', 'pass:pw-1', '-out', 'enc.key'],
      dir,
    ).code,
    0,
  );
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('fleetpki csr create', () => {
  test('from an OpenSSL key: subject, SANs, challengePassword; openssl req -verify OK', async () => {
    const r = await fleetpki(
      [
        'csr',
        'create',
        '--key',
        'plain.key',
        '--subject',
        'CN=device-001,O=Acme,C=DE',
        '--san',
        'dns:dev1.fleet.example,ip:10.1.2.3,uri:urn:dev:001,email:ops@fleet.example',
        '--challenge-password',
        'otp-123',
        '--out',
        'a.csr',
        '--json',
      ],
      { cwd: dir },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).subject, 'CN=device-001,O=Acme,C=DE');
    const v = openssl(['req', '-in', 'a.csr', '-verify', '-noout', '-text', '-nameopt', 'RFC2253'], dir);
    assert.match(v.stdout + v.stderr, /verify OK/);
    assert.match(v.stdout, /Subject: CN=device-001,O=Acme,C=DE/);
    assert.match(
      v.stdout,
      /DNS:dev1\.fleet\.example, IP Address:10\.1\.2\.3, URI:urn:dev:001, email:ops@fleet\.example/,
    );
    assert.match(v.stdout, /challengePassword\s*:\s*otp-123/);
  });

  test('from an encrypted key with --passphrase-file, PEM to stdout', async () => {
    const r = await fleetpki(
      ['csr', 'create', '--key', 'enc.key', '--passphrase-file', 'pw', '--subject', 'CN=sensor-7'],
      { cwd: dir },
    );
    assert.equal(r.code, 0, r.stderr);
    writeFileSync(join(dir, 'b.csr'), r.stdout);
    assert.match(openssl(['req', '-in', 'b.csr', '-verify', '-noout'], dir).stderr, /verify OK/);
  });

  for (const [name, args, env, message] of [
    ['bad subject', ['--key', 'plain.key', '--subject', 'CN'], {}, /bad subject/],
    [
      'bad SAN',
      ['--key', 'plain.key', '--subject', 'CN=x', '--san', 'ip:999.1.1.1'],
      {},
      /not an IPv4 or IPv6 address/,
    ],
    [
      'wrong passphrase',
      ['--key', 'enc.key', '--subject', 'CN=x'],
      { FLEETPKI_PASSPHRASE: 'nope' },
      /bad-passphrase/,
    ],
    ['missing key', ['--key', 'nokey.pem', '--subject', 'CN=x'], {}, /cannot read key nokey\.pem/],
  ] as const)
    test(`bad input: ${name} → exit 2, no file`, async () => {
      const r = await fleetpki(['csr', 'create', ...args, '--out', 'bad.csr'], { cwd: dir, env });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.ok(!existsSync(join(dir, 'bad.csr')));
    });
});
