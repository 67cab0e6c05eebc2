import { Tag } from '../der/tags.js';

/**
 * The Extension TLV around a value written in place (RFC 5280 §4.1: Extension ::= SEQUENCE {
 * extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }), for `makeExtension` and
 * the encoders that write their value straight into the extension (subjectAltName). A leaf
 * module: the extension codecs import it, and x509/encode.ts imports the codecs.
 */

/** Octets of a DER tag and length for `n` content octets (X.690 §8.1.3, minimal). */
export const headerLength = (n: number): number =>
  n < 0x80 ? 2 : n < 0x100 ? 3 : n < 0x10000 ? 4 : n < 0x1000000 ? 5 : 6;

/** Writes tag and length at `p`; returns where the content starts. */
export function putHeader(b: Uint8Array, p: number, tag: number, n: number): number {
  b[p++] = tag;
  const k = headerLength(n) - 2;
  if (k === 0) b[p++] = n;
  else {
    b[p++] = 0x80 | k;
    for (let s = (k - 1) * 8; s >= 0; s -= 8) b[p++] = (n >>> s) & 0xff;
  }
  return p;
}

/** The whole Extension's length for an extnID TLV of `oidLength` octets and `valueLength` of value. */
export function extensionLength(oidLength: number, critical: boolean, valueLength: number): number {
  const content = oidLength + (critical ? 3 : 0) + headerLength(valueLength) + valueLength;
  return headerLength(content) + content;
}

/** Writes the Extension up to extnValue's content; returns where the `valueLength` octets go. */
export function writeExtensionHead(
  der: Uint8Array,
  oidTlv: Uint8Array,
  critical: boolean,
  valueLength: number,
): number {
  const content = oidTlv.length + (critical ? 3 : 0) + headerLength(valueLength) + valueLength;
  let p = putHeader(der, 0, Tag.SEQUENCE, content);
  der.set(oidTlv, p);
  p += oidTlv.length;
  if (critical) {
    der[p++] = Tag.BOOLEAN;
    der[p++] = 1;
    der[p++] = 0xff;
  }
  return putHeader(der, p, Tag.OCTET_STRING, valueLength);
}
