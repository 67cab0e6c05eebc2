import { parseValue, readBoundedBigInt } from './common.js';
import { encodeCRLNumber, MAX_CRL_NUMBER_OCTETS } from './crl-number.js';
import type { DeltaCRLIndicator } from './types.js';

/**
 * RFC 5280 §5.2.4 deltaCRLIndicator (2.5.29.27), critical: BaseCRLNumber ::= CRLNumber —
 * the cRLNumber of the base CRL this delta updates (same 20-octet bound as cRLNumber).
 */
export function parseDeltaCRLIndicator(value: Uint8Array, offset = 0): DeltaCRLIndicator {
  return parseValue(value, offset, (r) => readBoundedBigInt(r, 'BaseCRLNumber', MAX_CRL_NUMBER_OCTETS));
}

export function encodeDeltaCRLIndicator(v: DeltaCRLIndicator): Uint8Array {
  return encodeCRLNumber(v);
}
