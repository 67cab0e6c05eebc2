import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runVerify } from '../../src/cli/verify.js';
import { generateKeyPair, KeySigner } from '../../src/crypto/index.js';
import { CertificateBuilder, Issuer } from '../../src/issue/index.js';

const NOW = Date.parse('2030-06-01T00:00:00Z');
const DAY = 86_400_000;

describe('fleetpki verify (runVerify)', () => {
  let dir: string;
  const f = (n: string) => join(dir, n);
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fleetpki-cli-verify-'));
    const rk = await generateKeyPair('ec-p256');
    const rs = await KeySigner.create(rk.privateKey);
    const root = await new CertificateBuilder('root')
      .subject('CN=CLI Root')
      .notBefore(NOW - 100 * DAY)
      .notAfter(NOW + 100 * DAY)
      .sign(rs);
    const ri = Issuer.fromCertificate(root.certificate, rs);
    const ik = await generateKeyPair('ec-p256');
    const int = await new CertificateBuilder('intermediate')
      .subject('CN=CLI CA')
      .publicKey(ik.publicKey)
      .issuer(ri)
      .notBefore(NOW - 50 * DAY)
      .notAfter(NOW + 50 * DAY)
      .sign();
    const ii = Issuer.fromCertificate(int.certificate, await KeySigner.create(ik.privateKey));
    const lk = await generateKeyPair('ec-p256');
    const server = await new CertificateBuilder('server')
      .subject('CN=broker')
      .publicKey(lk.publicKey)
      .issuer(ii)
      .subjectAltName(['dns:broker.example.com', 'ip:127.0.0.1'])
      .notBefore(NOW - DAY)
      .notAfter(NOW + 10 * DAY)
      .sign();
    const device = await new CertificateBuilder('device')
      .subject('CN=device-001')
      .publicKey(lk.publicKey)
      .issuer(ii)
      .notBefore(NOW - DAY)
      .notAfter(NOW + 10 * DAY)
      .sign();
    writeFileSync(f('root.pem'), root.toPem());
    writeFileSync(f('int.pem'), int.toPem());
    writeFileSync(f('server.pem'), server.toPem());
    writeFileSync(f('server-chain.pem'), server.toPem() + int.toPem());
    writeFileSync(f('device.pem'), device.toPem());
    writeFileSync(f('garbage.pem'), 'not a certificate');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const time = new Date(NOW).toISOString();
  const rows: [string, () => string[], number, RegExp][] = [
    [
      'valid server chain',
      () => [
        f('server.pem'),
        '--trusted',
        f('root.pem'),
        '--untrusted',
        f('int.pem'),
        '--time',
        time,
        '--host',
        'broker.example.com',
      ],
      0,
      /^OK/,
    ],
    [
      'intermediates in the leaf file',
      () => [f('server-chain.pem'), '--trusted', f('root.pem'), '--time', time, '--ip', '127.0.0.1'],
      0,
      /^OK/,
    ],
    [
      'device for clientAuth',
      () => [
        f('device.pem'),
        '--trusted',
        f('root.pem'),
        '--untrusted',
        f('int.pem'),
        '--time',
        time,
        '--purpose',
        'client',
      ],
      0,
      /^OK/,
    ],
    [
      'device for serverAuth',
      () => [
        f('device.pem'),
        '--trusted',
        f('root.pem'),
        '--untrusted',
        f('int.pem'),
        '--time',
        time,
        '--purpose',
        'server',
      ],
      1,
      /^INVALID: eku at certificate 0/,
    ],
    [
      'wrong host',
      () => [
        f('server.pem'),
        '--trusted',
        f('root.pem'),
        '--untrusted',
        f('int.pem'),
        '--time',
        time,
        '--host',
        'other.example.com',
      ],
      1,
      /^INVALID: hostname-mismatch/,
    ],
    [
      'expired',
      () => [
        f('server.pem'),
        '--trusted',
        f('root.pem'),
        '--untrusted',
        f('int.pem'),
        '--time',
        new Date(NOW + 20 * DAY).toISOString(),
      ],
      1,
      /^INVALID: expired at certificate 0/,
    ],
    [
      'missing intermediate',
      () => [f('server.pem'), '--trusted', f('root.pem'), '--time', time],
      1,
      /^INVALID: unknown-issuer/,
    ],
    ['unreadable trusted file', () => [f('server.pem'), '--trusted', f('nope.pem')], 2, /^$/],
    ['garbage leaf', () => [f('garbage.pem'), '--trusted', f('root.pem')], 2, /^$/],
    ['bad time', () => [f('server.pem'), '--trusted', f('root.pem'), '--time', 'yesterday'], 2, /^$/],
    ['bad profile', () => [f('server.pem'), '--trusted', f('root.pem'), '--profile', 'lax'], 2, /^$/],
    ['missing --trusted', () => [f('server.pem')], 2, /^$/],
  ];
  for (const [name, args, code, out] of rows)
    it(name, async () => {
      let stdout = '';
      let stderr = '';
      const rc = await runVerify(args(), { out: (s) => (stdout += s), err: (s) => (stderr += s) });
      assert.equal(rc, code, `${stdout}${stderr}`);
      assert.match(stdout, out);
      if (code === 2) assert.ok(stderr.length > 0);
      // No revocation data was given: a valid verdict says that revocation was not checked.
      if (code === 0) assert.equal(stderr, 'note: revocation not checked (give --crl FILE or --ocsp)\n');
    });

  it('--json', async () => {
    let stdout = '';
    const rc = await runVerify(
      [f('server.pem'), '--trusted', f('root.pem'), '--untrusted', f('int.pem'), '--time', time, '--json'],
      {
        out: (s) => (stdout += s),
        err: () => {},
      },
    );
    assert.equal(rc, 0);
    const j = JSON.parse(stdout);
    assert.equal(j.valid, true);
    assert.equal(j.revocationChecked, false);
    assert.deepEqual(
      j.chain.map((c: { subject: string }) => c.subject),
      ['CN=broker', 'CN=CLI CA', 'CN=CLI Root'],
    );
  });
});
