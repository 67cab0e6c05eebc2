import { encodeDer } from '../../der/writer.js';
import { type GeneralName, writeGeneralNames } from '../general-name.js';
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
  return encodeAddressNames(v) ?? encodeDer((w) => writeGeneralNames(w, v));
}

/** Context tags of the GeneralName choices a device certificate carries (RFC 5280 §4.2.1.6). */
const IA5_TAGS: Partial<Record<GeneralName['type'], number>> = {
  rfc822Name: 0x81,
  dNSName: 0x82,
  uniformResourceIdentifier: 0x86,
};

const headerLength = (n: number) => (n < 0x80 ? 2 : n < 0x100 ? 3 : 4);
function putHeader(b: Uint8Array, p: number, tag: number, n: number): number {
  b[p++] = tag;
  if (n >= 0x100) {
    b[p++] = 0x82;
    b[p++] = n >> 8;
  } else if (n >= 0x80) b[p++] = 0x81;
  b[p++] = n & 0xff;
  return p;
}

/**
 * GeneralNames of DNS names, email addresses, URIs (ASCII) and 4/16-octet IP addresses at their
 * exact length, without a writer: what issuance encodes for every device. Anything else (other
 * name types, non-ASCII, 64 KiB or more) returns undefined for the general writer, which gives
 * the same bytes or the precise error (a test compares the two).
 */
function encodeAddressNames(v: readonly GeneralName[]): Uint8Array | undefined {
  let content = 0;
  for (const g of v) {
    let n: number;
    if (g.type === 'iPAddress') n = g.value.length;
    else {
      if (IA5_TAGS[g.type] === undefined) return undefined;
      const s = (g as { value: string }).value;
      for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return undefined;
      n = s.length;
    }
    content += headerLength(n) + n;
  }
  if (content >= 0x10000) return undefined;
  const out = new Uint8Array(headerLength(content) + content);
  let p = putHeader(out, 0, 0x30, content);
  for (const g of v) {
    if (g.type === 'iPAddress') {
      p = putHeader(out, p, 0x87, g.value.length);
      out.set(g.value, p);
      p += g.value.length;
      continue;
    }
    const s = (g as { value: string }).value;
    p = putHeader(out, p, IA5_TAGS[g.type]!, s.length);
    for (let i = 0; i < s.length; i++) out[p++] = s.charCodeAt(i);
  }
  return out;
}
