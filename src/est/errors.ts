/**
 * Typed errors of the EST layer (RFC 7030 with the RFC 8951 clarifications): the message codecs
 * (CMS certs-only, base64 transfer framing, CsrAttrs, the multipart /serverkeygen answer) and the
 * device client. `code` is API; messages are for humans. Decoding failures keep the underlying
 * `DerError` / `X509Error` as `cause`. Domain errors carry no HTTP status of their own: the client
 * reports the status it received in `status`, and the server maps codes to statuses.
 */
export type EstErrorCode =
  // ---- codecs ----
  /** Bytes that are not a DER ContentInfo holding a SignedData (RFC 5652 §3, §5.1). */
  | 'malformed-cms'
  /** A SignedData that is not the certs-only form (RFC 7030 §4.1.3): signers, content, or another type. */
  | 'not-certs-only'
  /** A certificate or revocation choice other than X.509 (attribute or "other" formats, RFC 5652 §10.2.1-2). */
  | 'unsupported-choice'
  /** More certificates, CRLs, attributes or parts than the configured bound. */
  | 'too-many-items'
  /** A body that is not base64 (RFC 4648 §4) after whitespace is dropped (RFC 8951 §3.2.2). */
  | 'bad-base64'
  /** A body or part larger than the configured bound. */
  | 'too-large'
  /** A multipart/mixed body that breaks RFC 2046 §5.1 or RFC 7030 §4.4.2 (boundary, parts, headers). */
  | 'malformed-multipart'
  /** A CsrAttrs value that is not a DER SEQUENCE OF AttrOrOID (RFC 7030 §4.5.2). */
  | 'malformed-csrattrs'
  /** A Content-Type other than the one RFC 7030 prescribes for the operation. */
  | 'bad-content-type'
  /** A caller's input that cannot be used (not a certificate, an invalid label, a bad URL). */
  | 'bad-input'
  // ---- client ----
  /** The server answered 400 (the request was malformed or refused by policy as malformed). */
  | 'bad-request'
  /** 401: no or wrong credentials (RFC 7030 §3.2.3) — what the server answered, or answers. */
  | 'unauthorized'
  /** 403: authenticated, but not allowed — what the server answered, or answers. */
  | 'forbidden'
  /** The server answered 404 (unknown label or an operation it does not offer, e.g. /csrattrs). */
  | 'not-found'
  /** Any other unexpected HTTP status. */
  | 'http-status'
  /** The server answered 202 (manual approval, RFC 7030 §4.2.3) and the wait allowed is over. */
  | 'pending'
  /** The TLS connection failed, or the server's certificate did not pass our verification. */
  | 'tls'
  /** The connection could not be made or broke (refused, reset). */
  | 'network'
  /** No answer within the configured time. */
  | 'timeout'
  /** The answer holds no certificate for the key of the request (RFC 7030 §4.2.3). */
  | 'no-certificate'
  // ---- server (the service maps each to its HTTP status) ----
  /** A single-use enrollment credential that was spent on another request (401). */
  | 'credential-used'
  /** An enrollment credential past its expiry (401). */
  | 'credential-expired'
  /** A kind of credential the label or the operation does not accept, e.g. a bootstrap certificate on /simplereenroll (403). */
  | 'credential-not-accepted'
  /** Authenticated, but this credential may not enroll this subject under the label (403). */
  | 'subject-not-authorized'
  /** A re-enrollment that changes subject or subjectAltName (RFC 7030 §4.2.2), or of another label's certificate (403). */
  | 'reenroll-mismatch'
  /** The CSR's challengePassword does not carry this TLS session's channel binding (RFC 7030 §3.5) (403). */
  | 'channel-binding-failed';

export class EstError extends Error {
  override readonly name = 'EstError';
  /** The HTTP status received (client errors). */
  readonly status?: number;
  /** For `pending`: the wait the server asked for, in seconds. */
  readonly retryAfter?: number;
  constructor(
    readonly code: EstErrorCode,
    message: string,
    options?: {
      cause?: unknown;
      status?: number;
      retryAfter?: number;
    },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.status = options?.status;
    this.retryAfter = options?.retryAfter;
  }
}
