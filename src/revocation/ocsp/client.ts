import { defaultProvider } from '../../crypto/default-provider.js';
import type { CryptoProvider } from '../../crypto/provider.js';
import { OID } from '../../der/oid-names.js';
import { base64Encode } from '../../pem/base64.js';
import type { Certificate } from '../../x509/certificate.js';
import { RevocationError } from '../errors.js';
import { type FetchFn, httpRequest } from '../http.js';
import { checkOcspResponse, type OcspCertStatus } from '../ocsp-check.js';
import { type CertId, type CertIdHash, computeCertId } from './cert-id.js';
import { NONCE_DEFAULT_LENGTH, nonceExtension } from './nonce.js';
import { encodeOcspRequest } from './request.js';
import { type OcspResponse, parseOcspResponse } from './response.js';

/**
 * OCSP client (RFC 6960 Appendix A, RFC 5019 §5): builds the request for one certificate, sends
 * it over HTTP — GET `{url}/{url-encoded base64}` when the request is under 255 bytes and has no
 * nonce (cacheable by intermediaries), POST `application/ocsp-request` otherwise — with a timeout
 * and a response size cap, then checks the answer (`checkOcspResponse`).
 *
 *   const r = await queryOcsp(cert, issuer, { time: Date.now() });
 *   if (r.status.status === 'revoked') ...
 */
export interface OcspClientOptions {
  /** Responder URL; default: the first OCSP accessLocation of the certificate's AIA. */
  url?: string;
  /** `auto`: GET for small nonce-less requests (RFC 5019 §5), else POST. */
  method?: 'auto' | 'GET' | 'POST';
  /** Send an RFC 9654 nonce (32 random octets) and require it echoed. Default true. */
  nonce?: boolean;
  /** CertID hash; default SHA-1 (what RFC 5019 responders index, and what OpenSSL sends). */
  hash?: CertIdHash;
  timeoutMs?: number;
  maxResponseBytes?: number;
  fetch?: FetchFn;
  crypto?: CryptoProvider;
  /** Validation time for the response checks; default now. */
  time?: number;
  clockSkewMs?: number;
}

export interface OcspQueryResult {
  status: OcspCertStatus;
  response: OcspResponse;
  der: Uint8Array;
  url: string;
  method: 'GET' | 'POST';
}

/** The OCSP URLs in a certificate's authorityInfoAccess (RFC 5280 §4.2.2.1), http(s) only. */
export function ocspUrls(cert: Certificate): string[] {
  const out: string[] = [];
  for (const a of cert.authorityInfoAccess ?? [])
    if (a.accessMethod === OID.ocsp && a.accessLocation.type === 'uniformResourceIdentifier') {
      const u = a.accessLocation.value;
      if (u.startsWith('http://') || u.startsWith('https://')) out.push(u);
    }
  return out;
}

export async function certIdFor(
  cert: Certificate,
  issuer: Certificate,
  hash: CertIdHash,
  crypto: CryptoProvider,
): Promise<CertId> {
  return computeCertId(
    {
      hash,
      issuerNameHash: await crypto.digestAsync(hash, issuer.subject.der),
      issuerKeyHash: await crypto.digestAsync(hash, issuer.subjectPublicKeyInfo.publicKey),
    },
    cert.serialNumber,
  );
}

/** Builds the DER request for one certificate (and the nonce it carries, if any). */
export async function buildOcspRequest(
  cert: Certificate,
  issuer: Certificate,
  opts: { hash?: CertIdHash; nonce?: boolean; crypto?: CryptoProvider } = {},
): Promise<{ der: Uint8Array; nonce?: Uint8Array; certId: CertId }> {
  const crypto = opts.crypto ?? defaultProvider();
  const certId = await certIdFor(cert, issuer, opts.hash ?? 'SHA-1', crypto);
  const nonce = opts.nonce === false ? undefined : crypto.randomBytes(NONCE_DEFAULT_LENGTH);
  const der = encodeOcspRequest({
    requestList: [{ reqCert: certId }],
    requestExtensions: nonce ? [nonceExtension(nonce)] : undefined,
  });
  return { der, nonce, certId };
}

/** Sends a DER request to `url` and returns the raw response bytes (Content-Type and size checked). */
export async function sendOcspRequest(
  url: string,
  der: Uint8Array,
  opts: { method: 'GET' | 'POST'; timeoutMs?: number; maxResponseBytes?: number; fetch?: FetchFn },
): Promise<Uint8Array> {
  const http = {
    fetch: opts.fetch,
    timeoutMs: opts.timeoutMs ?? 5000,
    maxBytes: opts.maxResponseBytes ?? 256 * 1024,
    contentType: 'application/ocsp-response',
  };
  if (opts.method === 'GET') {
    const sep = url.endsWith('/') ? '' : '/';
    return httpRequest(`${url}${sep}${encodeURIComponent(base64Encode(der))}`, { method: 'GET' }, http);
  }
  return httpRequest(
    url,
    { method: 'POST', body: der, headers: { 'content-type': 'application/ocsp-request' } },
    http,
  );
}

/** Queries the responder for `cert` and checks the response; throws `RevocationError` on failure. */
export async function queryOcsp(
  cert: Certificate,
  issuer: Certificate,
  opts: OcspClientOptions = {},
): Promise<OcspQueryResult> {
  const crypto = opts.crypto ?? defaultProvider();
  const url = opts.url ?? ocspUrls(cert)[0];
  if (!url) throw new RevocationError('status-unavailable', 'the certificate names no OCSP responder');
  const req = await buildOcspRequest(cert, issuer, { hash: opts.hash, nonce: opts.nonce, crypto });
  const method =
    opts.method === 'GET' || opts.method === 'POST'
      ? opts.method
      : !req.nonce && req.der.length < 255
        ? 'GET'
        : 'POST';
  const der = await sendOcspRequest(url, req.der, { ...opts, method });
  const response = parseOcspResponse(der);
  const status = await checkOcspResponse(response, cert, issuer, {
    crypto,
    time: opts.time ?? Date.now(),
    clockSkewMs: opts.clockSkewMs,
    nonce: req.nonce,
  });
  return { status, response, der, url, method };
}
