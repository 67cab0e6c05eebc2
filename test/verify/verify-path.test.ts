import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { generateKeyPair, type KeyPair, KeySigner, nodeCrypto } from '../../src/crypto/index.js';
import { CertificateBuilder, type IssuedCertificate, Issuer } from '../../src/issue/index.js';
import {
  DEFAULT_BUDGET,
  profilePolicy,
  SignatureCache,
  type VerifyOptions,
  verifyPath,
  verifyPathSync,
} from '../../src/verify/index.js';
import { Name } from '../../src/x509/name.js';

const NOW = Date.parse('2030-06-01T00:00:00Z');
const DAY = 86_400_000;

interface Ca {
  cert: IssuedCertificate;
  issuer: Issuer;
  key: KeyPair;
}

async function root(name: string): Promise<Ca> {
  const key = await generateKeyPair('ec-p256');
  const signer = await KeySigner.create(key.privateKey);
  const cert = await new CertificateBuilder('root')
    .subject(name)
    .notBefore(NOW - 1000 * DAY)
    .notAfter(NOW + 1000 * DAY)
    .sign(signer);
  return { cert, key, issuer: Issuer.fromCertificate(cert.certificate, signer) };
}

async function intermediate(
  parent: Ca,
  name: string,
  f?: (b: CertificateBuilder) => CertificateBuilder,
): Promise<Ca> {
  const key = await generateKeyPair('ec-p256');
  let b = new CertificateBuilder('intermediate')
    .subject(name)
    .publicKey(key.publicKey)
    .issuer(parent.issuer)
    .pathLenConstraint(null)
    .notBefore(NOW - 200 * DAY)
    .notAfter(NOW + 500 * DAY);
  if (f) b = f(b);
  const cert = await b.sign();
  return {
    cert,
    key,
    issuer: Issuer.fromCertificate(cert.certificate, await KeySigner.create(key.privateKey)),
  };
}

async function server(parent: Ca, san: string[], f?: (b: CertificateBuilder) => CertificateBuilder) {
  const key = await generateKeyPair('ec-p256');
  let b = new CertificateBuilder('server')
    .subject('CN=broker')
    .publicKey(key.publicKey)
    .issuer(parent.issuer)
    .subjectAltName(san)
    .notBefore(NOW - DAY)
    .notAfter(NOW + 30 * DAY);
  if (f) b = f(b);
  return (await b.sign()).certificate;
}

describe('verifyPath', () => {
  let r: Ca;
  let i: Ca;
  before(async () => {
    r = await root('CN=Test Root,O=fleetpki');
    i = await intermediate(r, 'CN=Test Issuing CA,O=fleetpki');
  });

  it('accepts a 3-certificate chain and returns it leaf first, anchor last', async () => {
    const leaf = await server(i, ['dns:broker.example.com']);
    const res = await verifyPath({
      purpose: 'serverAuth',
      leaf,
      intermediates: [i.cert.certificate],
      trustAnchors: [r.cert.certificate],
      time: NOW,
      hostname: 'broker.example.com',
    });
    assert.equal(res.ok, true, JSON.stringify(res));
    if (res.ok) {
      assert.equal(res.chain.length, 3);
      assert.equal(res.anchor, r.cert.certificate);
      assert.deepEqual(res.policySet, []);
    }
  });

  it('accepts PEM and DER inputs', () => {
    return server(i, ['dns:a.example.com']).then((leaf) => {
      const res = verifyPathSync({
        purpose: 'serverAuth',
        leaf: leaf.toPem(),
        intermediates: [i.cert.certificate.der],
        trustAnchors: [r.cert.certificate.toPem()],
        time: NOW,
      });
      assert.equal(res.ok, true, JSON.stringify(res));
    });
  });

  const failures: [string, () => Promise<Partial<VerifyOptions>>, string, number][] = [
    [
      'hostname mismatch',
      async () => ({ leaf: await server(i, ['dns:a.example.com']), hostname: 'b.example.com' }),
      'hostname-mismatch',
      0,
    ],
    [
      'wildcard does not cover two labels',
      async () => ({ leaf: await server(i, ['dns:*.example.com']), hostname: 'a.b.example.com' }),
      'hostname-mismatch',
      0,
    ],
    [
      'IP mismatch',
      async () => ({ leaf: await server(i, ['ip:192.0.2.1']), ip: '192.0.2.2' }),
      'hostname-mismatch',
      0,
    ],
    [
      'expired leaf',
      async () => ({ leaf: await server(i, ['dns:a.example.com']), time: NOW + 60 * DAY }),
      'expired',
      0,
    ],
    [
      'not yet valid',
      async () => ({ leaf: await server(i, ['dns:a.example.com']), time: NOW - 5 * DAY }),
      'not-yet-valid',
      0,
    ],
    [
      'wrong purpose',
      async () => ({ leaf: await server(i, ['dns:a.example.com']), purpose: 'clientAuth' }),
      'eku',
      0,
    ],
    [
      'missing intermediate',
      async () => ({ leaf: await server(i, ['dns:a.example.com']), intermediates: [] }),
      'unknown-issuer',
      0,
    ],
  ];
  for (const [name, make, code, certIndex] of failures)
    it(`rejects: ${name}`, async () => {
      const o = await make();
      const res = await verifyPath({
        purpose: 'serverAuth',
        intermediates: [i.cert.certificate],
        time: NOW,
        ...o,
        trustAnchors: [r.cert.certificate],
        leaf: o.leaf!,
      });
      assert.equal(res.ok, false);
      if (!res.ok) {
        assert.equal(res.code, code, res.message);
        assert.equal(res.certIndex, certIndex);
      }
    });

  it('rejects a leaf outside the permitted DNS subtree of its CA', async () => {
    const nc = await intermediate(r, 'CN=Constrained CA', (b) =>
      b.nameConstraints({
        permittedSubtrees: [{ base: { type: 'dNSName', value: 'fleet.example' }, minimum: 0 }],
      }),
    );
    const ok = await server(nc, ['dns:dev1.fleet.example']);
    const bad = await server(nc, ['dns:dev1.other.example']);
    const opts = { intermediates: [nc.cert.certificate], trustAnchors: [r.cert.certificate], time: NOW };
    assert.equal((await verifyPath({ ...opts, purpose: 'serverAuth', leaf: ok })).ok, true);
    const res = await verifyPath({ ...opts, purpose: 'serverAuth', leaf: bad });
    assert.equal(res.ok ? 'ok' : res.code, 'name-constraint-violation');
  });

  it('backtracks past an expired cross-certificate to a valid path', async () => {
    // Two certificates for the same intermediate key: one expired, one valid.
    const issuer = i.issuer;
    const expiredCopy = await new CertificateBuilder('intermediate')
      .subject(i.cert.certificate.subject)
      .publicKey(i.key.publicKey)
      .issuer(r.issuer)
      .pathLenConstraint(null)
      .notBefore(NOW - 100 * DAY)
      .notAfter(NOW - 50 * DAY)
      .sign();
    const leaf = await server({ ...i, issuer }, ['dns:a.example.com']);
    const res = await verifyPath({
      purpose: 'serverAuth',
      leaf,
      intermediates: [expiredCopy.certificate, i.cert.certificate],
      trustAnchors: [r.cert.certificate],
      time: NOW,
    });
    assert.equal(res.ok, true, JSON.stringify(res));
  });

  it('the signature cache makes repeat verifications skip known signatures', async () => {
    const leaf = await server(i, ['dns:a.example.com']);
    const cache = new SignatureCache();
    const opts = {
      leaf,
      intermediates: [i.cert.certificate],
      trustAnchors: [r.cert.certificate],
      time: NOW,
      purpose: 'serverAuth' as const,
      signatureCache: cache,
    };
    assert.equal(verifyPathSync(opts).ok, true);
    assert.equal(cache.size, 2);
    // A budget of zero signatures still succeeds: every signature is cached.
    const res = verifyPathSync({ ...opts, policy: profilePolicy('iot', { budget: { signatures: 0 } }) });
    assert.equal(res.ok, true, JSON.stringify(res));
  });

  it('revocation hook: a revoked leaf is rejected, unknown status obeys the policy', async () => {
    const leaf = await server(i, ['dns:a.example.com']);
    const base = { leaf, intermediates: [i.cert.certificate], trustAnchors: [r.cert.certificate], time: NOW };
    const revoked = await verifyPath({
      purpose: 'serverAuth',
      ...base,
      revocation: {
        check: (c) => (c.index === 0 ? { status: 'revoked', reason: 'keyCompromise' } : { status: 'good' }),
      },
    });
    assert.equal(revoked.ok ? 'ok' : revoked.code, 'revoked');
    const unknown = await verifyPath({
      purpose: 'serverAuth',
      ...base,
      revocation: { check: async () => ({ status: 'unknown', why: 'no CRL' }) },
    });
    assert.equal(unknown.ok ? 'ok' : unknown.code, 'revocation-unknown');
    const soft = await verifyPath({
      ...base,
      policy: profilePolicy('iot', { purpose: 'serverAuth', revocationUnknown: 'allow' }),
      revocation: { check: () => ({ status: 'unknown', why: 'no CRL' }) },
    });
    assert.equal(soft.ok, true);
  });
});

describe('pathological inputs end within the budget', () => {
  it('a mesh of 500 cross-signed intermediates with one subject', async () => {
    const n = 500;
    const keys = await Promise.all(Array.from({ length: n }, () => generateKeyPair('ec-p256')));
    const signers = await Promise.all(keys.map((k) => KeySigner.create(k.privateKey)));
    const subject = Name.parse('CN=Mesh CA,O=fleetpki');
    const selfIssuers = signers.map((s) => Issuer.selfSigned(subject, s));
    const certs = [];
    for (let j = 0; j < n; j++) {
      // certificate for key j, signed by key j+1 and key j+7: every certificate has the same subject
      for (const d of [1, 7]) {
        const c = new CertificateBuilder('intermediate')
          .subject(subject)
          .publicKey(keys[j]!.publicKey)
          .issuer(selfIssuers[(j + d) % n]!)
          .pathLenConstraint(null)
          .notBefore(NOW - DAY)
          .notAfter(NOW + DAY)
          .signSync();
        certs.push(c.certificate);
      }
    }
    const leaf = new CertificateBuilder('server')
      .subject('CN=leaf')
      .publicKey((await generateKeyPair('ec-p256')).publicKey)
      .issuer(selfIssuers[0]!)
      .subjectAltName(['dns:leaf.example.com'])
      .notBefore(NOW - DAY)
      .notAfter(NOW + DAY)
      .signSync().certificate;
    const unrelated = await root('CN=Unrelated Root');
    // The work done, not the time taken (timing belongs to `npm run bench verify`): the search
    // stops within the signature budget.
    let verifies = 0;
    const crypto = Object.create(nodeCrypto) as typeof nodeCrypto;
    crypto.verify = (...a) => {
      verifies++;
      return nodeCrypto.verify(...a);
    };
    const res = verifyPathSync({
      purpose: 'serverAuth',
      leaf,
      intermediates: certs,
      trustAnchors: [unrelated.cert.certificate],
      time: NOW,
      crypto,
    });
    assert.equal(res.ok, false);
    if (!res.ok)
      assert.ok(['budget-exceeded', 'unknown-issuer', 'path-too-long'].includes(res.code), res.code);
    assert.ok(verifies <= DEFAULT_BUDGET.signatures, `${verifies} signature checks`);
  });

  it('1024 permitted + 1024 excluded subtrees against 1024 SANs', async () => {
    const r = await root('CN=NC Root');
    const permitted = Array.from({ length: 1024 }, (_, k) => ({
      base: { type: 'dNSName' as const, value: `p${k}.example` },
      minimum: 0,
    }));
    const excluded = Array.from({ length: 1024 }, (_, k) => ({
      base: { type: 'dNSName' as const, value: `x${k}.example` },
      minimum: 0,
    }));
    const ca = await intermediate(r, 'CN=Many Constraints', (b) =>
      b.nameConstraints({ permittedSubtrees: permitted, excludedSubtrees: excluded }),
    );
    const sans = Array.from({ length: 1024 }, (_, k) => `dns:h${k}.p${k}.example`);
    const leaf = await server(ca, sans);
    // 1 024 names × 2 048 subtrees exceed the comparison budget: refused before the work is done.
    const res = verifyPathSync({
      purpose: 'serverAuth',
      leaf,
      intermediates: [ca.cert.certificate],
      trustAnchors: [r.cert.certificate],
      time: NOW,
    });
    assert.equal(res.ok ? 'ok' : res.code, 'budget-exceeded');
    assert.match(res.ok ? '' : res.message, /name-constraint comparison budget/);
  });
});
