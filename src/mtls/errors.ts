import type { VerifyErrorCode } from '../verify/errors.js';

/**
 * Typed outcomes of the mutual-TLS helpers. `code` is API; messages are for humans. A refusal of
 * the peer's certificate by our path validation carries the verifier's own code in `verifyCode`
 * (`expired`, `revoked`, `unknown-issuer`, `eku`, `hostname-mismatch`, …) and the index of the
 * certificate at fault in `certIndex` (leaf = 0).
 */
export type MtlsErrorCode =
  /** The peer presented no certificate (a client without one, RFC 8446 §4.4.2.4). */
  | 'no-peer-certificate'
  /** Our path validation (RFC 5280 §6, the policy's profile, revocation, name checks) refused the peer's chain. */
  | 'peer-rejected'
  /** Verification could not run: a revocation source failed in a way that is not a verdict, or threw. */
  | 'verification-failed'
  /** The TLS connection failed before or during the handshake (refused, reset, a TLS alert from the peer). */
  | 'handshake-failed'
  /** No verified connection within the configured time. */
  | 'timeout'
  /** The options cannot work (no trust anchors, a key without a certificate, an unusable responder). */
  | 'bad-configuration'
  /** OCSP stapling: no valid response for our own certificate could be obtained. */
  | 'stapling-failed'
  /** A broker's CRL file could not be refreshed, or the broker not told to re-read it. */
  | 'crl-refresh-failed';

export class MtlsError extends Error {
  override readonly name = 'MtlsError';
  /** For `peer-rejected`: the verifier's reason. */
  readonly verifyCode?: VerifyErrorCode;
  /** For `peer-rejected`: the certificate at fault (leaf = 0), -1 when none. */
  readonly certIndex?: number;
  constructor(
    readonly code: MtlsErrorCode,
    message: string,
    options: { cause?: unknown; verifyCode?: VerifyErrorCode; certIndex?: number } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.verifyCode = options.verifyCode;
    this.certIndex = options.certIndex;
  }
}
