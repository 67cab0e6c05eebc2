// Acceptance 3 (issue 3): our CRLs pass `openssl crl -verify` and make `openssl verify
// -crl_check` reject a revoked leaf (and accept a good one); GnuTLS agrees; delta CRLs and
// issuingDistributionPoint read back through our parser and OpenSSL.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bytesEqual } from '../../src/der/index.js';
import { CertificateBuilder, CrlBuilder, type IssuedCertificate } from '../../src/issue/index.js';
import { parseCrl, reencodeCrl } from '../../src/x509/index.js';
import { buildPki, type Pki, run, tempDir } from './helpers.js';

const tmp = tempDir('interop-crl');
let pki: Pki;
let good: IssuedCertificate;
let revoked: IssuedCertificate;
let files: { root: string; int: string; cas: string; good: string; revoked: string };

before(async () => {
  pki = await buildPki('ec-p256');
  const mk = (cn: string) =>
    new CertificateBuilder('device')
      .subject(`CN=${cn}`)
      .publicKey(pki.leafKey.publicKey)
      .issuer(pki.intIssuer)
      .sign();
  good = await mk('device-good');
  revoked = await mk('device-revoked');
  files = {
    root: tmp.file('root.pem', pki.root.toPem()),
    int: tmp.file('int.pem', pki.intermediate.toPem()),
    cas: tmp.file('cas.pem', pki.intermediate.toPem() + pki.root.toPem()),
    good: tmp.file('good.pem', good.toPem()),
    revoked: tmp.file('revoked.pem', revoked.toPem()),
  };
});
after(() => tmp.remove());

describe('CRLs from CrlBuilder', () => {
  test('openssl crl -verify accepts it; -crl_check rejects the revoked leaf only', async () => {
    const crl = await new CrlBuilder(pki.intIssuer)
      .crlNumber(7)
      .revoke({
        serialNumber: revoked.serialNumber,
        reason: 'keyCompromise',
        invalidityDate: Date.now() - 3_600_000,
      })
      .revoke({ serialNumber: '0x0badcafe', reason: 'superseded' })
      .revoke({ serialNumber: 12345n })
      .sign();
    assert.ok(bytesEqual(reencodeCrl(parseCrl(crl.der)), crl.der), 're-encodes identically');
    const crlFile = tmp.file('crl.pem', crl.toPem());

    const v = run('openssl', ['crl', '-in', crlFile, '-noout', '-verify', '-CAfile', files.cas]);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stderr + v.stdout, /verify OK/);

    const text = run('openssl', ['crl', '-in', crlFile, '-noout', '-text']).stdout;
    assert.match(text, /X509v3 CRL Number:\s*\n\s*7/);
    assert.match(text, /Key Compromise/);
    assert.match(text, /Invalidity Date/);

    const bad = run('openssl', [
      'verify',
      '-crl_check',
      '-CRLfile',
      crlFile,
      '-CAfile',
      files.root,
      '-untrusted',
      files.int,
      files.revoked,
    ]);
    assert.equal(bad.code, 2, bad.stdout);
    assert.match(bad.stdout + bad.stderr, /error 23 .*certificate revoked/);

    const ok = run('openssl', [
      'verify',
      '-crl_check',
      '-CRLfile',
      crlFile,
      '-CAfile',
      files.root,
      '-untrusted',
      files.int,
      files.good,
    ]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);

    const chain = tmp.file('revoked-chain.pem', revoked.toPem() + pki.intermediate.toPem());
    const g = run('certtool', [
      '--verify',
      '--load-ca-certificate',
      files.root,
      '--load-crl',
      crlFile,
      '--infile',
      chain,
    ]);
    assert.notEqual(g.code, 0, g.stdout);
    assert.match(g.stdout, /revoked/i);
  });

  test('a CRL signed by another CA fails openssl crl -verify', async () => {
    const other = await buildPki('ec-p256');
    const crl = await new CrlBuilder(pki.intIssuer).crlNumber(1).sign();
    const f = tmp.file('crl-other.pem', crl.toPem());
    const cas = tmp.file('other-cas.pem', other.intermediate.toPem() + other.root.toPem());
    const r = run('openssl', ['crl', '-in', f, '-noout', '-verify', '-CAfile', cas]);
    // Same issuer name (buildPki names by key type), other key: OpenSSL 3.0 reports the failure
    // in its message ("verify failure") and may still exit 0.
    assert.doesNotMatch(r.stdout + r.stderr, /verify OK/);
    assert.match(r.stdout + r.stderr, /verify failure/);
  });

  test('delta CRL with issuingDistributionPoint', async () => {
    const crl = await new CrlBuilder(pki.intIssuer)
      .crlNumber(9)
      .deltaOf(7)
      .issuingDistributionPoint({
        distributionPoint: {
          fullName: [{ type: 'uniformResourceIdentifier', value: 'http://127.0.0.1/crl/int-delta.crl' }],
        },
        onlyContainsUserCerts: true,
      })
      .revoke({ serialNumber: good.serialNumber, reason: 'removeFromCRL' })
      .sign();
    const parsed = parseCrl(crl.der);
    assert.equal(parsed.deltaCRLIndicator, 7n);
    assert.equal(parsed.cRLNumber, 9n);
    assert.equal(parsed.issuingDistributionPoint?.onlyContainsUserCerts, true);
    assert.ok(bytesEqual(reencodeCrl(parsed), crl.der));
    const f = tmp.file('delta.pem', crl.toPem());
    const v = run('openssl', ['crl', '-in', f, '-noout', '-verify', '-text', '-CAfile', files.cas]);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /Delta CRL Indicator: critical\s*\n\s*7/);
    assert.match(v.stdout, /Issuing Distribution Point: critical/);
    assert.match(v.stdout, /Only User Certificates/);
  });
});
