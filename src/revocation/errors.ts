/**
 * Typed errors of the revocation layer (OCSP codec, OCSP/CRL checking, the responder, fetching).
 * `code` is API; messages are for humans. Decoding failures keep the underlying `DerError` /
 * `X509Error` as `cause` (with its offset and path).
 */
export type RevocationErrorCode =
  // ---- OCSP codec ----
  /** An OCSPRequest that is not valid DER or does not follow RFC 6960 §4.1.1. */
  | 'malformed-request'
  /** An OCSPResponse / BasicOCSPResponse that is not valid DER or does not follow RFC 6960 §4.2.1. */
  | 'malformed-response'
  /** responseBytes carry a responseType other than id-pkix-ocsp-basic (RFC 6960 §4.2.1). */
  | 'unsupported-response-type'
  /** A nonce extension whose value is not an OCTET STRING of 1..128 octets (RFC 9654 §2.1). */
  | 'bad-nonce'
  /** The request holds more single requests than the configured cap. */
  | 'too-many-requests'
  /** The request body is larger than the configured cap. */
  | 'request-too-large'
  /** A CertID hash algorithm we do not compute (only SHA-1 and SHA-256 are accepted). */
  | 'unsupported-hash'
  // ---- OCSP response checks (RFC 6960 §3.2, §4.2.2.2) ----
  /** The responder answered with a non-successful responseStatus (e.g. unauthorized, tryLater). */
  | 'response-status'
  /** The response is signed by a key that is neither the CA's nor a delegated OCSP responder's. */
  | 'unauthorized-responder'
  /** The response (or the delegated responder certificate) signature does not verify. */
  | 'bad-response-signature'
  /** No SingleResponse in the response is for the CertID that was asked about. */
  | 'cert-id-mismatch'
  /** nextUpdate (or thisUpdate + the policy's maximum age) lies before the validation time. */
  | 'stale-response'
  /** thisUpdate or producedAt lies after the validation time plus the clock-skew allowance. */
  | 'response-from-future'
  /** A nonce was sent and the response carries none. */
  | 'missing-nonce'
  /** A nonce was sent and the response carries a different one. */
  | 'nonce-mismatch'
  /** The delegated responder certificate is expired, lacks id-kp-OCSPSigning, or is revoked. */
  | 'bad-responder-certificate'
  // ---- CRL checks (RFC 5280 §6.3) ----
  /** The CRL signature does not verify under the key of the CRL issuer. */
  | 'crl-bad-signature'
  /** No acceptable CRL signer: not the certificate's issuer key, nor a cRLSign key chaining to the same anchor. */
  | 'crl-wrong-signer'
  /** The CRL's scope (issuingDistributionPoint, indirect CRL, reasons) does not cover the certificate. */
  | 'crl-scope'
  /** The CRL's nextUpdate is before the validation time. */
  | 'crl-stale'
  /** The CRL's thisUpdate is after the validation time. */
  | 'crl-not-yet-valid'
  /** The CRL (or an entry) has a critical extension we do not process (RFC 5280 §5.2). */
  | 'crl-unhandled-critical-extension'
  /** The CRL bytes do not decode, or a v1 CRL is used where v2 features are needed. */
  | 'crl-malformed'
  /** A delta CRL whose base CRL is missing or older than its BaseCRLNumber (RFC 5280 §5.2.4). */
  | 'delta-without-base'
  // ---- status ----
  /** No source could establish a status for the certificate. */
  | 'status-unavailable'
  // ---- transport (OCSP client, CRL fetching) ----
  /** The HTTP exchange failed (network error, non-2xx status). */
  | 'fetch-failed'
  /** The HTTP exchange took longer than the configured timeout. */
  | 'timeout'
  /** The HTTP response body exceeded the configured size cap. */
  | 'response-too-large'
  /** The HTTP response has the wrong Content-Type (RFC 6960 Appendix A.2). */
  | 'bad-content-type'
  /** A synchronous answer was asked for, but the check needs I/O (an ocsp or crldp source) or asynchronous crypto. */
  | 'async-required'
  // ---- responder / publisher configuration ----
  /** The responder or publisher was configured inconsistently (e.g. a responder cert not issued by the CA). */
  | 'bad-configuration';

/** The error of the revocation layer (CRL and OCSP checks, codec, responder): a `code`. */
export class RevocationError extends Error {
  override readonly name = 'RevocationError';
  constructor(
    readonly code: RevocationErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
