import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { nodeCrypto, type Signer } from '../../src/crypto/index.js';
import { OID } from '../../src/der/index.js';
import { createRevocationChecker } from '../../src/revocation/checker.js';
import { checkCrls } from '../../src/revocation/crl-check.js';
import { RevocationError } from '../../src/revocation/errors.js';
import {
  buildOcspRequest,
  type CertStatus,
  certIdFor,
  encodeBasicOcspResponse,
  encodeOcspResponse,
  encodeResponseData,
  nonceExtension,
} from '../../src/revocation/ocsp/index.js';
import { checkOcspResponse } from '../../src/revocation/ocsp-check.js';
import { verifyPath } from '../../src/verify/index.js';
import {
  type Certificate,
  encodeExtension,
  encodeSignatureAlgorithm,
  encodeSigned,
  encodeTbsCertList,
  parseCertificate,
  parseCrl,
} from '../../src/x509/index.js';
import { makeTestPki, signerFromPem, type TestPki } from './pki.js';

/**
 * Acceptance 5: hostile OCSP responses and CRLs each fail with their typed code. Responses and
 * CRLs are built with our encoders and signed with the OpenSSL-generated keys of the test PKI
 * (plus a sibling CA issued by the same root).
 */

let pki: TestPki;
const certs: Record<string, Certificate> = {};
const signers: Record<string, Signer> = {};
// Five minutes ahead: the PKI generated in `before` must already be valid at NOW.
const NOW = Date.now() + 5 * 60_000;
const HOUR = 3600_000;

before(async () => {
  pki = makeTestPki();
  // A sibling CA: issued by the same root as `int`.
  pki.openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'sibling.key']);
  pki.openssl([
    'req',
    '-new',
    '-config',
    'ca.cnf',
    '-key',
    'sibling.key',
    '-subj',
    '/O=Test/CN=Sibling CA',
    '-out',
    'sibling.csr',
  ]);
  pki.openssl([
    'ca',
    '-config',
    'ca.cnf',
    '-name',
    'ca_root',
    '-batch',
    '-notext',
    '-extensions',
    'v3_int',
    '-in',
    'sibling.csr',
    '-out',
    'sibling.pem',
  ]);
  for (const n of ['root', 'int', 'device', 'revoked', 'ocsp', 'rogue-ca', 'sibling'])
    certs[n] = parseCertificate(pki.text(`${n}.pem`));
  for (const n of ['int', 'device', 'ocsp', 'rogue-ca', 'sibling'])
    signers[n] = await signerFromPem(pki.text(`${n}.key`));
});
after(() => pki?.cleanup());

interface RespSpec {
  signer: string;
  include?: string[];
  byName?: string;
  serialOf?: string;
  status?: CertStatus;
  thisUpdate?: number;
  nextUpdate?: number | null;
  nonce?: Uint8Array;
  tamper?: boolean;
}

async function response(s: RespSpec): Promise<Uint8Array> {
  const signerCert = s.signer === 'int' ? certs.int! : certs[s.signer]!;
  const id = await certIdFor(certs[s.serialOf ?? 'device']!, certs.int!, 'SHA-1', nodeCrypto);
  const thisUpdate = s.thisUpdate ?? NOW - HOUR;
  const tbs = encodeResponseData({
    responderId: s.byName
      ? { byName: certs[s.byName]!.subject }
      : { byKey: nodeCrypto.digest('SHA-1', signerCert.subjectPublicKeyInfo.publicKey) },
    producedAt: thisUpdate,
    responses: [
      {
        certId: id,
        certStatus: s.status ?? { status: 'good' },
        thisUpdate,
        nextUpdate: s.nextUpdate === null ? undefined : (s.nextUpdate ?? NOW + HOUR),
      },
    ],
    responseExtensions: s.nonce ? [nonceExtension(s.nonce)] : undefined,
  });
  const sig = await signers[s.signer]!.sign(tbs);
  if (s.tamper) sig[sig.length - 1]! ^= 1;
  return encodeOcspResponse(
    'successful',
    encodeBasicOcspResponse(
      tbs,
      encodeSignatureAlgorithm(signers[s.signer]!.algorithm),
      sig,
      (s.include ?? []).map((n) => certs[n]!.der),
    ),
  );
}

const NONCE = new Uint8Array(32).fill(9);

describe('hostile OCSP responses', () => {
  const cases: {
    name: string;
    spec: RespSpec;
    nonce?: Uint8Array;
    clockSkewMs?: number;
    code?: string;
    status?: string;
  }[] = [
    { name: 'CA-signed good response (control)', spec: { signer: 'int' }, status: 'good' },
    { name: 'delegated responder (control)', spec: { signer: 'ocsp', include: ['ocsp'] }, status: 'good' },
    {
      name: 'signed by an unauthorised certificate (device, no OCSPSigning)',
      spec: { signer: 'device', include: ['device'] },
      code: 'unauthorized-responder',
    },
    {
      name: 'signed by a sibling CA (same root)',
      spec: { signer: 'sibling', include: ['sibling'] },
      code: 'unauthorized-responder',
    },
    {
      name: 'signed by a sibling CA named byName',
      spec: { signer: 'sibling', include: ['sibling'], byName: 'sibling' },
      code: 'unauthorized-responder',
    },
    {
      name: 'signed by an unrelated CA',
      spec: { signer: 'rogue-ca', include: ['rogue-ca'] },
      code: 'unauthorized-responder',
    },
    { name: 'signer not included in the response', spec: { signer: 'ocsp' }, code: 'unauthorized-responder' },
    {
      name: 'claims the CA as responder but signed by another key',
      spec: { signer: 'sibling', byName: 'int' },
      code: 'bad-response-signature',
    },
    { name: 'tampered signature', spec: { signer: 'int', tamper: true }, code: 'bad-response-signature' },
    {
      name: 'stale (nextUpdate an hour ago)',
      spec: { signer: 'int', thisUpdate: NOW - 3 * HOUR, nextUpdate: NOW - HOUR },
      code: 'stale-response',
    },
    {
      name: 'stale (no nextUpdate, 8 days old)',
      spec: { signer: 'int', thisUpdate: NOW - 8 * 24 * HOUR, nextUpdate: null },
      code: 'stale-response',
    },
    {
      name: 'from the future (thisUpdate in an hour)',
      spec: { signer: 'int', thisUpdate: NOW + HOUR, nextUpdate: NOW + 2 * HOUR },
      code: 'response-from-future',
    },
    {
      name: 'thisUpdate one second ahead, no clock-skew allowance (the default) → response-from-future',
      spec: { signer: 'int', thisUpdate: NOW + 1000 },
      code: 'response-from-future',
    },
    {
      name: 'within a clock-skew allowance of 5 minutes (thisUpdate in 2 minutes)',
      spec: { signer: 'int', thisUpdate: NOW + 120_000 },
      clockSkewMs: 5 * 60_000,
      status: 'good',
    },
    {
      name: 'stale by 30 s, within a clock-skew allowance of 1 minute',
      spec: { signer: 'int', thisUpdate: NOW - HOUR, nextUpdate: NOW - 30_000 },
      clockSkewMs: 60_000,
      status: 'good',
    },
    {
      name: 'wrong certID (another serial)',
      spec: { signer: 'int', serialOf: 'revoked' },
      code: 'cert-id-mismatch',
    },
    { name: 'missing nonce', spec: { signer: 'int' }, nonce: NONCE, code: 'missing-nonce' },
    {
      name: 'different nonce',
      spec: { signer: 'int', nonce: new Uint8Array(32).fill(1) },
      nonce: NONCE,
      code: 'nonce-mismatch',
    },
    { name: 'echoed nonce (control)', spec: { signer: 'int', nonce: NONCE }, nonce: NONCE, status: 'good' },
    {
      name: 'revoked with reason (control)',
      spec: {
        signer: 'int',
        status: { status: 'revoked', revocationTime: NOW - 2 * HOUR, revocationReason: 'keyCompromise' },
      },
      status: 'revoked',
    },
  ];
  for (const c of cases)
    it(c.name, async () => {
      const der = await response(c.spec);
      const run = () =>
        checkOcspResponse(der, certs.device!, certs.int!, {
          crypto: nodeCrypto,
          time: NOW,
          nonce: c.nonce,
          clockSkewMs: c.clockSkewMs,
        });
      if (c.code)
        await assert.rejects(run, (e: unknown) => e instanceof RevocationError && e.code === c.code);
      else assert.equal((await run()).status, c.status);
    });

  it('a non-successful responseStatus → response-status', async () => {
    await assert.rejects(
      () =>
        checkOcspResponse(encodeOcspResponse('tryLater'), certs.device!, certs.int!, {
          crypto: nodeCrypto,
          time: NOW,
        }),
      (e: unknown) => e instanceof RevocationError && e.code === 'response-status',
    );
  });

  it('a stapled revoked response makes verifyPath fail with revoked', async () => {
    const der = await response({
      signer: 'int',
      status: { status: 'revoked', revocationTime: NOW - HOUR, revocationReason: 'keyCompromise' },
    });
    const r = await verifyPath({
      leaf: certs.device!,
      intermediates: [certs.int!],
      trustAnchors: [certs.root!],
      purpose: 'clientAuth',
      time: NOW,
      revocation: createRevocationChecker({ scope: 'leaf', sources: ['stapled'], stapled: [der] }),
    });
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.code, 'revoked');
  });

  it('the request builder adds a 32-octet nonce', async () => {
    const req = await buildOcspRequest(certs.device!, certs.int!, { crypto: nodeCrypto });
    assert.equal(req.nonce?.length, 32);
  });
});

describe('hostile CRLs', () => {
  interface CrlSpec {
    signer: string;
    issuer?: string;
    thisUpdate?: number;
    nextUpdate?: number;
    idp?: Record<string, unknown>;
    revoke?: string[];
  }
  async function crl(s: CrlSpec) {
    const signer = signers[s.signer]!;
    const alg = encodeSignatureAlgorithm(signer.algorithm);
    const exts = [encodeExtension(OID.cRLNumber, false, 7n)];
    if (s.idp)
      exts.push(
        encodeExtension(OID.issuingDistributionPoint, true, {
          onlyContainsUserCerts: false,
          onlyContainsCACerts: false,
          indirectCRL: false,
          onlyContainsAttributeCerts: false,
          ...s.idp,
        }),
      );
    const tbs = encodeTbsCertList({
      version: 2,
      signature: alg,
      issuer: certs[s.issuer ?? 'int']!.subject,
      thisUpdate: s.thisUpdate ?? NOW - HOUR,
      nextUpdate: s.nextUpdate ?? NOW + HOUR,
      revoked: (s.revoke ?? []).map((n) => ({
        serialNumber: certs[n]!.serialNumber,
        revocationDate: NOW - HOUR,
      })),
      extensions: exts,
    });
    return parseCrl(encodeSigned(tbs, alg, await signer.sign(tbs)));
  }
  const cases: { name: string; spec: CrlSpec; cert?: string; expect: string }[] = [
    { name: 'good CRL (control)', spec: { signer: 'int' }, expect: 'good' },
    { name: 'revoking CRL (control)', spec: { signer: 'int', revoke: ['device'] }, expect: 'revoked' },
    {
      name: 'right issuer name, signed by a sibling CA',
      spec: { signer: 'sibling', revoke: [] },
      expect: 'crl-wrong-signer',
    },
    {
      name: 'right issuer name, signed by an unrelated CA',
      spec: { signer: 'rogue-ca' },
      expect: 'crl-wrong-signer',
    },
    {
      name: 'signed by a delegated OCSP responder key',
      spec: { signer: 'ocsp' },
      expect: 'crl-wrong-signer',
    },
    {
      name: 'scope: onlyContainsCACerts for a device',
      spec: { signer: 'int', idp: { onlyContainsCACerts: true } },
      expect: 'crl-scope',
    },
    {
      name: 'scope: a distribution point the device does not name',
      spec: {
        signer: 'int',
        idp: {
          distributionPoint: {
            fullName: [{ type: 'uniformResourceIdentifier', value: 'http://elsewhere.example/x.crl' }],
          },
        },
      },
      expect: 'crl-scope',
    },
    {
      name: 'scope: CRL of another issuer',
      spec: { signer: 'sibling', issuer: 'sibling' },
      expect: 'status-unavailable',
    },
    {
      name: 'stale (nextUpdate passed)',
      spec: { signer: 'int', thisUpdate: NOW - 3 * HOUR, nextUpdate: NOW - HOUR },
      expect: 'crl-stale',
    },
    {
      name: 'not yet valid',
      spec: { signer: 'int', thisUpdate: NOW + HOUR, nextUpdate: NOW + 2 * HOUR },
      expect: 'crl-not-yet-valid',
    },
  ];
  for (const c of cases)
    it(`${c.name} → ${c.expect}`, async () => {
      const list = await crl(c.spec);
      const cert = certs[c.cert ?? 'device']!;
      const st = await checkCrls(
        { cert, issuer: certs.int!, chain: [cert, certs.int!, certs.root!], time: NOW },
        {
          crypto: nodeCrypto,
          crls: [list],
          signerCandidates: [certs.sibling!, certs['rogue-ca']!, certs.ocsp!],
          useDeltas: true,
          requireCrlNumber: true,
          validateSigner: async () => undefined,
        },
      );
      if (c.expect === 'good' || c.expect === 'revoked') assert.equal(st.status, c.expect);
      else {
        assert.equal(st.status, 'undetermined');
        assert.ok(
          st.status === 'undetermined' && st.errors.some((e) => e.code === c.expect),
          JSON.stringify(st),
        );
      }
    });

  it('verifyPath reports revocation-unknown with the CRL problem', async () => {
    const list = await crl({ signer: 'sibling' });
    const r = await verifyPath({
      leaf: certs.device!,
      intermediates: [certs.int!],
      trustAnchors: [certs.root!],
      purpose: 'clientAuth',
      time: NOW,
      revocation: createRevocationChecker({
        scope: 'leaf',
        sources: ['crl'],
        crls: [list],
        crlSigners: [certs.sibling!],
      }),
    });
    assert.equal(!r.ok && r.code, 'revocation-unknown');
    assert.match(!r.ok ? r.message : '', /crl-wrong-signer/);
  });

  it('soft-fail turns an unusable CRL into good', async () => {
    const list = await crl({ signer: 'rogue-ca' });
    const r = await verifyPath({
      leaf: certs.device!,
      intermediates: [certs.int!],
      trustAnchors: [certs.root!],
      purpose: 'clientAuth',
      time: NOW,
      revocation: createRevocationChecker({
        scope: 'leaf',
        sources: ['crl'],
        crls: [list],
        unavailable: 'soft-fail',
      }),
    });
    assert.equal(r.ok, true);
  });
});
