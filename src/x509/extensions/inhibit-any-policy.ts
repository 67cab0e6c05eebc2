import { encodeDer } from '../../der/writer.js';
import { X509Error } from '../errors.js';
import { parseValue } from './common.js';
import type { InhibitAnyPolicy } from './types.js';

/**
 * RFC 5280 §4.2.1.14 inhibitAnyPolicy (2.5.29.54): InhibitAnyPolicy ::= SkipCerts (INTEGER 0..MAX).
 * Negative → `integer-out-of-range`; capped at 2^31-1 (a path is never that long).
 */
export function parseInhibitAnyPolicy(value: Uint8Array, offset = 0): InhibitAnyPolicy {
  return parseValue(value, offset, (r) => r.readSmallInt('SkipCerts'));
}

export function encodeInhibitAnyPolicy(v: InhibitAnyPolicy): Uint8Array {
  if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff)
    throw new X509Error('cannot-encode', `inhibitAnyPolicy ${v} is not in 0..2^31-1`);
  return encodeDer((w) => w.integer(v), 8);
}
