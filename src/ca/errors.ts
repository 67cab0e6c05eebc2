/**
 * Errors raised by the Authority (`ca/`). Codes are API (stable) — the HTTP service maps each to a
 * status and carries it into `application/problem+json`; messages are for humans and may change.
 * Domain errors carry no HTTP status (STYLE §3).
 *
 * Issuance refusals (the first group) happen before anything is signed or stored: the request
 * leaves one audit record `refused:<code>` and nothing else.
 */
export type CaErrorCode =
  // ---- the request itself (a refused issuance) ----------------------------------------------------
  /** The CSR is not a well-formed DER/PEM PKCS#10 request (RFC 2986). */
  | 'malformed-csr'
  /** The CSR's signature does not verify with its own public key: no proof of possession (RFC 2986 §3). */
  | 'bad-csr-signature'
  /** The CSR's signature or key algorithm is not one we verify or issue for. */
  | 'unsupported-algorithm'
  /** A public key that is unsound or too weak: RSA below 2048 bits, an even or tiny exponent, an even modulus, an EC point not on its curve. */
  | 'weak-key'
  /** A sound key of a type or size the profile does not allow (e.g. Ed25519 where only P-256 is allowed). */
  | 'key-type-not-allowed'
  /** The key is the CA's own key or the one being replaced (rekey needs a new key). */
  | 'key-reuse'
  /** The subject breaks the profile's subject rules (attribute not allowed, required one missing, pattern mismatch). */
  | 'subject-not-allowed'
  /** The subject equals the issuing CA's name (RFC 5280 §6.1: it would read as self-issued). */
  | 'subject-equals-issuer'
  /** A subjectAltName entry the profile does not allow: type, pattern, count, a wildcard over a public suffix, a non-allowed URI scheme. */
  | 'san-not-allowed'
  /** A required subjectAltName is missing (RFC 9525 §6.3: server names come only from the SAN). */
  | 'san-required'
  /** A name falls outside the issuing CA's own name constraints (RFC 5280 §4.2.1.10), checked before signing. */
  | 'name-constraint-violation'
  /** The requested validity is outside what the profile allows. */
  | 'validity-not-allowed'
  /** The pre-signing linter found an error (`findings` in the details). */
  | 'lint-failed'
  /** No profile of that name. */
  | 'unknown-profile'
  /** The requester may not use this profile (or this operation). */
  | 'forbidden'
  /** The `requestId` was used before for a different request. */
  | 'request-conflict'
  /** A request option is malformed: an empty or oversized requester or request id, a non-integer validity. */
  | 'bad-request'
  // ---- certificates and revocation ----------------------------------------------------------------
  /** No certificate (or pending request) with that serial (or id). */
  | 'not-found'
  /** The serial is known under several issuers: name the issuer. */
  | 'ambiguous-serial'
  /** Revoking an already revoked certificate (other than escalating a hold). */
  | 'already-revoked'
  /** The certificate is not on hold (un-hold), or not in a state that allows the operation. */
  | 'not-on-hold'
  /** The certificate is revoked or expired, so it cannot be renewed or rekeyed. */
  | 'certificate-not-valid'
  /** Not a CRL reason we accept for revocation (RFC 5280 §5.3.1; removeFromCRL is for delta CRLs only). */
  | 'bad-reason'
  /** A pending request was already approved or rejected. */
  | 'not-pending'
  // ---- the CA itself ------------------------------------------------------------------------------
  /** No active issuer for the profile (retired, retiring, or missing). */
  | 'issuer-unavailable'
  /** The store holds no hierarchy yet (`Authority.init` creates one). */
  | 'no-hierarchy'
  /** A hierarchy exists already (import of a root into an initialised store). */
  | 'hierarchy-exists'
  /** An imported CA certificate or key does not fit (not a CA, key mismatch, not signed by its parent). */
  | 'bad-issuer'
  /** The configuration is invalid; `path` names the offending key (e.g. `profiles.device.subject.CN`). */
  | 'bad-config'
  /** An encrypted key needs a passphrase and none was given. */
  | 'passphrase-required'
  /** The passphrase does not decrypt the key. */
  | 'bad-passphrase'
  /** A key or secret file is readable or writable by group or others (or is not a regular file). */
  | 'key-file-permissions'
  /** A signing key cannot be loaded (missing file, PKCS#11 token or object not found, no PIN). */
  | 'key-unavailable'
  /** The store failed (unreachable, constraint violated by a concurrent writer); nothing was issued. */
  | 'store-failure'
  /** Signing failed after the reservation (a faulty token); the reservation is voided. */
  | 'sign-failed'
  /** The Authority is closed. */
  | 'closed';

/** Structured context of a CaError: small, JSON-serialisable, never secret. */
export interface CaErrorDetails {
  /** Config errors: the dotted path of the offending key. */
  path?: string;
  /** The profile rule that refused the request, with its RFC section. */
  rule?: string;
  section?: string;
  issuerId?: string;
  serialHex?: string;
  profile?: string;
  /** Lint findings (code and message) for `lint-failed`. */
  findings?: readonly { code: string; severity: string; message: string }[];
  [k: string]: unknown;
}

/** The Authority's error: `code` is API (see CaErrorCode), `details` structured context. */
export class CaError extends Error {
  override readonly name = 'CaError';
  constructor(
    readonly code: CaErrorCode,
    message: string,
    readonly details: CaErrorDetails = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Codes that refuse an issuance request (the request was bad, the CA is fine). */
export const REQUEST_ERROR_CODES: ReadonlySet<CaErrorCode> = new Set<CaErrorCode>([
  'malformed-csr',
  'bad-csr-signature',
  'unsupported-algorithm',
  'weak-key',
  'key-type-not-allowed',
  'key-reuse',
  'subject-not-allowed',
  'subject-equals-issuer',
  'san-not-allowed',
  'san-required',
  'name-constraint-violation',
  'validity-not-allowed',
  'lint-failed',
  'unknown-profile',
  'forbidden',
  'request-conflict',
  'bad-request',
]);

/** Narrows to a CaError (of `code`, when given). */
export function isCaError(e: unknown, code?: CaErrorCode): e is CaError {
  return e instanceof CaError && (code === undefined || e.code === code);
}
