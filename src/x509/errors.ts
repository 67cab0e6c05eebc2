import { DerError } from '../der/errors.js';

/** Semantic X.509 errors (structure was valid DER, content is not a valid X.509 value). */
export type X509ErrorCode =
  /** Input is neither DER nor a PEM block with an expected label. */
  | 'bad-input'
  /** Certificate version other than v1/v2/v3 (or CSR/CRL version out of range). */
  | 'bad-version'
  /** A v1/v2-only field or extension present in the wrong version (e.g. extensions in v1). */
  | 'version-mismatch'
  /** The same extension OID appears twice (RFC 5280 §4.2). */
  | 'duplicate-extension'
  /** An extension's value does not decode as its RFC-defined type. */
  | 'bad-extension'
  /** AlgorithmIdentifier parameters violate the algorithm's rules (NULL vs absent, PSS params). */
  | 'bad-algorithm-parameters'
  /** The TBS signature AlgorithmIdentifier differs from the outer one (RFC 5280 §4.1.1.2). */
  | 'algorithm-mismatch'
  /** An algorithm OID we do not implement (kept as data; only fatal where it must be used). */
  | 'unknown-algorithm'
  /** A name (DN) or RFC 4514 string that cannot be parsed. */
  | 'bad-name'
  /** A GeneralName whose content is invalid for its form (e.g. IP of length 5). */
  | 'bad-general-name'
  /** SubjectPublicKeyInfo whose key does not decode for its algorithm. */
  | 'bad-public-key'
  /** Serial number zero-length, or a value the profile forbids. */
  | 'bad-serial'
  /** An attribute (CSR) or value not valid for its type. */
  | 'bad-attribute'
  /** Empty SEQUENCE where at least one element is required (e.g. empty SAN, empty extensions). */
  | 'empty-sequence'
  /** A value that cannot be encoded (builder input). */
  | 'cannot-encode';

/**
 * An X.509 content error (valid DER, invalid value): a `code`, and `offset`/`path` when known.
 */
export class X509Error extends Error {
  override readonly name = 'X509Error';
  constructor(
    readonly code: X509ErrorCode,
    message: string,
    readonly offset?: number,
    readonly path?: readonly string[],
  ) {
    super(offset === undefined ? message : `${message} (offset ${offset})`);
  }
}

/** True for the errors a parser may throw on bad input (DerError or X509Error). */
export function isDecodeError(e: unknown): e is DerError | X509Error {
  return e instanceof DerError || e instanceof X509Error;
}
