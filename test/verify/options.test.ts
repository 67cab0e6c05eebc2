// verifyPath as a user calls it: the purpose the iot profile requires, the knobs that override the
// profile on the call, the profiles' defaults (purpose, clock skew, trust anchor, allow-lists),
// the signature-algorithm names and keyUsage names it accepts, and the revocation checker's
// sources following what it is given.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { generateKeyPair, KeySigner } from '../../src/crypto/index.js';
import { CertificateBuilder, Issuer } from '../../src/issue/index.js';
import { createRevocationChecker, defaultSources } from '../../src/revocation/index.js';
import {
  IOT_SIGNATURE_ALGORITHMS,
  policyAlgorithmName,
  profilePolicy,
  SIGNATURE_ALGORITHM_NAMES,
  VerifyError,
  type VerifyOptions,
  verifyPath,
  verifyPathSync,
} from '../../src/verify/index.js';
import type { SignatureAlgorithm } from '../../src/x509/algorithm.js';
import type { Certificate } from '../../src/x509/certificate.js';
import { keyUsage } from '../../src/x509/extensions/index.js';

const NOW = Date.parse('2030-06-01T00:00:00Z');
const DAY = 86_400_000;

let root: Certificate;
let constrainedRoot: Certificate;
let int: Certificate;
let ncInt: Certificate;
let leaf: Certificate;
let ncLeaf: Certificate;
let ccLeaf: Certificate;
let wildcard: Certificate;
let fresh: Certificate;

before(async () => {
  const key = async () => generateKeyPair('ec-p256');
  const rk = await key();
  const rs = await KeySigner.create(rk.privateKey);
  root = (
    await new CertificateBuilder('root')
      .subject('CN=Options Root')
      .notBefore(NOW - 1000 * DAY)
      .notAfter(NOW + 1000 * DAY)
      .sign(rs)
  ).certificate;
  // A root whose own certificate says pathLen 0 and excludes other.example (RFC 5937 constraints).
  const ck = await key();
  const cs = await KeySigner.create(ck.privateKey);
  constrainedRoot = (
    await new CertificateBuilder('root')
      .subject('CN=Constrained Root')
      .pathLenConstraint(0)
      .nameConstraints({
        excludedSubtrees: [{ base: { type: 'dNSName', value: 'other.example' }, minimum: 0 }],
      })
      .notBefore(NOW - 1000 * DAY)
      .notAfter(NOW + 1000 * DAY)
      .sign(cs)
  ).certificate;
  const mkInt = async (parent: Certificate, signer: KeySigner, cn: string) => {
    const k = await key();
    const c = (
      await new CertificateBuilder('intermediate')
        .subject(cn)
        .publicKey(k.publicKey)
        .issuer(Issuer.fromCertificate(parent, signer))
        .pathLenConstraint(null)
        .notBefore(NOW - 200 * DAY)
        .notAfter(NOW + 500 * DAY)
        .sign()
    ).certificate;
    return { c, s: await KeySigner.create(k.privateKey) };
  };
  const a = await mkInt(root, rs, 'CN=Options CA');
  int = a.c;
  const b = await mkInt(constrainedRoot, cs, 'CN=Constrained CA');
  ncInt = b.c;
  const mkLeaf = async (
    parent: Certificate,
    signer: KeySigner,
    san: string[],
    f?: (x: CertificateBuilder) => CertificateBuilder,
  ) => {
    let x = new CertificateBuilder('server')
      .subject('CN=leaf')
      .publicKey((await key()).publicKey)
      .issuer(Issuer.fromCertificate(parent, signer))
      .subjectAltName(san)
      .notBefore(NOW - DAY)
      .notAfter(NOW + 30 * DAY);
    if (f) x = f(x);
    return (await x.sign()).certificate;
  };
  leaf = await mkLeaf(int, a.s, ['dns:broker.example.com']);
  ncLeaf = await mkLeaf(ncInt, b.s, ['dns:host.other.example']);
  ccLeaf = await mkLeaf(int, a.s, ['dns:signer.example.com'], (x) =>
    x.keyUsage(keyUsage('digitalSignature', 'nonRepudiation')),
  );
  wildcard = await mkLeaf(int, a.s, ['dns:*.example.com']);
  fresh = await mkLeaf(int, a.s, ['dns:fresh.example.com'], (x) => x.notBefore(NOW + 10_000));
});

const base = () => ({ leaf, intermediates: [int], trustAnchors: [root], time: NOW });
const code = (r: { ok: boolean; code?: string }) => (r.ok ? 'ok' : r.code);

describe('purpose', () => {
  it('iot (the default) without a purpose → invalid-input naming the purpose, sync and async', async () => {
    const o = base() as unknown as VerifyOptions; // what a JavaScript caller can write
    for (const r of [await verifyPath(o), verifyPathSync(o)]) {
      assert.equal(code(r), 'invalid-input');
      assert.match(r.ok ? '' : r.message, /purpose 'clientAuth'.*'serverAuth'/);
    }
    // …also through a full iot policy built without one.
    const p = await verifyPath({ ...base(), policy: profilePolicy('iot') });
    assert.equal(code(p), 'invalid-input');
  });

  it('iot with a purpose; rfc5280 and webpki default to serverAuth', async () => {
    assert.equal(code(await verifyPath({ ...base(), purpose: 'serverAuth' })), 'ok');
    assert.equal(code(await verifyPath({ ...base(), purpose: 'clientAuth' })), 'eku');
    assert.equal(code(await verifyPath({ ...base(), policy: 'webpki' })), 'ok');
    assert.equal(code(await verifyPath({ ...base(), policy: 'rfc5280' })), 'ok');
    assert.equal(profilePolicy('webpki').purpose, 'serverAuth');
    assert.equal(profilePolicy('iot').purpose, undefined);
  });
});

describe('knobs on the call override the profile', () => {
  const rows: [string, Partial<VerifyOptions>, string][] = [
    ['maxIntermediates 0', { maxIntermediates: 0 }, 'path-too-long'],
    ['maxIntermediates 1', { maxIntermediates: 1 }, 'ok'],
    ['signatureAlgorithms without ECDSA', { signatureAlgorithms: ['ed25519'] }, 'weak-algorithm'],
    ['signatureAlgorithms any', { signatureAlgorithms: 'any' }, 'ok'],
    [
      'an unknown signature algorithm name',
      { signatureAlgorithms: ['ecdsa-sha-256' as 'ed25519'] },
      'invalid-input',
    ],
    ['leafKeyUsage keyEncipherment (absent)', { leafKeyUsage: ['keyEncipherment'] }, 'key-usage'],
    ['leafKeyUsage digitalSignature', { leafKeyUsage: ['digitalSignature'] }, 'ok'],
    ['an unknown keyUsage name', { leafKeyUsage: ['signing' as 'cRLSign'] }, 'invalid-input'],
    ['a negative clockSkewMs', { clockSkewMs: -1 }, 'invalid-input'],
  ];
  for (const [name, knobs, want] of rows)
    it(name, async () => {
      const o = { ...base(), purpose: 'serverAuth', ...knobs } as VerifyOptions;
      assert.equal(code(await verifyPath(o)), want);
      assert.equal(code(verifyPathSync(o)), want);
    });

  it('contentCommitment and nonRepudiation name the same bit (RFC 5280 §4.2.1.3)', async () => {
    assert.deepEqual(keyUsage('contentCommitment'), keyUsage('nonRepudiation'));
    for (const bit of ['contentCommitment', 'nonRepudiation'] as const) {
      const o = { ...base(), leaf: ccLeaf, purpose: 'serverAuth' as const, leafKeyUsage: [bit] };
      assert.equal(code(await verifyPath(o)), 'ok', bit);
      assert.equal(code(await verifyPath({ ...o, leaf })), 'key-usage', bit);
    }
  });

  it('isPublicSuffix on the call refuses a wildcard over a public suffix', async () => {
    const o = { ...base(), leaf: wildcard, purpose: 'serverAuth' as const, hostname: 'a.example.com' };
    assert.equal(code(await verifyPath(o)), 'ok');
    assert.equal(
      code(await verifyPath({ ...o, isPublicSuffix: (d) => d === 'example.com' })),
      'hostname-mismatch',
    );
  });

  it('clockSkewMs: a certificate valid 10 s from now is accepted with 10 s of tolerance, not with 9', async () => {
    const o = { ...base(), leaf: fresh, purpose: 'serverAuth' as const };
    assert.equal(code(await verifyPath(o)), 'not-yet-valid');
    assert.equal(code(await verifyPath({ ...o, clockSkewMs: 9_000 })), 'not-yet-valid');
    assert.equal(code(await verifyPath({ ...o, clockSkewMs: 10_000 })), 'ok');
    // …and on the expiry side: 30 days + 10 s after notAfter.
    const late = { ...base(), purpose: 'serverAuth' as const, time: leaf.notAfter + 10_000 };
    assert.equal(code(await verifyPath(late)), 'expired');
    assert.equal(code(await verifyPath({ ...late, clockSkewMs: 10_000 })), 'ok');
  });

  it('the call wins over a full policy', async () => {
    const policy = profilePolicy('iot', { purpose: 'clientAuth', maxIntermediates: 0 });
    assert.equal(code(await verifyPath({ ...base(), policy })), 'path-too-long');
    assert.equal(
      code(await verifyPath({ ...base(), policy, purpose: 'serverAuth', maxIntermediates: 2 })),
      'ok',
    );
  });
});

describe('profilePolicy', () => {
  it('undefined keeps the profile’s value; "any" clears an allow-list', () => {
    assert.deepEqual(
      profilePolicy('iot', { signatureAlgorithms: undefined }).signatureAlgorithms,
      IOT_SIGNATURE_ALGORITHMS,
    );
    assert.deepEqual(profilePolicy('iot', { curves: undefined }).curves, ['P-256', 'P-384', 'P-521']);
    assert.equal(profilePolicy('iot', { signatureAlgorithms: 'any' }).signatureAlgorithms, undefined);
    assert.equal(profilePolicy('iot', { curves: 'any' }).curves, undefined);
    assert.equal(profilePolicy('iot', { maxIntermediates: undefined }).maxIntermediates, 8);
  });

  it('per-profile defaults: clock skew 0 everywhere; the anchor is name-and-key only in rfc5280', () => {
    for (const p of ['rfc5280', 'webpki', 'iot'] as const) assert.equal(profilePolicy(p).clockSkewMs, 0, p);
    assert.equal(profilePolicy('rfc5280').trustAnchorConstraints, 'name-and-key');
    assert.equal(profilePolicy('webpki').trustAnchorConstraints, 'enforce');
    assert.equal(profilePolicy('iot').trustAnchorConstraints, 'enforce');
  });

  it('refuses unknown names and bad numbers with VerifyError invalid-input', () => {
    const bad = (f: () => unknown) =>
      assert.throws(f, (e: unknown) => e instanceof VerifyError && e.code === 'invalid-input');
    bad(() => profilePolicy('iot', { signatureAlgorithms: ['sha256WithRSAEncryption' as 'ed25519'] }));
    bad(() => profilePolicy('strict' as 'iot'));
    bad(() => profilePolicy('iot', { clockSkewMs: Number.NaN }));
  });

  it('SIGNATURE_ALGORITHM_NAMES holds the allow-list name of every algorithm a policy can meet', () => {
    const hashes = ['SHA-1', 'SHA-224', 'SHA-256', 'SHA-384', 'SHA-512'] as const;
    const algs: SignatureAlgorithm[] = [
      ...hashes.map((hash) => ({ kind: 'rsa-pkcs1' as const, hash })),
      ...hashes.map((hash) => ({ kind: 'rsa-pss' as const, hash, mgfHash: hash, saltLength: 32 })),
      ...hashes.map((hash) => ({ kind: 'ecdsa' as const, hash })),
      { kind: 'dsa', hash: 'SHA-1' },
      { kind: 'dsa', hash: 'SHA-256' },
      { kind: 'ed25519' },
      { kind: 'ed448' },
    ];
    assert.deepEqual(algs.map(policyAlgorithmName).sort(), [...SIGNATURE_ALGORITHM_NAMES].sort());
    for (const n of IOT_SIGNATURE_ALGORITHMS)
      assert.ok((SIGNATURE_ALGORITHM_NAMES as readonly string[]).includes(n));
  });
});

describe('trust anchor constraints (RFC 5280 §6.1.1 (d), RFC 5937)', () => {
  // The anchor's own pathLenConstraint 0 forbids the intermediate, its nameConstraints the leaf.
  const viaConstrained = () => ({
    leaf: ncLeaf,
    intermediates: [ncInt],
    trustAnchors: [constrainedRoot],
    time: NOW,
    purpose: 'serverAuth' as const,
  });
  it('enforce (webpki, iot): the anchor certificate’s pathLenConstraint applies', async () => {
    assert.equal(code(await verifyPath(viaConstrained())), 'path-too-long');
    assert.equal(code(await verifyPath({ ...viaConstrained(), policy: 'webpki' })), 'path-too-long');
  });
  it('name-and-key (rfc5280): only the anchor’s name and key count', async () => {
    assert.equal(code(await verifyPath({ ...viaConstrained(), policy: 'rfc5280' })), 'ok');
    assert.equal(
      code(await verifyPath({ ...viaConstrained(), trustAnchorConstraints: 'name-and-key' })),
      'ok',
    );
  });
  it('enforce on rfc5280, by the option', async () => {
    const r = await verifyPath({ ...viaConstrained(), policy: 'rfc5280', trustAnchorConstraints: 'enforce' });
    assert.equal(code(r), 'path-too-long');
  });
});

describe('createRevocationChecker: the default sources follow what it is given', () => {
  const crl = new Uint8Array([0x30, 0x00]);
  const rows: [string, Parameters<typeof defaultSources>[0], string[]][] = [
    ['CRLs', { crls: [crl] }, ['crl']],
    ['stapled responses', { stapled: [crl] }, ['stapled']],
    ['both', { crls: [crl], stapled: [crl] }, ['stapled', 'crl']],
    ['nothing', {}, ['ocsp', 'crldp']],
    ['empty lists', { crls: [], stapled: [] }, ['ocsp', 'crldp']],
  ];
  for (const [name, given, want] of rows) it(name, () => assert.deepEqual([...defaultSources(given)], want));

  it('explicit sources win', () => {
    const c = createRevocationChecker({ sources: ['crl', 'crldp'] });
    assert.deepEqual([...c.policy.sources], ['crl', 'crldp']);
  });
});
