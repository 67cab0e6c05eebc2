import { encodeDer } from '../../der/writer.js';
import { writeGeneralNames } from '../general-name.js';
import { checkAddressNamesForEncoding, parseValue, readAddressNames } from './common.js';
import type { CertificateIssuer } from './types.js';

/**
 * RFC 5280 §5.3.3 (CRL entry extension) certificateIssuer (2.5.29.29):
 *   CertificateIssuer ::= GeneralNames  (SEQUENCE SIZE (1..MAX) OF GeneralName)
 * Empty → `X509Error('empty-sequence')`; an iPAddress other than 4 or 16 octets →
 * `X509Error('bad-general-name')` (the 8/32-octet address+mask form belongs to nameConstraints).
 */
export function parseCertificateIssuer(value: Uint8Array, offset = 0): CertificateIssuer {
  return parseValue(value, offset, (r) => readAddressNames(r, 'CertificateIssuer'));
}

export function encodeCertificateIssuer(v: CertificateIssuer): Uint8Array {
  checkAddressNamesForEncoding(v, 'certificateIssuer');
  return encodeDer((w) => writeGeneralNames(w, v));
}
