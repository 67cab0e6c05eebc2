/**
 * Typed decoding errors. `code` is API (stable); `message` is for humans.
 * `offset` is the absolute byte offset in the input where the offending TLV starts,
 * `path` the breadcrumb of schema names from the outermost value inward.
 */
export type DerErrorCode =
  /** The input ends before the value it announces. */
  | 'truncated'
  /** Length octet 0x80 (BER indefinite form) — never allowed in DER (X.690 §10.1). */
  | 'indefinite-length'
  /** Long-form length where short form fits, or leading zero length octets (X.690 §10.1). */
  | 'non-minimal-length'
  /** More than 4 length octets, or a length beyond the configured limit. */
  | 'length-too-large'
  /** Tag number ≥ 31 (high-tag-number form); PKI structures never need it. */
  | 'high-tag-number'
  /** A different tag than the schema expects at this position. */
  | 'unexpected-tag'
  /** Bytes remain after a value (at top level or inside a constructed value). */
  | 'trailing-data'
  /** INTEGER with no content octets or with a redundant leading 00/FF (X.690 §8.3.2). */
  | 'bad-integer'
  /** INTEGER that must be non-negative is negative, or does not fit the expected range. */
  | 'integer-out-of-range'
  /** BOOLEAN whose content is not exactly one octet 00 or FF (X.690 §11.1). */
  | 'bad-boolean'
  /** NULL with content octets. */
  | 'bad-null'
  /** BIT STRING with unused-bits > 7, unused bits in an empty string, or non-zero padding bits (X.690 §11.2). */
  | 'bad-bit-string'
  /** OBJECT IDENTIFIER empty, with a non-minimal arc (leading 0x80), or truncated arc (X.690 §8.19). */
  | 'bad-oid'
  /** UTCTime / GeneralizedTime not in the exact RFC 5280 §4.1.2.5 form, or an impossible date. */
  | 'bad-time'
  /** String contents not allowed by the declared string type. */
  | 'bad-string'
  /** SET OF elements not in DER order (X.690 §11.6). */
  | 'set-not-sorted'
  /** Nesting deeper than the configured limit. */
  | 'too-deep'
  /** Too many elements (e.g. in a SEQUENCE OF) for the configured limit. */
  | 'too-many-elements'
  /** A primitive type encoded constructed, or a constructed type encoded primitive. */
  | 'bad-constructed-bit'
  /** A value that DER forbids: e.g. an explicitly encoded DEFAULT value (X.690 §11.5). */
  | 'default-value-encoded'
  /** An empty value where the schema needs at least one element. */
  | 'empty'
  /** Writer misuse: a value that cannot be encoded (bad OID text, out-of-range time, …). */
  | 'cannot-encode';

/**
 * A DER decoding or encoding error: a `code`, the absolute `offset` and the `path` of types read.
 */
export class DerError extends Error {
  override readonly name = 'DerError';
  constructor(
    readonly code: DerErrorCode,
    message: string,
    readonly offset: number,
    readonly path: readonly string[] = [],
  ) {
    super(`${message}${path.length ? ` at ${path.join('/')}` : ''} (offset ${offset})`);
  }
}
