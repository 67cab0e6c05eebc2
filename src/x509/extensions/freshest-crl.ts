import { parseValue } from './common.js';
import { encodeDistributionPoints, readDistributionPoints } from './crl-distribution-points.js';
import type { FreshestCRL } from './types.js';

/**
 * RFC 5280 §4.2.1.15 freshestCRL (2.5.29.46): FreshestCRL ::= CRLDistributionPoints
 * (same syntax and rules as cRLDistributionPoints; it points at delta CRLs).
 */
export function parseFreshestCRL(value: Uint8Array, offset = 0): FreshestCRL {
  return parseValue(value, offset, (r) => readDistributionPoints(r, 'FreshestCRL'));
}

export function encodeFreshestCRL(v: FreshestCRL): Uint8Array {
  return encodeDistributionPoints(v, 'freshestCRL');
}
