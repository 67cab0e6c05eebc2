import { allocPublicBytes } from '../../der/alloc.js';
import { encodeDer } from '../../der/writer.js';
import { extensionLength, headerLength, putHeader, writeExtensionHead } from '../extension-tlv.js';
import { type GeneralName, writeGeneralNames } from '../general-name.js';
import { checkAddressNamesForEncoding, parseValue, readAddressNames } from './common.js';
import type { Extension, SubjectAltName } from './types.js';

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
  const content = addressNamesLength(v);
  if (content >= 0) {
    const out = new Uint8Array(headerLength(content) + content);
    if (writeAddressNames(out, 0, v, content)) return out;
  }
  return encodeDer((w) => writeGeneralNames(w, v));
}

// 06 03 55 1d 11: extnID id-ce-subjectAltName
const SAN_OID = Uint8Array.of(0x06, 0x03, 0x55, 0x1d, 0x11);

/**
 * The whole subjectAltName Extension TLV (RFC 5280 §4.1) for `v`, written once into public DER
 * (a slab view, like `makeExtension`'s): what issuance adds for every device, where encoding
 * the GeneralNames and then wrapping them cost two buffers. Same bytes as
 * `makeExtension(OID.subjectAltName, critical, encodeSubjectAltName(v))` (a test compares them).
 */
export function subjectAltNameExtension(v: SubjectAltName, critical: boolean): Extension {
  checkAddressNamesForEncoding(v, 'subjectAltName');
  const content = addressNamesLength(v);
  return (content >= 0 && addressNamesExtension(v, critical, content)) || generalExtension(v, critical);
}

function addressNamesExtension(v: SubjectAltName, critical: boolean, content: number): Extension | undefined {
  const value = headerLength(content) + content;
  const der = allocPublicBytes(extensionLength(SAN_OID.length, critical, value));
  const p = writeExtensionHead(der, SAN_OID, critical, value);
  // Non-ASCII found while writing: the slab octets are left unused (a rare case).
  if (!writeAddressNames(der, p, v, content)) return undefined;
  return { oid: OID_SAN, critical, value: der.subarray(p), der };
}

function generalExtension(v: SubjectAltName, critical: boolean): Extension {
  const general = encodeDer((w) => writeGeneralNames(w, v));
  const der = allocPublicBytes(extensionLength(SAN_OID.length, critical, general.length));
  const p = writeExtensionHead(der, SAN_OID, critical, general.length);
  der.set(general, p);
  return { oid: OID_SAN, critical, value: der.subarray(p), der };
}

const OID_SAN = '2.5.29.17';

/** Context tags of the GeneralName choices a device certificate carries (RFC 5280 §4.2.1.6). */
function ia5Tag(type: GeneralName['type']): number {
  switch (type) {
    case 'dNSName':
      return 0x82;
    case 'uniformResourceIdentifier':
      return 0x86;
    case 'rfc822Name':
      return 0x81;
    default:
      return 0;
  }
}

/**
 * The content length of GeneralNames made only of DNS names, email addresses, URIs and 4/16-octet
 * IP addresses — what issuance encodes for every device — or -1 for anything else (other name
 * types, 64 KiB or more). Those, and non-ASCII strings (found by `writeAddressNames`), go to the
 * general writer, which gives the same bytes or the precise error (a test compares the two).
 */
function addressNamesLength(v: readonly GeneralName[]): number {
  let content = 0;
  for (let j = 0; j < v.length; j++) {
    const g = v[j]!;
    let n: number;
    if (g.type === 'iPAddress') n = g.value.length;
    else {
      if (ia5Tag(g.type) === 0) return -1;
      n = (g as { value: string }).value.length;
    }
    content += headerLength(n) + n;
  }
  return content >= 0x10000 ? -1 : content;
}

/**
 * Writes the GeneralNames SEQUENCE (`content` from `addressNamesLength`) at `p`; false when a
 * string turns out not to be ASCII (checked while copying: one pass over each string).
 */
function writeAddressNames(out: Uint8Array, p: number, v: readonly GeneralName[], content: number): boolean {
  p = putHeader(out, p, 0x30, content);
  for (let j = 0; j < v.length; j++) {
    const g = v[j]!;
    if (g.type === 'iPAddress') {
      p = putHeader(out, p, 0x87, g.value.length);
      out.set(g.value, p);
      p += g.value.length;
      continue;
    }
    const s = (g as { value: string }).value;
    p = putHeader(out, p, ia5Tag(g.type), s.length);
    let any = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      any |= c;
      out[p++] = c;
    }
    if (any > 0x7f) return false;
  }
  return true;
}
