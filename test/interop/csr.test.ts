// Acceptance 2 (issue 3): CSRs made by `openssl req` for every key type pass verifyCsr and get
// signed (and the result verifies in OpenSSL); CSRs made by fleetpki pass `openssl req -verify`;
// a tampered signature, a signature by another key and a BER-encoded ECDSA value are refused.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { generateKeyPair, KeySigner, type KeyType, type Signer } from '../../src/crypto/index.js';
import { CertificateBuilder, CsrBuilder, IssueError, verifyCsr } from '../../src/issue/index.js';
import { encodeSigned, parseCsr } from '../../src/x509/index.js';
import { assertOpenSslOk, buildPki, type Pki, run, tempDir } from './helpers.js';

const tmp = tempDir('interop-csr');
let pki: Pki;
before(async () => {
  pki = await buildPki('ec-p256');
});
after(() => tmp.remove());

const OPENSSL_KEYS: { type: KeyType; genpkey: string[] }[] = [
  { type: 'ec-p256', genpkey: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'] },
  { type: 'ec-p384', genpkey: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'] },
  { type: 'ec-p521', genpkey: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-521'] },
  { type: 'rsa-2048', genpkey: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'] },
  { type: 'rsa-3072', genpkey: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:3072'] },
  { type: 'ed25519', genpkey: ['-algorithm', 'ED25519'] },
];

function expectCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => e instanceof IssueError && e.code === code);
}

describe('CSRs made by openssl req are verified and signed', () => {
  for (const { type, genpkey } of OPENSSL_KEYS)
    test(type, async () => {
      const key = tmp.file(`${type}.key`);
      const csrFile = tmp.file(`${type}.csr`);
      assert.equal(run('openssl', ['genpkey', ...genpkey, '-out', key]).code, 0);
      const r = run('openssl', [
        'req',
        '-new',
        '-key',
        key,
        '-subj',
        `/CN=dev-${type}/O=Acme`,
        '-addext',
        'subjectAltName=DNS:dev.example,IP:192.0.2.7',
        '-out',
        csrFile,
      ]);
      assert.equal(r.code, 0, r.stderr);
      const csr = verifyCsr(readFileSync(csrFile, 'utf8'));
      assert.equal(csr.subject.commonName, `dev-${type}`);
      const leaf = await new CertificateBuilder('server').fromCsr(csr).issuer(pki.intIssuer).sign();
      assert.equal(leaf.certificate.subjectAltName?.length, 2);
      const root = tmp.file('root.pem', pki.root.toPem());
      const int = tmp.file('int.pem', pki.intermediate.toPem());
      const leafPem = tmp.file(`${type}-leaf.pem`, leaf.toPem());
      assertOpenSslOk(
        run('openssl', [
          'verify',
          '-x509_strict',
          '-purpose',
          'sslserver',
          '-CAfile',
          root,
          '-untrusted',
          int,
          leafPem,
        ]),
        type,
      );
    });
});

describe('CSRs made by fleetpki pass openssl req -verify', () => {
  for (const type of ['ec-p256', 'ec-p384', 'ec-p521', 'rsa-2048', 'ed25519'] as KeyType[])
    test(type, async () => {
      const { privateKey } = await generateKeyPair(type);
      const signer = await KeySigner.create(privateKey);
      const csr = await new CsrBuilder()
        .subject('CN=device-42,O=Acme')
        .subjectAltName([
          'dns:device-42.fleet.example',
          'ip:2001:db8::42',
          'uri:urn:dev:42',
          'email:ops@fleet.example',
        ])
        .challengePassword('one-time-secret')
        .sign(signer);
      const f = tmp.file(`fleet-${type}.csr`, csr.toPem());
      const r = run('openssl', ['req', '-verify', '-in', f, '-noout', '-text']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr + r.stdout, /verify OK/);
      assert.match(r.stdout, /DNS:device-42\.fleet\.example/);
      assert.match(r.stdout, /IP Address:2001:DB8:0:0:0:0:0:42/i);
      assert.match(r.stdout, /challengePassword\s*:\s*one-time-secret/);
      assert.equal(verifyCsr(csr.der).der.length, csr.der.length);
    });
});

describe('CSRs without proof of possession are refused', () => {
  let signer: KeySigner;
  let good: Uint8Array;
  before(async () => {
    signer = await KeySigner.create((await generateKeyPair('ec-p256')).privateKey);
    good = (await new CsrBuilder().subject('CN=victim').sign(signer)).der;
  });

  test('tampered signature', () => {
    const bad = good.slice();
    bad[bad.length - 5] ^= 0x01;
    expectCode(() => verifyCsr(bad), 'csr-bad-signature');
  });

  test('tampered subject (info no longer matches the signature)', () => {
    const csr = parseCsr(good);
    const i = Buffer.from(good).indexOf(Buffer.from('victim'));
    const bad = good.slice();
    bad[i] = 'V'.charCodeAt(0);
    assert.ok(csr);
    expectCode(() => verifyCsr(bad), 'csr-bad-signature');
  });

  test('signature by another key', async () => {
    const other = await KeySigner.create((await generateKeyPair('ec-p256')).privateKey);
    // Claims `signer`'s public key, signs with `other`'s private key.
    const liar: Signer = {
      algorithm: signer.algorithm,
      publicKey: signer.publicKey,
      sign: (d) => other.signSync!(d),
      signSync: (d) => other.signSync!(d),
    };
    const csr = await new CsrBuilder().subject('CN=liar').sign(liar);
    expectCode(() => verifyCsr(csr.der), 'csr-bad-signature');
    const f = tmp.file('liar.csr', csr.toPem());
    // OpenSSL 3.0's `req -verify` exits 0 either way; its verdict is in the message.
    const r = run('openssl', ['req', '-verify', '-in', f, '-noout']);
    assert.match(r.stdout + r.stderr, /verify failure/, 'openssl agrees');
  });

  test('BER-encoded (non-DER) ECDSA signature value', () => {
    const csr = parseCsr(good);
    const sig = csr.signatureValue;
    // Same r and s, but the SEQUENCE length in long form (0x81 nn): valid BER, invalid DER.
    const ber = new Uint8Array(sig.length + 1);
    ber[0] = 0x30;
    ber[1] = 0x81;
    ber[2] = sig[1]!;
    ber.set(sig.subarray(2), 3);
    const bad = encodeSigned(csr.tbs, csr.signatureAlgorithm.der, ber);
    expectCode(() => verifyCsr(bad), 'csr-bad-signature');
  });

  test('ECDSA signature with a zero-padded INTEGER (non-minimal)', () => {
    const csr = parseCsr(good);
    const sig = csr.signatureValue;
    // r INTEGER gets an extra leading 0x00 octet.
    const rLen = sig[3]!;
    const padded = new Uint8Array(sig.length + 1);
    padded[0] = 0x30;
    padded[1] = sig[1]! + 1;
    padded[2] = 0x02;
    padded[3] = rLen + 1;
    padded[4] = 0;
    padded.set(sig.subarray(4), 5);
    expectCode(
      () => verifyCsr(encodeSigned(csr.tbs, csr.signatureAlgorithm.der, padded)),
      'csr-bad-signature',
    );
  });

  test('garbage is csr-malformed', () => {
    expectCode(() => verifyCsr(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00])), 'csr-malformed');
  });
});
