import type { LintFinding } from './lint.js';

/** Errors raised by `issue/`: one class, a stable `code`, a human message that may change. */
export type IssueErrorCode =
  /** A required builder input (subject, public key, issuer, signer, validity…) was not given. */
  | 'missing-field'
  /** An input value is malformed or out of range (bad days, unencodable name, unknown profile…). */
  | 'bad-input'
  /** The issuer certificate cannot issue: not a CA, or no keyCertSign / cRLSign. */
  | 'issuer-not-ca'
  /** The signer's public key is not the issuer certificate's (or, for a CSR, not the request's) key. */
  | 'signer-mismatch'
  /** The requested notAfter is past the issuer's notAfter and `validityClamp` is 'error'. */
  | 'validity-exceeds-issuer'
  /** The linter found at least one error; nothing was signed (`findings` lists them). */
  | 'lint-failed'
  /** Re-verifying the fresh signature with the issuer's key failed (a faulty signer or token). */
  | 'signature-check-failed'
  /** A CSR could not be parsed (DER/X.509 decoding failed). */
  | 'csr-malformed'
  /** A CSR's signature algorithm or key type is not one we verify (or they do not fit together). */
  | 'csr-unsupported-algorithm'
  /** A CSR's signature does not verify with its own public key (no proof of possession). */
  | 'csr-bad-signature';

/** The error builders throw before anything is signed: a `code` from `IssueErrorCode`. */
export class IssueError extends Error {
  override readonly name: string = 'IssueError';
  constructor(
    readonly code: IssueErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A build stopped by the linter: `findings` holds every finding (errors and warnings). */
export class LintError extends IssueError {
  override readonly name = 'LintError';
  constructor(readonly findings: readonly LintFinding[]) {
    const errors = findings.filter((f) => f.severity === 'error');
    super('lint-failed', `lint failed: ${errors.map((f) => `${f.code} (${f.message})`).join('; ')}`);
  }
}
