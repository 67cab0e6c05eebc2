import { encodeDer } from '../../der/writer.js';
import { writeGeneralNames } from '../general-name.js';
import { checkAddressNamesForEncoding, parseValue, readAddressNames } from './common.js';
import type { IssuerAltName } from './types.js';

/**
 * RFC 5280 §4.2.1.7 issuerAltName (2.5.29.18):
 *   IssuerAltName ::= GeneralNames  (SEQUENCE SIZE (1..MAX) OF GeneralName)
 * Empty → `X509Error('empty-sequence')`; an iPAddress other than 4 or 16 octets →
 * `X509Error('bad-general-name')` (the 8/32-octet address+mask form belongs to nameConstraints).
 */
export function parseIssuerAltName(value: Uint8Array, offset = 0): IssuerAltName {
  return parseValue(value, offset, (r) => readAddressNames(r, 'IssuerAltName'));
}

export function encodeIssuerAltName(v: IssuerAltName): Uint8Array {
  checkAddressNamesForEncoding(v, 'issuerAltName');
  return encodeDer((w) => writeGeneralNames(w, v));
}
