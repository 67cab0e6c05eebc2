import type { CryptoProvider } from '../crypto/provider.js';
import { bytesEqual } from '../der/bytes.js';
import { OID } from '../der/oid-names.js';
import { parseSignatureAlgorithm } from '../x509/algorithm.js';
import type { Certificate } from '../x509/certificate.js';
import type { CRLReason } from '../x509/extensions/types.js';
import { RevocationError } from './errors.js';
import { type CertIdHash, issuerKey } from './ocsp/cert-id.js';
import { type OcspResponse, parseOcspResponse, type SingleResponse } from './ocsp/response.js';
import { digestStep, runAsync, runSync, type Steps, verifyStep } from './steps.js';

/**
 * Checks an OCSP response about `cert` (issued by `issuer`) at `time` — RFC 6960 §3.2 and §4.2.2.2:
 *  1. responseStatus successful, id-pkix-ocsp-basic (`response-status`, codec errors);
 *  2. a SingleResponse whose CertID (SHA-1 or SHA-256) names this issuer and serial (`cert-id-mismatch`);
 *  3. the signer: the issuer's own key, or a delegated responder certificate included in the
 *     response, issued directly by the issuer (name and signature), with id-kp-OCSPSigning and
 *     valid at `time` (`unauthorized-responder`, `bad-responder-certificate`); the response
 *     signature must verify (`bad-response-signature`). This function does not ask about the
 *     delegated responder's own status: `checkOcspResponseSteps` returns the responder
 *     certificate, and the policy checker (checker.ts) checks it unless it carries
 *     id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1);
 *  4. times: producedAt and thisUpdate not after time + skew (`response-from-future`), nextUpdate
 *     (or thisUpdate + maxAge when absent) not before time − skew (`stale-response`);
 *  5. the nonce, when one was sent, echoed exactly (`missing-nonce`, `nonce-mismatch`).
 * Throws `RevocationError` with those codes; returns the certificate's status otherwise.
 */
export interface OcspCheckOptions {
  crypto: CryptoProvider;
  time: number;
  /**
   * How far the relying party's clock may be off, in ms: producedAt/thisUpdate may lie up to this
   * much after `time`, nextUpdate up to this much before it. Default 0 (RFC 6960 §4.2.2.1 as
   * written); fleetpki's responder backdates its responses instead (backdate.ts).
   */
  clockSkewMs?: number;
  /** Age limit for responses without nextUpdate, ms. Default 7 days (RFC 5019 §4's typical validity). */
  maxAgeMs?: number;
  /** The nonce sent in the request, if any. */
  nonce?: Uint8Array;
}

export type OcspCertStatus =
  | { status: 'good'; thisUpdate: number; nextUpdate?: number }
  | { status: 'revoked'; revocationTime: number; reason?: CRLReason; thisUpdate: number; nextUpdate?: number }
  | { status: 'unknown'; thisUpdate: number; nextUpdate?: number };

export function checkOcspResponse(
  input: Uint8Array | OcspResponse,
  cert: Certificate,
  issuer: Certificate,
  opts: OcspCheckOptions,
): Promise<OcspCertStatus> {
  return runAsync(checkOcspResponseSteps(input, cert, issuer, opts)).then((r) => r.status);
}

/** `checkOcspResponse` synchronously: the provider's synchronous `digest`/`verify` (needs `supportsSync`). */
export function checkOcspResponseSync(
  input: Uint8Array | OcspResponse,
  cert: Certificate,
  issuer: Certificate,
  opts: OcspCheckOptions,
): OcspCertStatus {
  return runSync(checkOcspResponseSteps(input, cert, issuer, opts)).status;
}

/** The check as steps, with the delegated responder certificate that signed, if any (RFC 6960 §4.2.2.2). */
export function* checkOcspResponseSteps(
  input: Uint8Array | OcspResponse,
  cert: Certificate,
  issuer: Certificate,
  opts: OcspCheckOptions,
): Steps<{ status: OcspCertStatus; delegatedResponder?: Certificate }> {
  const resp = input instanceof Uint8Array ? parseOcspResponse(input) : input;
  if (resp.responseStatus !== 'successful' || !resp.basic)
    throw new RevocationError('response-status', `OCSP responder answered ${resp.responseStatus}`);
  const basic = resp.basic;
  const crypto = opts.crypto;
  const skew = opts.clockSkewMs ?? 0;
  const time = opts.time;

  // 2. The single response for this certificate.
  const keys = new Map<CertIdHash, string>();
  const keyFor = function* (h: CertIdHash): Steps<string> {
    let k = keys.get(h);
    if (!k) {
      k = issuerKey(
        h,
        yield* digestStep(crypto, h, issuer.subject.der),
        yield* digestStep(crypto, h, issuer.subjectPublicKeyInfo.publicKey),
      );
      keys.set(h, k);
    }
    return k;
  };
  let single: SingleResponse | undefined;
  for (const s of basic.responses) {
    const id = s.certId;
    if (!id.hash || !bytesEqual(id.serialNumber, cert.serialNumber)) continue;
    if (issuerKey(id.hash, id.issuerNameHash, id.issuerKeyHash) === (yield* keyFor(id.hash))) {
      single = s;
      break;
    }
  }
  if (!single)
    throw new RevocationError('cert-id-mismatch', 'the OCSP response does not answer for this certificate');

  // 3. The signer.
  const issuerKeyHash = yield* digestStep(crypto, 'SHA-1', issuer.subjectPublicKeyInfo.publicKey);
  const rid = basic.responderId;
  let signer: Certificate | undefined;
  if (rid.byKey ? bytesEqual(rid.byKey, issuerKeyHash) : rid.byName.equals(issuer.subject)) signer = issuer;
  else {
    for (const c of basic.certs) {
      const match = rid.byKey
        ? bytesEqual(rid.byKey, yield* digestStep(crypto, 'SHA-1', c.subjectPublicKeyInfo.publicKey))
        : rid.byName.equals(c.subject);
      if (match) {
        signer = c;
        break;
      }
    }
    if (!signer)
      throw new RevocationError(
        'unauthorized-responder',
        'the OCSP responder is neither the issuer nor a responder certificate included in the response',
      );
  }
  const delegated =
    signer !== issuer && !bytesEqual(signer.subjectPublicKeyInfo.der, issuer.subjectPublicKeyInfo.der);
  if (delegated) {
    // RFC 6960 §4.2.2.2: a delegated responder certificate is issued directly by the CA.
    if (!signer.issuer.equals(issuer.subject))
      throw new RevocationError(
        'unauthorized-responder',
        `responder certificate ${signer.subject.toString()} is not issued by ${issuer.subject.toString()}`,
      );
    if (
      !(yield* verify(
        crypto,
        signer.signatureAlgorithm,
        issuer.subjectPublicKeyInfo.der,
        signer.tbs,
        signer.signatureValue,
        signer.signatureUnusedBits,
      ))
    )
      throw new RevocationError(
        'unauthorized-responder',
        'responder certificate is not signed by the issuer',
      );
    if (!signer.extKeyUsage?.includes(OID.OCSPSigning))
      throw new RevocationError('unauthorized-responder', 'responder certificate lacks id-kp-OCSPSigning');
    if (signer.keyUsage && !signer.keyUsage.digitalSignature && !signer.keyUsage.nonRepudiation)
      throw new RevocationError(
        'bad-responder-certificate',
        'responder certificate keyUsage forbids signing',
      );
    if (time + skew < signer.notBefore || time - skew > signer.notAfter)
      throw new RevocationError(
        'bad-responder-certificate',
        'responder certificate is not valid at the validation time',
      );
  }
  if (
    !(yield* verify(
      crypto,
      basic.signatureAlgorithm,
      signer.subjectPublicKeyInfo.der,
      basic.tbsResponseData,
      basic.signature,
      basic.signatureUnusedBits,
    ))
  )
    throw new RevocationError('bad-response-signature', 'OCSP response signature does not verify');

  // 4. Times.
  if (basic.producedAt > time + skew || single.thisUpdate > time + skew)
    throw new RevocationError(
      'response-from-future',
      `OCSP response thisUpdate ${new Date(single.thisUpdate).toISOString()} is in the future`,
    );
  const expires = single.nextUpdate ?? single.thisUpdate + (opts.maxAgeMs ?? 7 * 86_400_000);
  if (expires < time - skew)
    throw new RevocationError(
      'stale-response',
      `OCSP response expired at ${new Date(expires).toISOString()}`,
    );

  // 5. Nonce.
  if (opts.nonce) {
    if (!basic.nonce)
      throw new RevocationError('missing-nonce', 'the OCSP response does not echo the request nonce');
    if (!bytesEqual(basic.nonce, opts.nonce))
      throw new RevocationError('nonce-mismatch', 'the OCSP response nonce differs from the request nonce');
  }

  const st = single.certStatus;
  const times = { thisUpdate: single.thisUpdate, nextUpdate: single.nextUpdate };
  const delegatedResponder = delegated ? signer : undefined;
  if (st.status === 'revoked')
    return {
      status: { status: 'revoked', revocationTime: st.revocationTime, reason: st.revocationReason, ...times },
      delegatedResponder,
    };
  return { status: { status: st.status, ...times }, delegatedResponder };
}

function* verify(
  crypto: CryptoProvider,
  alg: Parameters<typeof parseSignatureAlgorithm>[0],
  spki: Uint8Array,
  data: Uint8Array,
  sig: Uint8Array,
  unusedBits: number,
): Steps<boolean> {
  if (unusedBits !== 0) return false;
  try {
    return yield* verifyStep(crypto, parseSignatureAlgorithm(alg), spki, data, sig);
  } catch {
    return false;
  }
}
