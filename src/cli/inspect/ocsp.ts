import { toHex } from '../../der/bytes.js';
import { DerError } from '../../der/errors.js';
import { oidName } from '../../der/oid-names.js';
import { RevocationError } from '../../revocation/errors.js';
import type { CertId } from '../../revocation/ocsp/cert-id.js';
import { parseOcspRequest } from '../../revocation/ocsp/request.js';
import { parseOcspResponse } from '../../revocation/ocsp/response.js';
import { parseSignatureAlgorithm, signatureAlgorithmName } from '../../x509/algorithm.js';
import { X509Error } from '../../x509/errors.js';
import { generalNameToString } from '../../x509/general-name.js';
import type { CertIdView, OcspRequestView, OcspResponseView, ViewBody } from './schema.js';

/**
 * `fleetpki inspect` views of OCSP requests and responses (RFC 6960 §4.1, §4.2). Decode errors
 * surface as the underlying DerError/X509Error so the CLI reports code, offset and path.
 */

function unwrap<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof RevocationError) {
      const cause = (e as { cause?: unknown }).cause;
      if (cause instanceof DerError || cause instanceof X509Error) throw cause;
      throw new X509Error('bad-input', `${e.code}: ${e.message}`);
    }
    throw e;
  }
}

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
const serialHex = (s: Uint8Array) => toHex(s.length > 1 && s[0] === 0 ? s.subarray(1) : s, ':');

function certIdJson(c: CertId): CertIdView {
  return {
    hashAlgorithm: c.hash ?? oidName(c.hashAlgorithm.oid) ?? c.hashAlgorithm.oid,
    issuerNameHash: toHex(c.issuerNameHash),
    issuerKeyHash: toHex(c.issuerKeyHash),
    serialNumber: serialHex(c.serialNumber),
  };
}

function algorithmName(a: { oid: string; parameters?: Uint8Array; der: Uint8Array }): string {
  try {
    return signatureAlgorithmName(parseSignatureAlgorithm(a));
  } catch {
    return oidName(a.oid) ?? a.oid;
  }
}

/** RFC 6960 §4.2.1 OCSPResponse, with its BasicOCSPResponse when present. */
export function ocspResponseView(der: Uint8Array): ViewBody<OcspResponseView> {
  const r = unwrap(() => parseOcspResponse(der));
  const b = r.basic;
  return {
    type: 'ocsp-response',
    responseStatus: r.responseStatus,
    responseType: r.responseType ? (oidName(r.responseType) ?? r.responseType) : undefined,
    responderId: b
      ? b.responderId.byName
        ? b.responderId.byName.toString()
        : `key ${toHex(b.responderId.byKey!)}`
      : undefined,
    producedAt: b ? iso(b.producedAt) : undefined,
    nonce: b?.nonce ? toHex(b.nonce) : undefined,
    responses: b?.responses.map((s) => ({
      certId: certIdJson(s.certId),
      certStatus: s.certStatus.status,
      revocationTime: s.certStatus.status === 'revoked' ? iso(s.certStatus.revocationTime) : undefined,
      revocationReason: s.certStatus.status === 'revoked' ? s.certStatus.revocationReason : undefined,
      thisUpdate: iso(s.thisUpdate),
      nextUpdate: s.nextUpdate !== undefined ? iso(s.nextUpdate) : undefined,
    })),
    signatureAlgorithm: b ? algorithmName(b.signatureAlgorithm) : undefined,
    certs: b?.certs.map((c) => c.subject.toString()),
  };
}

/** RFC 6960 §4.1.1 OCSPRequest. */
export function ocspRequestView(der: Uint8Array): ViewBody<OcspRequestView> {
  const r = unwrap(() => parseOcspRequest(der));
  return {
    type: 'ocsp-request',
    requestorName: r.requestorName ? generalNameToString(r.requestorName) : undefined,
    nonce: r.nonce ? toHex(r.nonce) : undefined,
    requests: r.requestList.map((x) => ({ certId: certIdJson(x.reqCert) })),
    signed: r.optionalSignature !== undefined,
  };
}

/** Text lines for the two views (the JSON shape above, indented as `openssl ocsp -text` does). */
export function ocspText(
  o: OcspResponseView | OcspRequestView,
  line: (s: string) => void,
  indent: (fn: () => void) => void,
): void {
  const certId = (c: CertIdView) => {
    line(`Hash Algorithm: ${c.hashAlgorithm}`);
    line(`Issuer Name Hash: ${c.issuerNameHash}`);
    line(`Issuer Key Hash: ${c.issuerKeyHash}`);
    line(`Serial Number: ${c.serialNumber}`);
  };
  if (o.type === 'ocsp-request') {
    if (o.requestorName) line(`Requestor Name: ${o.requestorName}`);
    for (const r of o.requests) {
      line('Certificate ID:');
      indent(() => certId(r.certId));
    }
    if (o.nonce) line(`Nonce: ${o.nonce}`);
    line(`Signed: ${o.signed ? 'yes' : 'no'}`);
    return;
  }
  line(`Response Status: ${o.responseStatus}`);
  if (o.responseType) line(`Response Type: ${o.responseType}`);
  if (o.responderId) line(`Responder Id: ${o.responderId}`);
  if (o.producedAt) line(`Produced At: ${o.producedAt}`);
  for (const r of o.responses ?? []) {
    line('Response:');
    indent(() => {
      line('Certificate ID:');
      indent(() => certId(r.certId));
      line(`Cert Status: ${r.certStatus}`);
      if (r.revocationTime) line(`Revocation Time: ${r.revocationTime}`);
      if (r.revocationReason) line(`Revocation Reason: ${r.revocationReason}`);
      line(`This Update: ${r.thisUpdate}`);
      if (r.nextUpdate) line(`Next Update: ${r.nextUpdate}`);
    });
  }
  if (o.nonce) line(`Nonce: ${o.nonce}`);
  if (o.signatureAlgorithm) line(`Signature Algorithm: ${o.signatureAlgorithm}`);
  for (const c of o.certs ?? []) line(`Certificate: ${c}`);
}
