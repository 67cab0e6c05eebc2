import { bytesEqual, fromHex, latin1, toHex } from '../der/bytes.js';
import { DerError } from '../der/errors.js';
import { decodeOidRange } from '../der/oid.js';
import { OID } from '../der/oid-names.js';
import { DerReader } from '../der/reader.js';
import { decodeString, isPrintableString, isPrintableStringByte, STRING_TAGS } from '../der/strings.js';
import { Tag } from '../der/tags.js';
import { DerWriter } from '../der/writer.js';
import { X509Error } from './errors.js';

/**
 * RFC 5280 §4.1.2.4:
 *   Name ::= SEQUENCE OF RelativeDistinguishedName
 *   RelativeDistinguishedName ::= SET SIZE (1..MAX) OF AttributeTypeAndValue
 *   AttributeTypeAndValue ::= SEQUENCE { type OID, value ANY -- DirectoryString mostly }
 * A `Name` keeps its exact DER. Values of string type are decoded (alphabet checked); other
 * values are kept as raw TLVs and shown as `#hex` (RFC 4514 §2.4).
 */
export interface AttributeTypeAndValue {
  type: string;
  /** Tag of the value (a string type, or something else for non-string attributes). */
  tag: number;
  /** Decoded text for string types; `#<hex of the TLV>` otherwise. */
  value: string;
  /** The value's TLV. */
  der: Uint8Array;
}

export type RelativeDistinguishedName = readonly AttributeTypeAndValue[];

/** Short names for RFC 4514 output (§3) plus the common extras OpenSSL prints. */
const SHORT: Record<string, string> = {
  [OID.commonName]: 'CN',
  [OID.localityName]: 'L',
  [OID.stateOrProvinceName]: 'ST',
  [OID.organizationName]: 'O',
  [OID.organizationalUnitName]: 'OU',
  [OID.countryName]: 'C',
  [OID.streetAddress]: 'STREET',
  [OID.domainComponent]: 'DC',
  [OID.userId]: 'UID',
  [OID.serialNumber]: 'serialNumber',
  [OID.emailAddress]: 'emailAddress',
  [OID.surname]: 'SN',
  [OID.givenName]: 'GN',
  [OID.title]: 'title',
  [OID.postalCode]: 'postalCode',
  [OID.dnQualifier]: 'dnQualifier',
  [OID.pseudonym]: 'pseudonym',
  [OID.initials]: 'initials',
  [OID.generationQualifier]: 'generationQualifier',
  [OID.organizationIdentifier]: 'organizationIdentifier',
  [OID.businessCategory]: 'businessCategory',
  [OID.description]: 'description',
  [OID.jurisdictionCountryName]: 'jurisdictionC',
  [OID.jurisdictionStateOrProvinceName]: 'jurisdictionST',
  [OID.jurisdictionLocalityName]: 'jurisdictionL',
  [OID.unstructuredName]: 'unstructuredName',
};
const BY_SHORT = new Map<string, string>();
for (const [oid, s] of Object.entries(SHORT)) BY_SHORT.set(s.toLowerCase(), oid);
for (const [alias, oid] of [
  ['surname', OID.surname],
  ['givenname', OID.givenName],
  ['email', OID.emailAddress],
  ['e', OID.emailAddress],
  ['s', OID.stateOrProvinceName],
  ['commonname', OID.commonName],
  ['organizationname', OID.organizationName],
  ['organizationalunitname', OID.organizationalUnitName],
  ['countryname', OID.countryName],
  ['localityname', OID.localityName],
  ['stateorprovincename', OID.stateOrProvinceName],
  ['street', OID.streetAddress],
  ['uid', OID.userId],
  ['domaincomponent', OID.domainComponent],
] as const)
  BY_SHORT.set(alias, oid);

/** SHORT's names exactly as printed (case-sensitive), for the fast path of Name.parse. */
const BY_PRINTED = new Map<string, string>(Object.entries(SHORT).map(([oid, name]) => [name, oid]));

export function attributeShortName(oid: string): string {
  return SHORT[oid] ?? oid;
}

/**
 * Upper bound on attributes in one Name: far above any real DN (x509-limbo's nc-dos cases use
 * ~1 100 to exercise verifier budgets, so the parser must accept those), and it bounds hostile input.
 */
export const MAX_NAME_ATTRIBUTES = 16384;

// DirectoryString types (RFC 5280 §4.1.2.4) are compared case- and whitespace-insensitively.
const DIRECTORY_STRING = new Set<number>([
  Tag.UTF8String,
  Tag.PrintableString,
  Tag.TeletexString,
  Tag.BMPString,
  Tag.UniversalString,
]);

/** RFC 5280 §7.1 (approximating RFC 4518): NFKC, case fold, trim, collapse internal whitespace. */
function normalizeDirectoryString(s: string): string {
  let ascii = true;
  for (let i = 0; i < s.length; i++)
    if (s.charCodeAt(i) > 0x7e) {
      ascii = false;
      break;
    }
  const t = ascii ? s : s.normalize('NFKC');
  return t.toLowerCase().trim().replace(/\s+/g, ' ');
}

function atvKey(a: AttributeTypeAndValue): string {
  if (DIRECTORY_STRING.has(a.tag)) return `${a.type}=${normalizeDirectoryString(a.value)}`;
  // IA5String attributes (emailAddress, DC): RFC 5280 §7.1 leaves these to exact matching,
  // but DC and the domain part of emailAddress are case-insensitive in practice (RFC 4519);
  // we compare IA5 values case-insensitively, as OpenSSL's canonical encoding does.
  if (a.tag === Tag.IA5String) return `${a.type}=${a.value.toLowerCase()}`;
  return `${a.type}#${toHex(a.der)}`;
}

/**
 * An X.501 Name (RFC 5280 §4.1.2.4) with its exact DER: RFC 4514 text in and out (`Name.parse`,
 * `toString`) and RFC 5280 §7.1 comparison (`equals`).
 */
export class Name {
  private _key?: string;
  private _string?: string;
  // A private field, not a property: a Name whose RDNs were read and one whose were not are
  // still deep-equal (their DER decides the RDNs).
  #rdns: readonly RelativeDistinguishedName[] | undefined;

  /** `rdns` may be left out when `der` is known to be a valid Name: they are then read on first use. */
  constructor(
    /** The exact DER of the Name SEQUENCE. */
    readonly der: Uint8Array,
    rdns?: readonly RelativeDistinguishedName[],
  ) {
    this.#rdns = rdns;
  }

  /** The RDNs in DER order (most significant first). */
  get rdns(): readonly RelativeDistinguishedName[] {
    // Only `parseSimpleName` leaves them out: a CA that parses a subject to issue a certificate
    // needs the DER, and the RDN objects were most of that parse's time and garbage.
    if (this.#rdns === undefined) this.#rdns = Name.fromDer(this.der).rdns;
    return this.#rdns;
  }

  static fromDer(der: Uint8Array): Name {
    const r = DerReader.from(der, 'Name');
    const n = readName(r, 'Name');
    r.finish();
    return n;
  }

  /** Builds a Name from RFC 4514 text (most significant RDN last, e.g. "CN=dev,O=Acme,C=US"). */
  static parse(text: string): Name {
    return parseSimpleName(text) ?? buildName(parseRfc4514(text));
  }

  /** Builds a Name from RDNs in DER order (most significant first) of `{type, value}` pairs. */
  static fromRdns(rdns: readonly (readonly { type: string; value: string; tag?: number }[])[]): Name {
    return buildName(rdns);
  }

  get isEmpty(): boolean {
    // An empty RDNSequence is `30 00`; any RDN makes the DER longer.
    return this.#rdns === undefined ? this.der.length <= 2 : this.#rdns.length === 0;
  }

  /** All values of one attribute type, in DER order. */
  get(typeOid: string): string[] {
    const out: string[] = [];
    for (const rdn of this.rdns) for (const a of rdn) if (a.type === typeOid) out.push(a.value);
    return out;
  }

  /** The most specific (last) commonName, as most software reads it. */
  get commonName(): string | undefined {
    const cns = this.get(OID.commonName);
    return cns[cns.length - 1];
  }

  /** Normalised comparison key: equal keys ⇔ RFC 5280 §7.1 equal names. */
  get key(): string {
    if (this._key === undefined) {
      this._key = this.rdns
        .map((rdn) => (rdn.length === 1 ? atvKey(rdn[0]!) : rdn.map(atvKey).sort().join('+')))
        .join('\u0000');
    }
    return this._key;
  }

  /** RFC 5280 §7.1 comparison: same RDN count, each RDN the same set of type/value pairs. */
  equals(o: Name): boolean {
    return bytesEqual(this.der, o.der) || this.key === o.key;
  }

  /** RFC 4514 text: RDNs most significant last, multi-valued RDNs joined with '+'. */
  toString(): string {
    if (this._string === undefined) {
      let out = '';
      for (let i = this.rdns.length - 1; i >= 0; i--) {
        const rdn = this.rdns[i]!;
        if (i !== this.rdns.length - 1) out += ',';
        for (let j = 0; j < rdn.length; j++) {
          const a = rdn[j]!;
          if (j > 0) out += '+';
          out += `${attributeShortName(a.type)}=${escapeValue(a)}`;
        }
      }
      this._string = out;
    }
    return this._string;
  }

  /** OpenSSL's one-line form ("C = US, O = Acme, CN = x"), most significant first. */
  toOpenSslString(): string {
    return this.rdns
      .map((rdn) =>
        rdn
          .map((a) => `${attributeShortName(a.type)} = ${a.value.startsWith('#') ? a.value : a.value}`)
          .join(' + '),
      )
      .join(', ');
  }
}

/** Characters RFC 4514 §2.4 escapes anywhere: `"+,;<>\`, controls and DEL (1 = escape). */
const NEEDS_ESCAPE = new Uint8Array(128);
for (const c of ',+"\\<>;') NEEDS_ESCAPE[c.charCodeAt(0)] = 1;
for (let c = 0; c < 0x20; c++) NEEDS_ESCAPE[c] = 1;
NEEDS_ESCAPE[0x7f] = 1;

/** True when `v` can be written as is (the common case: no scan-and-rebuild). */
function plainValue(v: string): boolean {
  const n = v.length;
  if (n === 0) return true;
  const f = v.charCodeAt(0);
  if (f === 0x23 || f === 0x20 || v.charCodeAt(n - 1) === 0x20) return false;
  for (let i = 0; i < n; i++) {
    const c = v.charCodeAt(i);
    if (c < 128 && NEEDS_ESCAPE[c] === 1) return false;
  }
  return true;
}

function escapeValue(a: AttributeTypeAndValue): string {
  if (!STRING_TAGS.has(a.tag)) return a.value; // already '#hex'
  const v = a.value;
  if (plainValue(v)) return v;
  let out = '';
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!;
    const code = v.charCodeAt(i);
    if (',+"\\<>;'.includes(c) || (i === 0 && (c === '#' || c === ' ')) || (i === v.length - 1 && c === ' '))
      out += `\\${c}`;
    else if (code === 0) out += '\\00';
    else if (code < 0x20 || code === 0x7f) out += `\\${code.toString(16).padStart(2, '0')}`;
    else out += c;
  }
  return out;
}

/**
 * Length at b[p] in the forms the fast path handles: short, or minimal 81/82 long form.
 * Returns -1 for anything else (the general reader then parses and reports it).
 */
function fastLength(b: Uint8Array, p: number, end: number): number {
  if (p >= end) return -1;
  const l = b[p]!;
  if (l < 0x80) return l;
  if (l === 0x81) return p + 1 < end && b[p + 1]! >= 0x80 ? b[p + 1]! : -1;
  if (l === 0x82 && p + 2 < end && b[p + 1]! !== 0) return (b[p + 1]! << 8) | b[p + 2]!;
  return -1;
}
const lengthSize = (b: Uint8Array, p: number) => (b[p]! < 0x80 ? 1 : b[p] === 0x81 ? 2 : 3);

const X520_TYPES = Array.from({ length: 128 }, (_, n) => `2.5.4.${n}`);

/**
 * The common shape of a Name, decoded without child readers: single-valued RDNs whose values are
 * ASCII PrintableString / UTF8String / IA5String. Accepts only what `readName`'s general path
 * accepts (same alphabet checks, lengths minimal, nothing trailing); returns undefined for any
 * other input, which the general path then parses or rejects with a precise error.
 */
function readNameFast(der: Uint8Array): Name | undefined {
  const b = der;
  const end = b.length;
  let p = 1 + lengthSize(b, 1);
  const rdns: AttributeTypeAndValue[][] = [];
  while (p < end) {
    if (rdns.length >= MAX_NAME_ATTRIBUTES || b[p] !== Tag.SET) return undefined;
    const setLen = fastLength(b, p + 1, end);
    if (setLen < 0) return undefined;
    const setStart = p + 1 + lengthSize(b, p + 1);
    const setEnd = setStart + setLen;
    if (setEnd > end || b[setStart] !== Tag.SEQUENCE) return undefined;
    const atvLen = fastLength(b, setStart + 1, setEnd);
    if (atvLen < 0) return undefined;
    const atvStart = setStart + 1 + lengthSize(b, setStart + 1);
    // One AttributeTypeAndValue filling the whole SET (multi-valued RDNs take the general path).
    if (atvStart + atvLen !== setEnd || b[atvStart] !== Tag.OID) return undefined;
    const oidLen = fastLength(b, atvStart + 1, setEnd);
    if (oidLen <= 0 || oidLen >= 0x80) return undefined;
    const oidStart = atvStart + 2;
    const vAt = oidStart + oidLen;
    if (vAt + 2 > setEnd) return undefined;
    const tag = b[vAt]!;
    if (tag !== Tag.PrintableString && tag !== Tag.UTF8String && tag !== Tag.IA5String) return undefined;
    const vLen = fastLength(b, vAt + 1, setEnd);
    if (vLen < 0) return undefined;
    const vStart = vAt + 1 + lengthSize(b, vAt + 1);
    if (vStart + vLen !== setEnd) return undefined;
    for (let i = vStart; i < setEnd; i++) {
      const c = b[i]!;
      if (c >= 0x80 || (tag === Tag.PrintableString && !isPrintableStringByte(c))) return undefined;
    }
    let type: string;
    // X.520 attribute types 2.5.4.n (n < 128) are 55 04 nn: most names use nothing else.
    if (oidLen === 3 && b[oidStart] === 0x55 && b[oidStart + 1] === 0x04 && b[oidStart + 2]! < 0x80)
      type = X520_TYPES[b[oidStart + 2]!]!;
    else
      try {
        type = decodeOidRange(b, oidStart, vAt, 0);
      } catch {
        return undefined;
      }
    rdns.push([{ type, tag, value: latin1(b.subarray(vStart, setEnd)), der: b.subarray(vAt, setEnd) }]);
    p = setEnd;
  }
  return new Name(der, rdns);
}

/** Reads a Name (strict: RDN SETs sorted, non-empty; string values' alphabets checked). */
export function readName(r: DerReader, name = 'Name'): Name {
  const start = r.pos;
  // Depth of the AttributeTypeAndValue SEQUENCE below this reader: Name, RDN SET, ATV.
  if (r.depth + 3 <= r.limits.maxDepth && r.limits.maxLength >= 0xffff) {
    const der = r.readTlvBytes(Tag.SEQUENCE, name);
    const fast = readNameFast(der);
    if (fast) return fast;
    r.pos = start; // Unusual shape: let the general reader below decide (and name any error).
  }
  const seq = r.readSequence(name);
  const rdns: AttributeTypeAndValue[][] = [];
  let count = 0;
  while (!seq.atEnd()) {
    const setOff = seq.pos;
    const set = seq.readSetOf('RelativeDistinguishedName');
    const rdn: AttributeTypeAndValue[] = [];
    while (!set.atEnd()) {
      if (++count > MAX_NAME_ATTRIBUTES) set.fail('too-many-elements', 'too many attributes in Name');
      const atv = set.readSequence('AttributeTypeAndValue');
      const type = atv.readOid('type');
      const vOff = atv.pos;
      const t = atv.readAny('value');
      let value: string;
      if (STRING_TAGS.has(t.tag)) {
        try {
          value = decodeString(t.tag, t.value, vOff);
        } catch (e) {
          if (e instanceof DerError)
            throw new DerError(
              e.code,
              `${attributeShortName(type)}: invalid string`,
              vOff,
              atv.path('value'),
            );
          throw e;
        }
      } else value = `#${toHex(t.der)}`;
      atv.finish();
      rdn.push({ type, tag: t.tag, value, der: t.der });
    }
    if (rdn.length === 0)
      throw new X509Error('bad-name', 'empty RelativeDistinguishedName', setOff, seq.path('RDN'));
    rdns.push(rdn);
  }
  return new Name(r.bytes.subarray(start, r.pos), rdns);
}

// ---- building ----

/** Default string type per attribute (RFC 5280 §4.1.2.4 and Appendix A). */
function tagOf(type: string): number {
  if (PRINTABLE_TYPES.has(type)) return Tag.PrintableString;
  return type === OID.emailAddress || type === OID.domainComponent ? Tag.IA5String : Tag.UTF8String;
}

/** `tagOf(type)`, refusing a value its PrintableString type cannot hold. */
function defaultTag(type: string, value: string): number {
  const tag = tagOf(type);
  if (tag === Tag.PrintableString && !isPrintableString(value))
    throw new X509Error('cannot-encode', `${attributeShortName(type)} must be a PrintableString`);
  return tag;
}

function buildName(
  rdns: readonly (readonly { type: string; value: string; tag?: number; der?: Uint8Array }[])[],
): Name {
  const w = new DerWriter(128);
  w.sequence((w) => {
    for (const rdn of rdns) {
      if (rdn.length === 0) throw new X509Error('cannot-encode', 'empty RDN');
      w.setOf((w) => {
        for (const a of rdn)
          w.sequence((w) => {
            w.oid(a.type);
            if (a.der) {
              w.raw(a.der);
              return;
            }
            if (a.type === OID.countryName && a.value.length !== 2)
              throw new X509Error('cannot-encode', 'countryName must be two letters (ISO 3166)');
            const tag = a.tag ?? defaultTag(a.type, a.value);
            if (tag === Tag.PrintableString) w.printableString(a.value);
            else if (tag === Tag.IA5String) w.ia5String(a.value);
            else w.utf8String(a.value);
          });
      });
    }
  });
  return Name.fromDer(w.finish());
}

/** Attribute types whose values must be PrintableString (defaultTag); anything else fits UTF8String. */
const PRINTABLE_TYPES = new Set<string>([
  OID.countryName,
  OID.serialNumber,
  OID.dnQualifier,
  OID.jurisdictionCountryName,
]);

/** The encoded OID TLV of each attribute type RFC 4514 text can name (a fixed set: bounded). */
const TYPE_TLV = new Map<string, Uint8Array>();
function typeTlv(oid: string): Uint8Array {
  let t = TYPE_TLV.get(oid);
  if (!t) {
    const w = new DerWriter(16);
    w.oid(oid);
    t = w.finish();
    TYPE_TLV.set(oid, t);
  }
  return t;
}

/** Octets of a DER length (X.690 §8.1.3: short form below 128, else minimal long form). */
const lengthOctets = (n: number) => (n < 0x80 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 4);
function putLength(out: Uint8Array, p: number, n: number): number {
  const k = lengthOctets(n);
  if (k === 1) out[p++] = n;
  else {
    out[p++] = 0x80 | (k - 1);
    for (let s = (k - 2) * 8; s >= 0; s -= 8) out[p++] = (n >> s) & 0xff;
  }
  return p;
}

/**
 * The common case of `Name.parse`, without the general parser: single-valued RDNs with known
 * short attribute names and plain printable-ASCII values (no escapes, quotes, `+` or `#`). It
 * writes the DER only; the Name reads its RDNs from that DER when they are first asked for. The
 * result equals the general path's (the same DER, the same RDNs; a test compares the two); for
 * anything else it returns undefined, and the general path parses the text or names its error.
 */
function parseSimpleName(text: string): Name | undefined {
  const n = text.length;
  // First pass: the attribute types and the bounds of their values in `text` (no slices yet).
  // The scratch keeps what a hostile name made it grow to only until the next call.
  if (scanTypes.length > 64) {
    scanTypes.length = 0;
    scanBounds.length = 0;
  }
  const types = scanTypes;
  const bounds = scanBounds;
  let k = 0;
  let i = 0;
  for (;;) {
    while (i < n && text.charCodeAt(i) === 0x20) i++;
    const eq = text.indexOf('=', i);
    if (eq < 0) return undefined;
    let te = eq;
    while (te > i && text.charCodeAt(te - 1) === 0x20) te--;
    const type = printedType(text, i, te);
    if (type === undefined) return undefined;
    i = eq + 1;
    while (i < n && text.charCodeAt(i) === 0x20) i++;
    const vs = i;
    let ve = i;
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x2c || c === 0x3b) break; // ',' ';'
      // '+' (multi-valued RDN), '\' (escape), '"' (quoted), leading '#' (hex), non-printable ASCII.
      if (c === 0x2b || c === 0x5c || c === 0x22 || (c === 0x23 && i === vs) || c < 0x20 || c > 0x7e)
        return undefined;
      if (c !== 0x20) ve = i + 1;
    }
    if (type.tag === Tag.PrintableString) {
      for (let j = vs; j < ve; j++) {
        const c = text.charCodeAt(j);
        if (!isPrintableStringByte(c) || c === 0x2a || c === 0x26) return undefined;
      }
      if (type.oid === OID.countryName && ve - vs !== 2) return undefined;
    }
    if (k >= MAX_NAME_ATTRIBUTES) return undefined;
    types[k] = type;
    bounds[2 * k] = vs;
    bounds[2 * k + 1] = ve;
    k++;
    if (i >= n) break;
    i++; // the separator
  }
  // Sizes (DER order is the reverse of the text), then one buffer.
  let total = 0;
  for (let j = 0; j < k; j++) {
    const v = bounds[2 * j + 1]! - bounds[2 * j]!;
    const a = types[j]!.tlv.length + 1 + lengthOctets(v) + v;
    const seq = 1 + lengthOctets(a) + a;
    total += 1 + lengthOctets(seq) + seq;
  }
  const der = new Uint8Array(1 + lengthOctets(total) + total);
  let p = 0;
  der[p++] = Tag.SEQUENCE;
  p = putLength(der, p, total);
  for (let j = k - 1; j >= 0; j--) {
    const { tlv, tag } = types[j]!;
    const vs = bounds[2 * j]!;
    const ve = bounds[2 * j + 1]!;
    const len = ve - vs;
    const a = tlv.length + 1 + lengthOctets(len) + len;
    der[p++] = Tag.SET;
    p = putLength(der, p, 1 + lengthOctets(a) + a);
    der[p++] = Tag.SEQUENCE;
    p = putLength(der, p, a);
    der.set(tlv, p);
    p += tlv.length;
    der[p++] = tag;
    p = putLength(der, p, len);
    for (let c = vs; c < ve; c++) der[p++] = text.charCodeAt(c);
  }
  return new Name(der);
}

// Scratch of parseSimpleName, which is synchronous and never re-entered: attribute types, and
// the start and end of each value in the text. Grows to the largest name seen (≤ MAX_NAME_ATTRIBUTES).
const scanTypes: AttributeDescriptor[] = [];
const scanBounds: number[] = [];

/** What writing an attribute of one type needs: its OID, the OID's TLV, the value's string tag. */
interface AttributeDescriptor {
  oid: string;
  tlv: Uint8Array;
  tag: number;
}

/** One descriptor per attribute type RFC 4514 text can name (a fixed set: bounded). */
const DESCRIPTORS = new Map<string, AttributeDescriptor>();
function descriptor(oid: string): AttributeDescriptor {
  let d = DESCRIPTORS.get(oid);
  if (!d) {
    d = { oid, tlv: typeTlv(oid), tag: tagOf(oid) };
    DESCRIPTORS.set(oid, d);
  }
  return d;
}
const D_C = descriptor(OID.countryName);
const D_O = descriptor(OID.organizationName);
const D_L = descriptor(OID.localityName);
const D_CN = descriptor(OID.commonName);
const D_OU = descriptor(OID.organizationalUnitName);
const D_ST = descriptor(OID.stateOrProvinceName);
const D_DC = descriptor(OID.domainComponent);

/** The attribute type named by text[i, end): the usual capitals without a slice, else the tables. */
function printedType(text: string, i: number, end: number): AttributeDescriptor | undefined {
  const c0 = text.charCodeAt(i);
  if (end - i === 1) {
    if (c0 === 0x43) return D_C;
    if (c0 === 0x4f) return D_O;
    if (c0 === 0x4c) return D_L;
  } else if (end - i === 2) {
    const c1 = text.charCodeAt(i + 1);
    if (c0 === 0x43 && c1 === 0x4e) return D_CN;
    if (c0 === 0x4f && c1 === 0x55) return D_OU;
    if (c0 === 0x53 && c1 === 0x54) return D_ST;
    if (c0 === 0x44 && c1 === 0x43) return D_DC;
  }
  // Most text spells the names as printed (CN, O, OU…): try that before lower-casing.
  const typeText = text.slice(i, end);
  const oid = BY_PRINTED.get(typeText) ?? BY_SHORT.get(typeText.toLowerCase());
  return oid === undefined ? undefined : descriptor(oid);
}

/** RFC 4514 parser: returns RDNs in DER order (reverse of the text). */
export function parseRfc4514(text: string): { type: string; value: string; der?: Uint8Array }[][] {
  const rdns: { type: string; value: string; der?: Uint8Array }[][] = [];
  // Only leading blanks are cut here: a trailing "\ " is an escaped space that belongs to the value.
  const s = text.trimStart();
  if (s.trim() === '') return [];
  let i = 0;
  let rdn: { type: string; value: string; der?: Uint8Array }[] = [];
  const fail = (why: string): never => {
    throw new X509Error('bad-name', `RFC 4514: ${why} at position ${i} in "${text}"`);
  };
  while (i <= s.length) {
    // attributeType
    while (s[i] === ' ') i++;
    const eq = s.indexOf('=', i);
    if (eq < 0) fail('missing "="');
    const typeText = s.slice(i, eq).trim();
    let type: string;
    if (/^[0-9]+(\.[0-9]+)+$/.test(typeText)) type = typeText;
    else if (/^oid\.[0-9.]+$/i.test(typeText)) type = typeText.slice(4);
    else {
      const t = BY_SHORT.get(typeText.toLowerCase());
      if (!t) fail(`unknown attribute type "${typeText}"`);
      type = t!;
    }
    i = eq + 1;
    while (s[i] === ' ') i++;
    // attributeValue
    if (s[i] === '#') {
      let j = i + 1;
      while (j < s.length && /[0-9a-fA-F]/.test(s[j]!)) j++;
      const der = fromHex(s.slice(i + 1, j));
      rdn.push({ type, value: `#${s.slice(i + 1, j)}`, der });
      i = j;
    } else {
      let v = '';
      let pendingBytes: number[] = [];
      const flush = () => {
        if (pendingBytes.length) {
          try {
            v += new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(pendingBytes));
          } catch {
            fail('invalid UTF-8 in hex escapes');
          }
          pendingBytes = [];
        }
      };
      let quoted = false;
      if (s[i] === '"') {
        quoted = true;
        i++;
      }
      let lastSignificant = 0;
      for (; i < s.length; i++) {
        const c = s[i]!;
        if (quoted && c === '"') {
          i++;
          break;
        }
        if (!quoted && (c === ',' || c === '+' || c === ';')) break;
        if (c === '\\') {
          const n = s[i + 1];
          if (n === undefined) fail('dangling escape');
          if (/[0-9a-fA-F]/.test(n!) && /[0-9a-fA-F]/.test(s[i + 2] ?? '')) {
            pendingBytes.push(Number.parseInt(s.slice(i + 1, i + 3), 16));
            i += 2;
          } else {
            flush();
            v += n;
            i++;
          }
          lastSignificant = v.length + pendingBytes.length;
          continue;
        }
        flush();
        v += c;
        if (c !== ' ') lastSignificant = v.length;
      }
      flush();
      // Unescaped trailing spaces are not part of the value (RFC 4514 §3).
      rdn.push({ type, value: quoted ? v : v.slice(0, Math.max(lastSignificant, 0)) });
      while (s[i] === ' ') i++;
    }
    const sep = s[i];
    if (sep === '+') {
      i++;
      continue;
    }
    rdns.push(rdn);
    rdn = [];
    if (sep === undefined) break;
    if (sep !== ',' && sep !== ';') fail(`unexpected "${sep}"`);
    i++;
  }
  return rdns.reverse();
}
