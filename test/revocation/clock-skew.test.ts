// A relying party whose clock is behind the CA's: what the CA publishes now (certificate, CRL,
// OCSP response) must validate for it with the default settings, because the publisher and the
// responder backdate thisUpdate/producedAt as the builder backdates notBefore. With backdating
// switched off the same party fails, until it is given a clock-skew tolerance.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { generateKeyPair, KeySigner } from '../../src/crypto/index.js';
import { CertificateBuilder, Issuer } from '../../src/issue/index.js';
import {
  buildOcspRequest,
  CrlPublisher,
  createRevocationChecker,
  DEFAULT_REVOCATION_BACKDATE_MS,
  MemoryStatusSource,
  OcspResponder,
  type RevocationPolicy,
} from '../../src/revocation/index.js';
import { type VerifyOptions, verifyPath, verifyPathSync } from '../../src/verify/index.js';
import type { Certificate } from '../../src/x509/index.js';

let root: Certificate;
let int: Certificate;
let good: Certificate;
let revoked: Certificate;
let source: MemoryStatusSource;
let intSigner: KeySigner;
let rootSigner: KeySigner;

before(async () => {
  const [rk, ik] = await Promise.all([generateKeyPair('ec-p256'), generateKeyPair('ec-p256')]);
  rootSigner = await KeySigner.create(rk.privateKey);
  intSigner = await KeySigner.create(ik.privateKey);
  root = (await new CertificateBuilder('root').subject('CN=Skew Root').sign(rootSigner)).certificate;
  const rootCa = Issuer.fromCertificate(root, rootSigner);
  int = (
    await new CertificateBuilder('intermediate')
      .subject('CN=Skew CA')
      .publicKey(ik.publicKey)
      .issuer(rootCa)
      .sign()
  ).certificate;
  const intCa = Issuer.fromCertificate(int, intSigner);
  const device = async (cn: string) =>
    (
      await new CertificateBuilder('device')
        .subject(`CN=${cn}`)
        .publicKey((await generateKeyPair('ec-p256')).publicKey)
        .issuer(intCa)
        .sign()
    ).certificate;
  good = await device('skew-good');
  revoked = await device('skew-revoked');
  source = new MemoryStatusSource();
  source.issue('root', int.serialNumber);
  source.issue('int', good.serialNumber);
  source.issue('int', revoked.serialNumber);
  source.revoke('int', revoked.serialNumber, { revocationTime: Date.now() - 1000, reason: 'keyCompromise' });
});

const issuers = () => [
  { id: 'root', certificate: root, signer: rootSigner },
  { id: 'int', certificate: int, signer: intSigner },
];

/** CRLs of both CAs and stapled OCSP answers for `leaf` and the intermediate, signed now. */
async function publishNow(backdateMs?: number) {
  const publisher = await CrlPublisher.create({ issuers: issuers(), source, backdateMs });
  const responder = await OcspResponder.create({ issuers: issuers(), source, backdateMs });
  const crls = [(await publisher.publish('root')).der, (await publisher.publish('int')).der];
  const staple = async (cert: Certificate, issuer: Certificate) =>
    (await responder.respond((await buildOcspRequest(cert, issuer, { nonce: false })).der)).der;
  const stapled = [await staple(good, int), await staple(revoked, int), await staple(int, root)];
  // Read after signing: the relying party is at least 30 s behind the moment of publication.
  const behind = Date.now() - 30_000;
  return { crls, stapled, behind };
}

function opts(leaf: Certificate, time: number, revocation: Partial<RevocationPolicy>): VerifyOptions {
  return {
    leaf,
    intermediates: [int],
    trustAnchors: [root],
    purpose: 'clientAuth',
    time,
    revocation: createRevocationChecker(revocation),
  };
}

describe('a relying party 30 s behind, default settings', () => {
  test(`the backdate is ${DEFAULT_REVOCATION_BACKDATE_MS / 60_000} minutes, like certificates' notBefore`, () => {
    assert.equal(DEFAULT_REVOCATION_BACKDATE_MS, 5 * 60_000);
  });

  const kinds: [string, (p: Awaited<ReturnType<typeof publishNow>>) => Partial<RevocationPolicy>][] = [
    ['CRLs', (p) => ({ crls: p.crls })],
    ['stapled OCSP', (p) => ({ stapled: p.stapled })],
  ];
  for (const [name, policy] of kinds) {
    test(`${name}: the good device is valid, the revoked one revoked (async and sync)`, async () => {
      const p = await publishNow();
      const ok = await verifyPath(opts(good, p.behind, policy(p)));
      assert.equal(ok.ok, true, ok.ok ? '' : `${ok.code}: ${ok.message}`);
      assert.equal(verifyPathSync(opts(good, p.behind, policy(p))).ok, true);
      const r = await verifyPath(opts(revoked, p.behind, policy(p)));
      assert.equal(r.ok ? 'valid' : r.code, 'revoked');
      const rs = verifyPathSync(opts(revoked, p.behind, policy(p)));
      assert.equal(rs.ok ? 'valid' : rs.code, 'revoked');
    });

    test(`${name} published without backdating: not yet valid for that party, until it allows 30 s of skew`, async () => {
      const p = await publishNow(0);
      const strict = await verifyPath(opts(good, p.behind, policy(p)));
      assert.equal(strict.ok ? 'valid' : strict.code, 'revocation-unknown');
      assert.match(strict.ok ? '' : strict.message, /crl-not-yet-valid|response-from-future/);
      // The tolerance given to verifyPath reaches the revocation checker…
      const tolerant = await verifyPath({ ...opts(good, p.behind, policy(p)), clockSkewMs: 30_000 });
      assert.equal(tolerant.ok, true, tolerant.ok ? '' : `${tolerant.code}: ${tolerant.message}`);
      // …and the checker's own setting wins over it.
      const own = await verifyPath({
        ...opts(good, p.behind, { ...policy(p), clockSkewMs: 0 }),
        clockSkewMs: 30_000,
      });
      assert.equal(own.ok ? 'valid' : own.code, 'revocation-unknown');
    });
  }
});

describe('a second boundary between the validation time and the publication', () => {
  test('CRLs signed after the clock passed the next whole second still validate at the earlier time', async () => {
    const t = Math.floor(Date.now() / 1000) * 1000;
    // Wait (bounded) until the wall clock is in a later second than t: deterministic, whenever it runs.
    for (let i = 0; i < 100 && Date.now() < t + 1000; i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(Date.now() >= t + 1000, 'the clock did not pass a second boundary');
    const p = await publishNow();
    const r = await verifyPath(opts(good, t, { crls: p.crls }));
    assert.equal(r.ok, true, r.ok ? '' : `${r.code}: ${r.message}`);
    const unbackdated = await publishNow(0);
    const old = await verifyPath(opts(good, t, { crls: unbackdated.crls }));
    assert.equal(old.ok ? 'valid' : old.code, 'revocation-unknown');
    assert.match(old.ok ? '' : old.message, /crl-not-yet-valid/);
  });
});
