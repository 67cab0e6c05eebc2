// issue/: cRLDistributionPoints and authorityInfoAccess in issued certificates — from the builder
// and from Issuer defaults, non-critical, linted URIs — and `openssl x509 -text` shows them.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { before, describe, test } from 'node:test';
import { generateKeyPair, type KeyPair, KeySigner, type Signer } from '../../src/crypto/index.js';
import { OID } from '../../src/der/index.js';
import {
  CertificateBuilder,
  IssueError,
  Issuer,
  LintError,
  lintParsedCertificate,
  revocationUriProblem,
} from '../../src/issue/index.js';
import { type Certificate, makeExtension, parseSignatureAlgorithm } from '../../src/x509/index.js';

let intKey: KeyPair;
let leafKey: KeyPair;
let rootSigner: Signer;
let intSigner: Signer;
let root: Issuer;
let intCert: Issuer['certificate'];

const CRL = 'http://127.0.0.1:8080/crl/int.crl';
const OCSP = 'http://127.0.0.1:8080/ocsp';
const CA_ISSUERS = 'http://127.0.0.1:8080/ca/int.crt';

before(async () => {
  const rootKey = await generateKeyPair('ec-p256');
  [intKey, leafKey] = await Promise.all([generateKeyPair('ec-p256'), generateKeyPair('ec-p256')]);
  rootSigner = await KeySigner.create(rootKey.privateKey);
  intSigner = await KeySigner.create(intKey.privateKey);
  const r = await new CertificateBuilder('root').subject('CN=RI Root').sign(rootSigner);
  root = Issuer.fromCertificate(r.certificate, rootSigner);
  intCert = (
    await new CertificateBuilder('intermediate')
      .subject('CN=RI CA')
      .publicKey(intKey.publicKey)
      .issuer(root)
      .sign()
  ).certificate;
});

const caWith = (o: Parameters<typeof Issuer.fromCertificate>[2] = {}) =>
  Issuer.fromCertificate(intCert!, intSigner, o);
const leaf = (ca: Issuer) =>
  new CertificateBuilder('device').subject('CN=ri-device').publicKey(leafKey.publicKey).issuer(ca);

function uris(c: Certificate) {
  return c.cRLDistributionPoints?.flatMap(
    (d) =>
      d.distributionPoint?.fullName?.map((g) =>
        g.type === 'uniformResourceIdentifier' ? g.value : g.type,
      ) ?? [],
  );
}

function lintErrors(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof LintError, `expected LintError, got ${e}`);
    return e.findings.filter((f) => f.severity === 'error').map((f) => f.code);
  }
  assert.fail('expected the build to be refused');
}

describe('cRLDistributionPoints and authorityInfoAccess', () => {
  test('builder methods: one DP with every URL, AIA ocsp then caIssuers, both non-critical', () => {
    const c = leaf(caWith())
      .crlDistributionPoints([CRL, 'ldap://ldap.example/cn=RI%20CA?certificateRevocationList'])
      .authorityInfoAccess({ ocsp: [OCSP], caIssuers: [CA_ISSUERS] })
      .signSync().certificate;
    assert.equal(c.cRLDistributionPoints?.length, 1);
    assert.deepEqual(uris(c), [CRL, 'ldap://ldap.example/cn=RI%20CA?certificateRevocationList']);
    assert.deepEqual(
      c.authorityInfoAccess?.map((a) => [a.accessMethod, a.accessLocation]),
      [
        [OID.ocsp, { type: 'uniformResourceIdentifier', value: OCSP }],
        [OID.caIssuers, { type: 'uniformResourceIdentifier', value: CA_ISSUERS }],
      ],
    );
    assert.equal(c.extension(OID.cRLDistributionPoints)?.critical, false);
    assert.equal(c.extension(OID.authorityInfoAccess)?.critical, false);
    assert.deepEqual(lintParsedCertificate(c, parseSignatureAlgorithm(c.signatureAlgorithm)), []);
  });

  test('Issuer defaults go into every certificate it issues', () => {
    const ca = caWith({ crlDistributionPoints: [CRL], authorityInfoAccess: { ocsp: [OCSP] } });
    for (const c of [leaf(ca).signSync().certificate, leaf(ca).signSync().certificate]) {
      assert.deepEqual(uris(c), [CRL]);
      assert.deepEqual(
        c.authorityInfoAccess?.map((a) => a.accessMethod),
        [OID.ocsp],
      );
    }
  });

  test('builder overrides the issuer default; null omits it', () => {
    const ca = caWith({ crlDistributionPoints: [CRL], authorityInfoAccess: { ocsp: [OCSP] } });
    const c = leaf(ca)
      .crlDistributionPoints(['https://other.example/x.crl'])
      .authorityInfoAccess(null)
      .signSync().certificate;
    assert.deepEqual(uris(c), ['https://other.example/x.crl']);
    assert.equal(c.extension(OID.authorityInfoAccess), undefined);
    const d = leaf(ca).crlDistributionPoints(null).signSync().certificate;
    assert.equal(d.extension(OID.cRLDistributionPoints), undefined);
  });

  test('no defaults, no methods → neither extension', () => {
    const c = leaf(caWith()).signSync().certificate;
    assert.equal(c.extension(OID.cRLDistributionPoints), undefined);
    assert.equal(c.extension(OID.authorityInfoAccess), undefined);
  });

  const badUris: [string, string][] = [
    ['empty string', ''],
    ['file scheme', 'file:///etc/crl'],
    ['ftp scheme', 'ftp://example.com/x.crl'],
    ['relative', '/crl/int.crl'],
    ['http without host', 'http:///x.crl'],
    ['ldap without dn', 'ldap://ldap.example'],
    ['space inside', 'http://example.com/a b.crl'],
    ['leading space', ' http://example.com/a.crl'],
    ['no authority', 'http:example.com/a.crl'],
    ['user info', 'http://user:pw@example.com/a.crl'],
    ['bad port', 'http://example.com:99999/a.crl'],
  ];
  for (const [name, uri] of badUris) {
    test(`lint refuses a CRL DP URI: ${name}`, () => {
      assert.ok(revocationUriProblem(uri));
      assert.deepEqual(
        lintErrors(() => leaf(caWith()).crlDistributionPoints([uri]).signSync()),
        ['uri-not-allowed'],
      );
    });
  }

  test('lint refuses a bad AIA URI from the issuer defaults (nothing signed)', () => {
    const ca = caWith({ authorityInfoAccess: { ocsp: ['mailto:ops@example.com'] } });
    let signed = 0;
    const counting = {
      ...intSigner,
      signSync: (b: Uint8Array) => {
        signed++;
        return intSigner.signSync!(b);
      },
    };
    const ca2 = Issuer.fromCertificate(intCert!, counting, { authorityInfoAccess: { ocsp: ['mailto:x@y'] } });
    assert.deepEqual(
      lintErrors(() => leaf(ca).signSync()),
      ['uri-not-allowed'],
    );
    assert.deepEqual(
      lintErrors(() => leaf(ca2).signSync()),
      ['uri-not-allowed'],
    );
    assert.equal(signed, 0);
  });

  test('accepted URIs: http, https with port, ldap with dn', () => {
    for (const u of [
      'http://a.example/x.crl',
      'https://a.example:8443/ocsp',
      'HTTP://[::1]:8080/ocsp',
      'http://127.0.0.1',
      'ldap:///cn=CA,o=X',
      'ldap://ldap.example/cn=CA?certificateRevocationList;binary',
    ])
      assert.equal(revocationUriProblem(u), undefined, u);
  });

  test('a caller-supplied critical authorityInfoAccess is refused (RFC 5280 §4.2.2.1)', () => {
    const good = leaf(caWith())
      .authorityInfoAccess({ ocsp: [OCSP] })
      .signSync().certificate;
    const v = good.extension(OID.authorityInfoAccess)!.value;
    assert.deepEqual(
      lintErrors(() =>
        leaf(caWith())
          .extension(makeExtension(OID.authorityInfoAccess, true, v))
          .signSync(),
      ),
      ['aia-critical'],
    );
  });

  const badInputs: [string, () => unknown][] = [
    ['empty CRL URL list', () => leaf(caWith()).crlDistributionPoints([])],
    ['AIA without any URL', () => leaf(caWith()).authorityInfoAccess({})],
    ['non-ASCII URL', () => leaf(caWith()).crlDistributionPoints(['http://exämple.com/x.crl'])],
    ['empty list in Issuer defaults', () => caWith({ crlDistributionPoints: [] })],
  ];
  for (const [name, fn] of badInputs) {
    test(`bad-input: ${name}`, () => {
      assert.throws(fn, (e: unknown) => e instanceof IssueError && e.code === 'bad-input');
    });
  }

  test('openssl x509 -text shows the CRL distribution point and the AIA URIs', () => {
    const ca = caWith({
      crlDistributionPoints: [CRL],
      authorityInfoAccess: { ocsp: [OCSP], caIssuers: [CA_ISSUERS] },
    });
    const pem = leaf(ca).signSync().toPem();
    const r = spawnSync('openssl', ['x509', '-noout', '-text'], { input: pem, encoding: 'utf8' });
    if (r.error) throw new Error(`openssl not found on PATH (CI installs it): ${r.error.message}`);
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      /X509v3 CRL Distribution Points:\s*\n\s*Full Name:\s*\n\s*URI:http:\/\/127\.0\.0\.1:8080\/crl\/int\.crl/,
    );
    assert.match(
      r.stdout,
      /Authority Information Access:\s*\n\s*OCSP - URI:http:\/\/127\.0\.0\.1:8080\/ocsp\s*\n\s*CA Issuers - URI:http:\/\/127\.0\.0\.1:8080\/ca\/int\.crt/,
    );
    assert.doesNotMatch(r.stdout, /CRL Distribution Points: critical|Authority Information Access: critical/);
  });
});
