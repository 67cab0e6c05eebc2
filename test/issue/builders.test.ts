// issue/: profiles, serials, key identifiers, validity rules, lint refusals (nothing signed),
// and that the fast TBS assembly equals x509/encode.ts's encoder byte for byte.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { generateKeyPair, type KeyPair, KeySigner, nodeCrypto, type Signer } from '../../src/crypto/index.js';
import { bytesEqual, OID, toHex } from '../../src/der/index.js';
import {
  CertificateBuilder,
  CrlBuilder,
  CsrBuilder,
  IssueError,
  Issuer,
  LintError,
  lintCertificate,
  lintParsedCertificate,
  randomSerial,
  SERIAL_LENGTH,
  verifyCsr,
} from '../../src/issue/index.js';
import { encodeTbsCertificate, parseSignatureAlgorithm, reencodeCertificate } from '../../src/x509/index.js';

let rootKey: KeyPair;
let intKey: KeyPair;
let leafKey: KeyPair;
let rsaSmall: Uint8Array;
let rootSigner: Signer;
let root: Issuer;
let ca: Issuer;

before(async () => {
  [rootKey, intKey, leafKey] = await Promise.all([
    generateKeyPair('ec-p256'),
    generateKeyPair('ec-p256'),
    generateKeyPair('ed25519'),
  ]);
  const { generateKeyPairSync } = await import('node:crypto');
  rsaSmall = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({
    type: 'spki',
    format: 'der',
  });
  rootSigner = await KeySigner.create(rootKey.privateKey);
  const r = await new CertificateBuilder('root').subject('CN=Unit Root').sign(rootSigner);
  root = Issuer.fromCertificate(r.certificate, rootSigner);
  const i = await new CertificateBuilder('intermediate')
    .subject('CN=Unit CA')
    .publicKey(intKey.publicKey)
    .issuer(root)
    .sign();
  ca = Issuer.fromCertificate(i.certificate, await KeySigner.create(intKey.privateKey));
});

const leaf = (profile: 'device' | 'server' = 'device') =>
  new CertificateBuilder(profile).subject('CN=unit-device').publicKey(leafKey.publicKey).issuer(ca);

function lintCodes(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof LintError, `expected LintError, got ${e}`);
    return e.findings.filter((f) => f.severity === 'error').map((f) => f.code);
  }
  assert.fail('expected the build to be refused');
}

describe('profiles', () => {
  test('root: self-signed, CA critical, keyCertSign+cRLSign critical, SKI, no AKI', () => {
    const c = root.certificate!;
    assert.ok(c.isSelfIssued);
    assert.deepEqual(c.basicConstraints, { cA: true });
    assert.equal(c.extension(OID.basicConstraints)?.critical, true);
    assert.equal(c.extension(OID.keyUsage)?.critical, true);
    assert.ok(c.keyUsage?.keyCertSign && c.keyUsage.cRLSign && !c.keyUsage.digitalSignature);
    assert.equal(c.subjectKeyIdentifier?.length, 20);
    assert.equal(c.authorityKeyIdentifier, undefined);
  });

  test('intermediate: pathLen 0, AKI = root SKI', () => {
    const c = ca.certificate!;
    assert.deepEqual(c.basicConstraints, { cA: true, pathLenConstraint: 0 });
    assert.deepEqual(c.authorityKeyIdentifier?.keyIdentifier, root.keyIdentifier);
  });

  test('device: CA:FALSE, digitalSignature only (Ed25519), clientAuth, SKI = SHA-256(key)[0..20]', () => {
    const c = leaf().signSync().certificate;
    assert.deepEqual(c.basicConstraints, { cA: false });
    assert.ok(c.keyUsage?.digitalSignature && !c.keyUsage.keyAgreement && !c.keyUsage.keyEncipherment);
    assert.deepEqual(c.extKeyUsage, [OID.clientAuth]);
    const expect = nodeCrypto.digest('SHA-256', c.subjectPublicKeyInfo.publicKey).subarray(0, 20);
    assert.equal(toHex(c.subjectKeyIdentifier!), toHex(expect));
    assert.deepEqual(c.authorityKeyIdentifier?.keyIdentifier, ca.keyIdentifier);
  });

  test('server with SAN: serverAuth; SAN non-critical with a subject', () => {
    const c = leaf('server').subjectAltName(['dns:gw.local', 'ip:::1']).signSync().certificate;
    assert.deepEqual(c.extKeyUsage, [OID.serverAuth]);
    assert.equal(c.extension(OID.subjectAltName)?.critical, false);
  });

  test('empty subject: SAN is made critical', () => {
    const c = new CertificateBuilder('device')
      .subject('')
      .subjectAltName(['uri:urn:dev:1'])
      .publicKey(leafKey.publicKey)
      .issuer(ca)
      .signSync().certificate;
    assert.ok(c.subject.isEmpty);
    assert.equal(c.extension(OID.subjectAltName)?.critical, true);
  });

  test('every issued object re-encodes byte-identically', () => {
    const c = leaf('server').subjectAltName(['dns:a.example']).signSync();
    assert.ok(bytesEqual(reencodeCertificate(c.certificate), c.der));
  });

  test('fast TBS assembly equals x509/encode.ts encodeTbsCertificate', () => {
    const c = leaf().signSync().certificate;
    const tbs = encodeTbsCertificate({
      version: 3,
      serialNumber: c.serialNumber,
      signature: c.signature.der,
      issuer: c.issuer,
      notBefore: c.notBefore,
      notAfter: c.notAfter,
      subject: c.subject,
      subjectPublicKeyInfo: c.subjectPublicKeyInfo.der,
      extensions: c.extensions,
    });
    assert.ok(bytesEqual(tbs, c.tbs));
  });
});

describe('serial numbers', () => {
  test('17 octets, positive, minimal, and different every time', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const s = randomSerial(nodeCrypto);
      assert.equal(s.length, SERIAL_LENGTH);
      assert.ok(s[0]! >= 0x40 && s[0]! < 0x80);
      seen.add(toHex(s));
    }
    assert.equal(seen.size, 2000);
  });

  test('issued certificates carry distinct random serials', () => {
    const a = leaf().signSync();
    const b = leaf().signSync();
    assert.notEqual(a.serialHex, b.serialHex);
  });
});

describe('validity', () => {
  test('notBefore back-dated 5 minutes by default; whole seconds', () => {
    // A fixed clock with a fraction of a second: no tolerance for time passing between two reads.
    const now = Date.UTC(2027, 0, 1, 12, 0, 0, 789);
    const c = new CertificateBuilder('device', { now: () => now })
      .subject('CN=x')
      .publicKey(leafKey.publicKey)
      .issuer(ca)
      .signSync();
    assert.equal(c.notBefore, Date.UTC(2027, 0, 1, 11, 55, 0));
  });

  test('backdateMs option', () => {
    const now = Date.UTC(2027, 0, 1);
    const c = new CertificateBuilder('device', { backdateMs: 60_000, now: () => now })
      .subject('CN=x')
      .publicKey(leafKey.publicKey)
      .issuer(ca)
      .signSync();
    assert.equal(c.notBefore, now - 60_000);
  });

  test('clamped to the issuer notAfter by default, error with validityClamp: error', () => {
    const c = leaf().days(36_000).signSync();
    assert.ok(c.clamped);
    assert.equal(c.notAfter, ca.notAfter);
    assert.throws(
      () =>
        new CertificateBuilder('device', { validityClamp: 'error' })
          .subject('CN=x')
          .publicKey(leafKey.publicKey)
          .issuer(ca)
          .days(36_000)
          .signSync(),
      (e: unknown) => e instanceof IssueError && e.code === 'validity-exceeds-issuer',
    );
  });
});

describe('lint refuses and nothing is signed', () => {
  const counting = (): Signer & { calls: number } => {
    const s = {
      algorithm: ca.signer.algorithm,
      publicKey: ca.signer.publicKey,
      calls: 0,
      sign: (d: Uint8Array) => s.signSync(d),
      signSync: (d: Uint8Array) => {
        s.calls++;
        return ca.signer.signSync!(d);
      },
    };
    return s;
  };
  const cases: [string, (b: CertificateBuilder) => CertificateBuilder, string][] = [
    ['server without SAN', (b) => b, 'server-san-missing'],
    [
      'notAfter before notBefore',
      (b) =>
        b
          .subjectAltName(['dns:x'])
          .notBefore(Date.now())
          .notAfter(Date.now() - 1000),
      'validity-order',
    ],
    ['RSA-1024 key', (b) => b.subjectAltName(['dns:x']).publicKey(rsaSmall), 'rsa-key-too-small'],
    [
      'keyEncipherment on an Ed25519 key',
      (b) =>
        b.subjectAltName(['dns:x']).keyUsage({
          digitalSignature: true,
          keyEncipherment: true,
          nonRepudiation: false,
          dataEncipherment: false,
          keyAgreement: false,
          keyCertSign: false,
          cRLSign: false,
          encipherOnly: false,
          decipherOnly: false,
        }),
      'key-usage-key-mismatch',
    ],
    [
      'serial longer than 20 octets',
      (b) => b.subjectAltName(['dns:x']).serialNumber('7f'.repeat(21)),
      'serial-too-long',
    ],
    [
      'EKU without serverAuth',
      (b) => b.subjectAltName(['dns:x']).extKeyUsage([OID.clientAuth]),
      'eku-missing',
    ],
    [
      'nameConstraints on an end entity',
      (b) =>
        b
          .subjectAltName(['dns:x'])
          .nameConstraints({ permittedSubtrees: [{ base: { type: 'dNSName', value: 'x' }, minimum: 0 }] }),
      'name-constraints-on-end-entity',
    ],
  ];
  for (const [name, mod, code] of cases)
    test(name, () => {
      const s = counting();
      const issuer = Issuer.fromCertificate(ca.certificate!, s);
      const codes = lintCodes(() =>
        mod(
          new CertificateBuilder('server', { validityClamp: 'clamp' })
            .subject('CN=x')
            .publicKey(leafKey.publicKey)
            .issuer(issuer),
        ).signSync(),
      );
      assert.ok(codes.includes(code), `${codes.join(',')} should include ${code}`);
      assert.equal(s.calls, 0, 'the signer was not called');
    });

  test('duplicate extension (linted template)', () => {
    const c = leaf().signSync().certificate;
    const f = lintCertificate({
      serialNumber: c.serialNumber,
      issuerEmpty: false,
      subjectEmpty: false,
      selfSigned: false,
      notBefore: c.notBefore,
      notAfter: c.notAfter,
      spki: c.subjectPublicKeyInfo,
      signatureAlgorithm: parseSignatureAlgorithm(c.signatureAlgorithm),
      extensions: [...c.extensions, c.extensions[0]!],
      basicConstraints: c.basicConstraints,
      keyUsage: c.keyUsage,
      subjectKeyIdentifier: c.subjectKeyIdentifier,
      authorityKeyIdentifier: c.authorityKeyIdentifier,
    });
    assert.ok(f.some((x) => x.code === 'duplicate-extension' && x.severity === 'error'));
  });

  test('a root valid until year 10000 is refused before signing', () => {
    let calls = 0;
    const s: Signer = {
      ...rootSigner,
      algorithm: rootSigner.algorithm,
      publicKey: rootSigner.publicKey,
      sign: (d) => rootSigner.signSync!(d),
      signSync: (d) => {
        calls++;
        return rootSigner.signSync!(d);
      },
    };
    const codes = lintCodes(() =>
      new CertificateBuilder('root')
        .subject('CN=r')
        .notAfter(Date.UTC(10000, 0, 1))
        .signSync(s),
    );
    assert.ok(codes.includes('time-unencodable'), codes.join(','));
    assert.equal(calls, 0);
  });

  test('lintParsedCertificate passes our own certificates', () => {
    const c = leaf('server').subjectAltName(['dns:ok.example']).signSync().certificate;
    const f = lintParsedCertificate(c, parseSignatureAlgorithm(c.signatureAlgorithm), { profile: 'server' });
    assert.deepEqual(
      f.filter((x) => x.severity === 'error'),
      [],
    );
  });
});

describe('issuer and signer checks', () => {
  test('a leaf certificate cannot be an issuer', async () => {
    const c = leaf().signSync().certificate;
    const s = await KeySigner.create(leafKey.privateKey);
    assert.throws(
      () => Issuer.fromCertificate(c, s),
      (e: unknown) => e instanceof IssueError && e.code === 'issuer-not-ca',
    );
  });

  test('the signer must hold the issuer key', () => {
    assert.throws(
      () => Issuer.fromCertificate(ca.certificate!, rootSigner),
      (e: unknown) => e instanceof IssueError && e.code === 'signer-mismatch',
    );
  });

  test('selfCheck catches a signer that returns garbage', () => {
    const bad: Signer = {
      algorithm: ca.signer.algorithm,
      publicKey: ca.signer.publicKey,
      sign: () => new Uint8Array(70),
      signSync: () => new Uint8Array(70),
    };
    const issuer = Issuer.fromCertificate(ca.certificate!, bad);
    assert.throws(
      () =>
        new CertificateBuilder('device', { selfCheck: 'signature' })
          .subject('CN=x')
          .publicKey(leafKey.publicKey)
          .issuer(issuer)
          .signSync(),
      (e: unknown) => e instanceof IssueError && e.code === 'signature-check-failed',
    );
  });

  test('non-root profile without issuer → missing-field', () => {
    assert.throws(
      () => new CertificateBuilder('device').subject('CN=x').signSync(rootSigner),
      (e: unknown) => e instanceof IssueError && e.code === 'missing-field',
    );
  });
});

describe('CSR and CRL builders', () => {
  test('CSR round trip with verifyCsr', async () => {
    const s = await KeySigner.create(leafKey.privateKey);
    const csr = new CsrBuilder()
      .subject('CN=csr-unit')
      .subjectAltName(['email:a@b.example'])
      .challengePassword('pw')
      .signSync(s);
    assert.equal(verifyCsr(csr.der).challengePassword, 'pw');
  });

  test('CRL without nextUpdate/ordering rules → lint-failed', () => {
    assert.throws(
      () => new CrlBuilder(ca).signSync(),
      (e: unknown) => e instanceof LintError && e.findings.some((f) => f.code === 'crl-number-missing'),
    );
    assert.throws(
      () => new CrlBuilder(ca).crlNumber(1).revoke({ serialNumber: 5n, reason: 'removeFromCRL' }).signSync(),
      (e: unknown) =>
        e instanceof LintError && e.findings.some((f) => f.code === 'crl-remove-from-crl-in-full'),
    );
    assert.throws(
      () => new CrlBuilder(ca).crlNumber(3).deltaOf(3).signSync(),
      (e: unknown) => e instanceof LintError && e.findings.some((f) => f.code === 'crl-delta-base-order'),
    );
  });
});
