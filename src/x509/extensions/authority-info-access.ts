import { encodeAccessDescriptions, readAccessDescriptions } from './access-description.js';
import { parseValue } from './common.js';
import type { AuthorityInfoAccess } from './types.js';

/** RFC 5280 §4.2.2.1 authorityInfoAccess (1.3.6.1.5.5.7.1.1): AuthorityInfoAccessSyntax ::= SEQUENCE SIZE (1..MAX) OF AccessDescription. */
export function parseAuthorityInfoAccess(value: Uint8Array, offset = 0): AuthorityInfoAccess {
  return parseValue(value, offset, (r) => readAccessDescriptions(r, 'AuthorityInfoAccessSyntax'));
}

export function encodeAuthorityInfoAccess(v: AuthorityInfoAccess): Uint8Array {
  return encodeAccessDescriptions(v, 'authorityInfoAccess');
}
