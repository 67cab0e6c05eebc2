/**
 * Verification failure codes. Codes are API (stable); messages are for humans and may change.
 *
 * When every candidate path fails, the builder reports the failure with the highest `rank`
 * (most specific), as rustls-webpki's `Error::rank` does: a path that got as far as an expiry
 * check tells the user more than "no issuer found".
 */
export type VerifyErrorCode =
  /** The validation time is after a certificate's notAfter (RFC 5280 §6.1.3 (a)(2)). */
  | 'expired'
  /** The validation time is before a certificate's notBefore. */
  | 'not-yet-valid'
  /** The leaf matches none of the requested names (DNS, IP or email; RFC 9525). */
  | 'hostname-mismatch'
  /** The certificate was revoked by its issuer (CRL or OCSP via the revocation hook). */
  | 'revoked'
  /** The revocation hook could not establish a status and the policy says that is fatal. */
  | 'revocation-unknown'
  /** A signature does not verify under the issuer's public key. */
  | 'bad-signature'
  /** The leaf's extendedKeyUsage (or a CA's, where the profile makes it a constraint) lacks the purpose. */
  | 'eku'
  /** A name in the path lies outside a permitted subtree or inside an excluded one (RFC 5280 §4.2.1.10). */
  | 'name-constraint-violation'
  /** The certificate-policy processing of RFC 5280 §6.1.3 (d)–(f) / §6.1.5 (g) ended without an acceptable policy. */
  | 'policy-violation'
  /** A pathLenConstraint or the policy's maximum depth is exceeded. */
  | 'path-too-long'
  /** An issuing certificate is not a CA (basicConstraints cA missing or false). */
  | 'not-a-ca'
  /** keyUsage forbids the use (keyCertSign on an issuer, or the leaf's purpose). */
  | 'key-usage'
  /** A critical extension that we do not process is present (RFC 5280 §4.2). */
  | 'unhandled-critical-extension'
  /** A certificate breaks a rule of the selected profile (RFC 5280 or CA/B Forum; e.g. a missing AKI). */
  | 'profile-violation'
  /** The public key is of a forbidden type or too small for the policy (e.g. RSA < 2048, P-192, DSA). */
  | 'weak-key'
  /** The signature algorithm is known but not allowed by the policy (e.g. SHA-1). */
  | 'weak-algorithm'
  /** The signature or key algorithm is not supported by the crypto provider. */
  | 'unsupported-algorithm'
  /** The issuer's subject does not equal the certificate's issuer name (RFC 5280 §6.1.3 (a)(4)). */
  | 'name-mismatch'
  /** A certificate (or one of its extensions) could not be decoded. */
  | 'malformed-certificate'
  /** A work budget (signatures, builder steps, name-constraint comparisons, policy nodes) ran out. */
  | 'budget-exceeded'
  /** No path from the leaf reaches a trust anchor. */
  | 'unknown-issuer'
  /** The caller's input is unusable (a malformed reference name, no trust anchors, bad time). */
  | 'invalid-input';

/** Higher is more specific; used to pick the error to report among failed candidate paths. */
const RANK: Record<VerifyErrorCode, number> = {
  expired: 300,
  'not-yet-valid': 300,
  'hostname-mismatch': 290,
  revoked: 280,
  'revocation-unknown': 270,
  eku: 250,
  'name-constraint-violation': 240,
  'policy-violation': 235,
  'path-too-long': 230,
  'not-a-ca': 220,
  'key-usage': 215,
  'unhandled-critical-extension': 210,
  // Below the §6.1 checks: a bad signature usually ends a branch that tried the wrong issuer,
  // which says less than a path that chained and then failed (PKITS 4.8–4.12: the policy failure,
  // not a same-named sibling's signature).
  'bad-signature': 205,
  'profile-violation': 200,
  'weak-key': 190,
  'weak-algorithm': 185,
  'unsupported-algorithm': 180,
  'name-mismatch': 150,
  'malformed-certificate': 100,
  'budget-exceeded': 50,
  'unknown-issuer': 10,
  'invalid-input': 0,
};

export function errorRank(code: VerifyErrorCode): number {
  return RANK[code];
}

/** Fatal errors stop the path search; all others make the builder try the next candidate. */
export function isFatal(code: VerifyErrorCode): boolean {
  return code === 'budget-exceeded' || code === 'invalid-input';
}

/**
 * Why a path was refused: `code` is stable (switch on it), `message` is for people, `certIndex`
 * names the certificate at fault (leaf = 0, -1 for the path as a whole) and `details` carries
 * the values involved (names, times, OIDs).
 */
export class VerifyError extends Error {
  override name = 'VerifyError';
  constructor(
    readonly code: VerifyErrorCode,
    message: string,
    /** Index in the chain, leaf = 0 (the anchor is chain.length - 1 when it is a certificate). */
    readonly certIndex = -1,
    readonly details?: Readonly<Record<string, unknown>>,
  ) {
    super(message);
  }
}
