import { encodeAccessDescriptions, readAccessDescriptions } from './access-description.js';
import { parseValue } from './common.js';
import type { SubjectInfoAccess } from './types.js';

/** RFC 5280 §4.2.2.2 subjectInfoAccess (1.3.6.1.5.5.7.1.11): SubjectInfoAccessSyntax ::= SEQUENCE SIZE (1..MAX) OF AccessDescription. */
export function parseSubjectInfoAccess(value: Uint8Array, offset = 0): SubjectInfoAccess {
  return parseValue(value, offset, (r) => readAccessDescriptions(r, 'SubjectInfoAccessSyntax'));
}

export function encodeSubjectInfoAccess(v: SubjectInfoAccess): Uint8Array {
  return encodeAccessDescriptions(v, 'subjectInfoAccess');
}
