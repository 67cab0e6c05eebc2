import { encodeDer } from '../../der/writer.js';
import { parseValue } from './common.js';
import type { SubjectKeyIdentifier } from './types.js';

/**
 * RFC 5280 §4.2.1.2 subjectKeyIdentifier (2.5.29.14): KeyIdentifier ::= OCTET STRING.
 * Any length is accepted (the RFC fixes no size; CAs use 8–32 octets, some even 0 or 40+).
 */
export function parseSubjectKeyIdentifier(value: Uint8Array, offset = 0): SubjectKeyIdentifier {
  return parseValue(value, offset, (r) => r.readOctetString('KeyIdentifier'));
}

export function encodeSubjectKeyIdentifier(v: SubjectKeyIdentifier): Uint8Array {
  return encodeDer((w) => w.octetString(v), v.length + 4);
}
