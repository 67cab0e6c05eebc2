import { encodeDer } from '../../der/writer.js';
import { parseValue } from './common.js';
import type { InvalidityDate } from './types.js';

/**
 * RFC 5280 §5.3.2 invalidityDate (2.5.29.24), a CRL entry extension: InvalidityDate ::= GeneralizedTime,
 * in the §4.1.2.5.2 form (Z, seconds, no fraction) — as epoch milliseconds. UTCTime → `unexpected-tag`.
 */
export function parseInvalidityDate(value: Uint8Array, offset = 0): InvalidityDate {
  return parseValue(value, offset, (r) => r.readGeneralizedTime('InvalidityDate'));
}

export function encodeInvalidityDate(v: InvalidityDate): Uint8Array {
  return encodeDer((w) => w.generalizedTime(v), 24);
}
