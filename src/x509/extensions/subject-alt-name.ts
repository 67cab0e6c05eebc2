import { encodeDer } from '../../der/writer.js';
import { writeGeneralNames } from '../general-name.js';
import { checkAddressNamesForEncoding, parseValue, readAddressNames } from './common.js';
import type { SubjectAltName } from './types.js';

/**
 * RFC 5280 §4.2.1.6 subjectAltName (2.5.29.17):
 *   SubjectAltName ::= GeneralNames  (SEQUENCE SIZE (1..MAX) OF GeneralName)
 * Empty → `X509Error('empty-sequence')`; an iPAddress other than 4 or 16 octets →
 * `X509Error('bad-general-name')` (the 8/32-octet address+mask form belongs to nameConstraints).
 */
export function parseSubjectAltName(value: Uint8Array, offset = 0): SubjectAltName {
  return parseValue(value, offset, (r) => readAddressNames(r, 'SubjectAltName'));
}

export function encodeSubjectAltName(v: SubjectAltName): Uint8Array {
  checkAddressNamesForEncoding(v, 'subjectAltName');
  return encodeDer((w) => writeGeneralNames(w, v));
}
