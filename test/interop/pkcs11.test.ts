// Acceptance 5 (issue 3): an intermediate CA whose key lives in a SoftHSM2 token (generated
// there, non-extractable) issues a device certificate and a CRL through Pkcs11Signer; OpenSSL
// verifies both. Needs softhsm2-util on PATH and the module at $PKCS11_MODULE or Debian's path.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { generateKeyPair, KeySigner, Pkcs11Signer } from '../../src/crypto/index.js';
import { CertificateBuilder, CrlBuilder, Issuer } from '../../src/issue/index.js';
import { assertOpenSslOk, run, tempDir } from './helpers.js';

const MODULE = process.env.PKCS11_MODULE ?? '/usr/lib/softhsm/libsofthsm2.so';
const TOKEN = 'fleetpki-ca';
const PIN = '4321';
const tmp = tempDir('interop-hsm');
let signer: Pkcs11Signer | undefined;

before(() => {
  mkdirSync(join(tmp.dir, 'tokens'));
  const conf = tmp.file(
    'softhsm2.conf',
    `directories.tokendir = ${tmp.dir}/tokens\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`,
  );
  process.env.SOFTHSM2_CONF = conf; // read by the module at C_Initialize
  const r = run('softhsm2-util', [
    '--init-token',
    '--free',
    '--label',
    TOKEN,
    '--so-pin',
    '87654321',
    '--pin',
    PIN,
  ]);
  assert.equal(r.code, 0, r.stderr);
});
after(() => {
  signer?.close();
  tmp.remove();
});

describe('PKCS#11 intermediate on SoftHSM2', () => {
  test('token-held intermediate key issues a device certificate and a CRL that OpenSSL verifies', async () => {
    const rootKey = await generateKeyPair('ec-p256');
    const rootSigner = await KeySigner.create(rootKey.privateKey);
    const root = await new CertificateBuilder('root').subject('CN=HSM Test Root').sign(rootSigner);

    signer = await Pkcs11Signer.generate({
      module: MODULE,
      tokenLabel: TOKEN,
      pin: PIN,
      keyLabel: 'issuing-ca',
      keyType: 'ec-p256',
    });
    const int = await new CertificateBuilder('intermediate')
      .subject('CN=HSM Issuing CA')
      .publicKey(signer.publicKey)
      .issuer(Issuer.fromCertificate(root.certificate, rootSigner))
      .sign();
    const ca = Issuer.fromCertificate(int.certificate, signer);

    const device = await generateKeyPair('ec-p256');
    const leaf = await new CertificateBuilder('device', { selfCheck: 'signature' })
      .subject('CN=device-hsm-1')
      .publicKey(device.publicKey)
      .issuer(ca)
      .sign();
    const crl = await new CrlBuilder(ca, { selfCheck: 'signature' })
      .crlNumber(1)
      .revoke({ serialNumber: 99n, reason: 'superseded' })
      .sign();

    const rootPem = tmp.file('root.pem', root.toPem());
    const intPem = tmp.file('int.pem', int.toPem());
    const leafPem = tmp.file('leaf.pem', leaf.toPem());
    const crlPem = tmp.file('crl.pem', crl.toPem());
    assertOpenSslOk(
      run('openssl', [
        'verify',
        '-x509_strict',
        '-purpose',
        'sslclient',
        '-CAfile',
        rootPem,
        '-untrusted',
        intPem,
        leafPem,
      ]),
      'device issued by the token',
    );
    const c = run('openssl', ['crl', '-in', crlPem, '-noout', '-verify', '-CAfile', intPem]);
    assert.match(c.stdout + c.stderr, /verify OK/);
    const withCrl = run('openssl', [
      'verify',
      '-crl_check',
      '-CRLfile',
      crlPem,
      '-CAfile',
      rootPem,
      '-untrusted',
      intPem,
      leafPem,
    ]);
    assert.equal(withCrl.code, 0, withCrl.stdout + withCrl.stderr);
  });
});
