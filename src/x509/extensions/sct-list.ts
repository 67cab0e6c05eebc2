import { encodeDer } from '../../der/writer.js';
import { parseValue } from './common.js';
import type { SignedCertificateTimestampList } from './types.js';

/**
 * RFC 6962 §3.3 signedCertificateTimestampList (1.3.6.1.4.1.11129.2.4.2): the extnValue is an
 * OCTET STRING holding a TLS-encoded SignedCertificateTimestampList. We keep that TLS blob raw
 * (the OCTET STRING's content); CT verification belongs to a later layer.
 */
export function parseSignedCertificateTimestampList(
  value: Uint8Array,
  offset = 0,
): SignedCertificateTimestampList {
  return parseValue(value, offset, (r) => r.readOctetString('SignedCertificateTimestampList'));
}

export function encodeSignedCertificateTimestampList(v: SignedCertificateTimestampList): Uint8Array {
  return encodeDer((w) => w.octetString(v), v.length + 6);
}
