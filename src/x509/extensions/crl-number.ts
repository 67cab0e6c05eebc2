import { encodeDer } from '../../der/writer.js';
import { X509Error } from '../errors.js';
import { parseValue, readBoundedBigInt } from './common.js';
import type { CRLNumber, DeltaCRLIndicator } from './types.js';

/**
 * RFC 5280 §5.2.3 cRLNumber (2.5.29.20): CRLNumber ::= INTEGER (0..MAX).
 * §5.2.3: CRL issuers MUST NOT use values longer than 20 octets and users MUST handle 20; a
 * longer (magnitude) or negative value → `integer-out-of-range`.
 */
export const MAX_CRL_NUMBER_OCTETS = 20;

export function parseCRLNumber(value: Uint8Array, offset = 0): CRLNumber {
  return parseValue(value, offset, (r) => readBoundedBigInt(r, 'CRLNumber', MAX_CRL_NUMBER_OCTETS));
}

/** Shared with deltaCRLIndicator (BaseCRLNumber ::= CRLNumber). */
export function encodeCRLNumber(v: CRLNumber | DeltaCRLIndicator): Uint8Array {
  if (v < 0n || v >= 1n << BigInt(MAX_CRL_NUMBER_OCTETS * 8))
    throw new X509Error('cannot-encode', `CRL number ${v} is not in 0..2^160-1`);
  return encodeDer((w) => w.integer(v), 24);
}
