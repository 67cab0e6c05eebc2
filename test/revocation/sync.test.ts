// Synchronous revocation checking (verifyPathSync + given CRLs / stapled OCSP, the provider's
// synchronous verify), the typed refusal for network sources, and RFC 6960 §4.2.2.2.1: a delegated
// OCSP responder without id-pkix-ocsp-nocheck is itself checked against the CRLs.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import {
  type CryptoProvider,
  generateKeyPair,
  KeySigner,
  nodeCrypto,
  type Signer,
  webCrypto,
} from '../../src/crypto/index.js';
import { OID } from '../../src/der/index.js';
import { CertificateBuilder, CrlBuilder, Issuer } from '../../src/issue/index.js';
import {
  buildOcspRequest,
  createRevocationChecker,
  MemoryStatusSource,
  OcspResponder,
  RevocationError,
  type RevocationPolicy,
} from '../../src/revocation/index.js';
import { verifyPath, verifyPathSync } from '../../src/verify/index.js';
import { type Certificate, makeExtension } from '../../src/x509/index.js';

// The validation time of the CRL tests. Every CRL checked at NOW carries an explicit thisUpdate
// before it: a CRL signed later with the default thisUpdate (the clock at signing) would be "not
// yet valid" at NOW whenever a second boundary passed in between.
const NOW = Math.floor(Date.now() / 1000) * 1000;
const CRL_TIME = NOW - 60_000;
let root: Certificate;
let int: Certificate;
let rootCa: Issuer;
let intCa: Issuer;
let good: Certificate;
let revoked: Certificate;
let responderPlain: { cert: Certificate; signer: Signer };
let responderNoCheck: { cert: Certificate; signer: Signer };
let rootCrl: Uint8Array;
let intCrl: Uint8Array;

async function leafOf(ca: Issuer, cn: string, configure?: (b: CertificateBuilder) => void) {
  const k = await generateKeyPair('ec-p256');
  const b = new CertificateBuilder('device').subject(`CN=${cn}`).publicKey(k.publicKey).issuer(ca);
  configure?.(b);
  return { cert: (await b.sign()).certificate, signer: await KeySigner.create(k.privateKey) };
}

before(async () => {
  const [rk, ik] = await Promise.all([generateKeyPair('ec-p256'), generateKeyPair('ec-p256')]);
  const rootSigner = await KeySigner.create(rk.privateKey);
  root = (await new CertificateBuilder('root').subject('CN=Sync Root').sign(rootSigner)).certificate;
  rootCa = Issuer.fromCertificate(root, rootSigner);
  int = (
    await new CertificateBuilder('intermediate')
      .subject('CN=Sync CA')
      .publicKey(ik.publicKey)
      .issuer(rootCa)
      .sign()
  ).certificate;
  intCa = Issuer.fromCertificate(int, await KeySigner.create(ik.privateKey));
  good = (await leafOf(intCa, 'sync-good')).cert;
  revoked = (await leafOf(intCa, 'sync-revoked')).cert;
  // Delegated responders: id-kp-OCSPSigning (clientAuth too, which the device profile requires).
  const eku = [OID.OCSPSigning, OID.clientAuth];
  responderPlain = await leafOf(intCa, 'OCSP plain', (b) => b.extKeyUsage(eku));
  responderNoCheck = await leafOf(intCa, 'OCSP nocheck', (b) =>
    // RFC 6960 §4.2.2.2.1: id-pkix-ocsp-nocheck, value NULL.
    b.extKeyUsage(eku).extension(makeExtension(OID.ocspNoCheck, false, Uint8Array.of(0x05, 0x00))),
  );
  rootCrl = (await new CrlBuilder(rootCa).crlNumber(1).thisUpdate(CRL_TIME).sign()).der;
  intCrl = (
    await new CrlBuilder(intCa)
      .crlNumber(1)
      .thisUpdate(CRL_TIME)
      .revoke({ serialNumber: revoked.serialNumber, reason: 'keyCompromise', revocationDate: NOW - 60_000 })
      .revoke({ serialNumber: responderPlain.cert.serialNumber, reason: 'keyCompromise' })
      .sign()
  ).der;
});

/** nodeCrypto, counting which verify entry is used. */
function countingProvider(): CryptoProvider & { sync: number; async: number } {
  const c = Object.create(nodeCrypto) as CryptoProvider & { sync: number; async: number };
  c.sync = 0;
  c.async = 0;
  c.verify = (...a) => {
    c.sync++;
    return nodeCrypto.verify(...a);
  };
  c.verifyAsync = (...a) => {
    c.async++;
    return nodeCrypto.verifyAsync(...a);
  };
  return c;
}

const local = (p: Partial<RevocationPolicy>) =>
  createRevocationChecker({ sources: ['stapled', 'crl'], ...p });
const opts = (leaf: Certificate, p: Partial<RevocationPolicy>) => ({
  leaf,
  intermediates: [int],
  trustAnchors: [root],
  purpose: 'clientAuth' as const,
  time: NOW,
  revocation: local(p),
});

describe('verifyPathSync with revocation', () => {
  test('given CRLs: a good leaf is valid, a revoked one revoked (keyCompromise); only the sync verify is used', () => {
    const crypto = countingProvider();
    const ok = verifyPathSync({ ...opts(good, { crls: [rootCrl, intCrl], crypto }), crypto });
    assert.equal(ok.ok, true, ok.ok ? '' : `${ok.code}: ${ok.message}`);
    const r = verifyPathSync({ ...opts(revoked, { crls: [rootCrl, intCrl], crypto }), crypto });
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.code, 'revoked');
    assert.match(!r.ok ? r.message : '', /keyCompromise/);
    assert.ok(crypto.sync > 0);
    assert.equal(crypto.async, 0);
  });

  test('sync and async agree, with reason and date', async () => {
    const ctx = { cert: revoked, issuer: int, chain: [revoked, int, root], index: 0, time: NOW };
    const c = local({ crls: [intCrl] });
    const s = c.checkSync(ctx);
    assert.deepEqual(s, await c.check(ctx));
    assert.deepEqual(s.status === 'revoked' && [s.reason, s.revocationDate, s.source], [
      'keyCompromise',
      NOW - 60_000,
      'crl',
    ]);
  });

  test('no CRL for the intermediate → revocation-unknown (hard-fail), valid under soft-fail', () => {
    const hard = verifyPathSync(opts(good, { crls: [intCrl] }));
    assert.equal(!hard.ok && hard.code, 'revocation-unknown');
    assert.equal(!hard.ok && hard.certIndex, 1);
    assert.equal(verifyPathSync(opts(good, { crls: [intCrl], unavailable: 'soft-fail' })).ok, true);
  });

  test('a CRL signed by a separate CRL key: its path is validated synchronously too', async () => {
    // Same name as the intermediate, another key, cRLSign (RFC 5280 §6.3.3 (f)).
    const k = await generateKeyPair('ec-p256');
    const crlKeyCert = (
      await new CertificateBuilder('intermediate')
        .subject('CN=Sync CA')
        .publicKey(k.publicKey)
        .issuer(rootCa)
        .sign()
    ).certificate;
    const crlCa = Issuer.fromCertificate(crlKeyCert, await KeySigner.create(k.privateKey));
    const crl = (
      await new CrlBuilder(crlCa)
        .crlNumber(2)
        .thisUpdate(CRL_TIME)
        .revoke({ serialNumber: revoked.serialNumber, reason: 'superseded' })
        .sign()
    ).der;
    const p = { crls: [rootCrl, crl], crlSigners: [crlKeyCert] };
    const r = verifyPathSync(opts(revoked, p));
    assert.equal(!r.ok && r.code, 'revoked');
    assert.match(!r.ok ? r.message : '', /superseded/);
    assert.equal(verifyPathSync(opts(good, p)).ok, true);
    const a = await verifyPath(opts(revoked, p));
    assert.equal(!a.ok && a.code, 'revoked');
  });

  const network: [string, Partial<RevocationPolicy>][] = [
    ['default sources when no data is given (ocsp, crldp)', { crls: [] }],
    ['crl, then the network', { sources: ['crl', 'ocsp'] }],
    ['ocsp', { sources: ['ocsp'] }],
    ['crldp', { sources: ['crl', 'crldp'] }],
  ];
  for (const [name, p] of network) {
    test(`a network source (${name}) → RevocationError async-required naming verifyPath`, () => {
      const revocation = createRevocationChecker({ crls: [rootCrl, intCrl], ...p });
      assert.throws(
        () => verifyPathSync({ ...opts(good, {}), revocation }),
        (e: unknown) =>
          e instanceof RevocationError && e.code === 'async-required' && /verifyPath/.test(e.message),
      );
    });
  }

  test('an asynchronous-only provider → async-required from checkSync', () => {
    const c = local({ crls: [intCrl], crypto: webCrypto });
    assert.throws(
      () => c.checkSync({ cert: good, issuer: int, chain: [good, int, root], index: 0, time: NOW }),
      (e: unknown) => e instanceof RevocationError && e.code === 'async-required',
    );
  });
});

/** A stapled response about `cert` signed by `responder` (a delegated responder certificate) or the CA. */
async function staple(
  cert: Certificate,
  responder: { cert: Certificate; signer: Signer },
  status?: 'revoked',
) {
  const source = new MemoryStatusSource();
  source.issue('int', cert.serialNumber);
  if (status)
    source.revoke('int', cert.serialNumber, { revocationTime: NOW - 1000, reason: 'affiliationChanged' });
  const responderOcsp = await OcspResponder.create({
    issuers: [
      { id: 'int', certificate: int, signer: responder.signer, responderCertificate: responder.cert },
    ],
    source,
  });
  const req = await buildOcspRequest(cert, int, { nonce: false });
  return (await responderOcsp.respond(req.der)).der;
}

describe('stapled OCSP, synchronously, and the delegated responder’s own status (RFC 6960 §4.2.2.2.1)', () => {
  const ctx = () => ({ cert: good, issuer: int, chain: [good, int, root], index: 0, time: Date.now() });

  test('nocheck responder: accepted with no CRL at all (its status is not asked)', async () => {
    const der = await staple(good, responderNoCheck);
    const st = local({ sources: ['stapled'], stapled: [der] }).checkSync(ctx());
    assert.deepEqual(st, { status: 'good', source: 'stapled' });
  });

  test('nocheck responder: a revoked answer is revoked, synchronously', async () => {
    const der = await staple(good, responderNoCheck, 'revoked');
    const st = local({ sources: ['stapled'], stapled: [der] }).checkSync(ctx());
    assert.equal(st.status === 'revoked' && st.reason, 'affiliationChanged');
  });

  test('responder without nocheck and no CRL source → bad-responder-certificate (hard-fail), accepted under soft-fail', async () => {
    const der = await staple(good, responderPlain);
    const st = local({ sources: ['stapled'], stapled: [der] }).checkSync(ctx());
    assert.equal(st.status, 'unknown');
    assert.equal(st.status === 'unknown' && st.code, 'bad-responder-certificate');
    const soft = local({ sources: ['stapled'], stapled: [der], unavailable: 'soft-fail' }).checkSync(ctx());
    assert.equal(soft.status, 'good');
  });

  test('responder without nocheck, not on the CRL → the stapled answer is used', async () => {
    const other = await leafOf(intCa, 'OCSP plain 2', (b) =>
      b.extKeyUsage([OID.OCSPSigning, OID.clientAuth]),
    );
    const der = await staple(good, other);
    const c = local({ sources: ['stapled', 'crl'], stapled: [der], crls: [rootCrl, intCrl] });
    assert.deepEqual(c.checkSync(ctx()), { status: 'good', source: 'stapled' });
    assert.deepEqual(await c.check(ctx()), { status: 'good', source: 'stapled' });
  });

  test('responder without nocheck, revoked on the CRL → its answer is refused (the CRL answers instead)', async () => {
    const der = await staple(good, responderPlain);
    const c = local({ sources: ['stapled', 'crl'], stapled: [der], crls: [rootCrl, intCrl] });
    assert.deepEqual(c.checkSync(ctx()), { status: 'good', source: 'crl' });
  });

  test('responder revoked on a CRL that covers only it: bad-responder-certificate, sync and async', async () => {
    // The leaf's CRL (leaf.crl) is not at hand; the responder's partitioned CRL (responder.crl,
    // issuingDistributionPoint) is. The leaf's status can then only come from the stapled answer.
    const uri = (v: string) => [{ type: 'uniformResourceIdentifier' as const, value: v }];
    const leaf = (
      await leafOf(intCa, 'partitioned', (b) => b.crlDistributionPoints(['http://pki.test/leaf.crl']))
    ).cert;
    const eku = [OID.OCSPSigning, OID.clientAuth];
    const responder = await leafOf(intCa, 'OCSP partitioned', (b) =>
      b.extKeyUsage(eku).crlDistributionPoints(['http://pki.test/responder.crl']),
    );
    const partCrl = (listed: boolean) => {
      const b = new CrlBuilder(intCa)
        .crlNumber(listed ? 5 : 4)
        .issuingDistributionPoint({ distributionPoint: { fullName: uri('http://pki.test/responder.crl') } });
      if (listed) b.revoke({ serialNumber: responder.cert.serialNumber, reason: 'keyCompromise' });
      return b.signSync().der;
    };
    const der = await staple(leaf, responder);
    const lctx = { cert: leaf, issuer: int, chain: [leaf, int, root], index: 0, time: Date.now() };

    const fine = local({ sources: ['stapled', 'crl'], stapled: [der], crls: [rootCrl, partCrl(false)] });
    assert.deepEqual(fine.checkSync(lctx), { status: 'good', source: 'stapled' });

    const bad = local({ sources: ['stapled', 'crl'], stapled: [der], crls: [rootCrl, partCrl(true)] });
    for (const st of [bad.checkSync(lctx), await bad.check(lctx)]) {
      assert.equal(st.status, 'unknown');
      const p =
        st.status === 'unknown' ? st.problems.find((x) => x.code === 'bad-responder-certificate') : undefined;
      assert.match(
        p?.message ?? '',
        /responder certificate CN=OCSP partitioned is revoked \(keyCompromise\)/,
      );
    }
    const r = await verifyPath({
      leaf,
      intermediates: [int],
      trustAnchors: [root],
      purpose: 'clientAuth',
      revocation: createRevocationChecker({
        sources: ['stapled', 'crl'],
        stapled: [der],
        crls: [rootCrl, partCrl(true)],
      }),
    });
    assert.equal(!r.ok && r.code, 'revocation-unknown');
    assert.equal(!r.ok && r.certIndex, 0);
  });
});
