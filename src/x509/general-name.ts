import { toHex } from '../der/bytes.js';
import { DerError } from '../der/errors.js';
import * as oidDecoder from '../der/oid.js';
import type { DerReader } from '../der/reader.js';
import { Tag } from '../der/tags.js';
import type { DerWriter } from '../der/writer.js';
import { X509Error } from './errors.js';
import { type Name, readName } from './name.js';

/**
 * RFC 5280 §4.2.1.6:
 *   GeneralName ::= CHOICE {
 *     otherName [0] OtherName (SEQUENCE { type-id OID, value [0] EXPLICIT ANY }),
 *     rfc822Name [1] IA5String, dNSName [2] IA5String, x400Address [3] ORAddress,
 *     directoryName [4] Name (explicit: Name is a CHOICE), ediPartyName [5] EDIPartyName,
 *     uniformResourceIdentifier [6] IA5String, iPAddress [7] OCTET STRING, registeredID [8] OID }
 * x400Address and ediPartyName are kept as their raw TLV (no PKI we serve uses them).
 */
export type GeneralName =
  | { type: 'otherName'; typeId: string; value: Uint8Array }
  | { type: 'rfc822Name'; value: string }
  | { type: 'dNSName'; value: string }
  | { type: 'x400Address'; der: Uint8Array }
  | { type: 'directoryName'; value: Name }
  | { type: 'ediPartyName'; der: Uint8Array }
  | { type: 'uniformResourceIdentifier'; value: string }
  | { type: 'iPAddress'; value: Uint8Array }
  | { type: 'registeredID'; value: string };

export type GeneralNameType = GeneralName['type'];

export function readGeneralName(r: DerReader, name = 'GeneralName'): GeneralName {
  const tag = r.peekTag();
  switch (tag) {
    case 0xa0: {
      const s = r.readConstructed(0xa0, 'otherName');
      const typeId = s.readOid('type-id');
      const v = s.readExplicit(0, 'value');
      const value = v.readAny('value').der;
      v.finish();
      s.finish();
      return { type: 'otherName', typeId, value };
    }
    case 0x81:
      return { type: 'rfc822Name', value: r.readStringOf(0x81, 'rfc822Name', Tag.IA5String) };
    case 0x82:
      return { type: 'dNSName', value: r.readStringOf(0x82, 'dNSName', Tag.IA5String) };
    case 0xa3:
      return { type: 'x400Address', der: r.readTlvBytes(0xa3, 'x400Address') };
    case 0xa4: {
      const s = r.readConstructed(0xa4, 'directoryName');
      const value = readName(s, 'Name');
      s.finish();
      return { type: 'directoryName', value };
    }
    case 0xa5:
      return { type: 'ediPartyName', der: r.readTlvBytes(0xa5, 'ediPartyName') };
    case 0x86:
      return {
        type: 'uniformResourceIdentifier',
        value: r.readStringOf(0x86, 'uniformResourceIdentifier', Tag.IA5String),
      };
    case 0x87: {
      const off = r.pos;
      const value = r.readValue(0x87, 'iPAddress');
      if (value.length !== 4 && value.length !== 16 && value.length !== 8 && value.length !== 32)
        throw new X509Error(
          'bad-general-name',
          `iPAddress of length ${value.length}`,
          off,
          r.path('iPAddress'),
        );
      return { type: 'iPAddress', value };
    }
    case 0x88: {
      // registeredID [8] IMPLICIT OBJECT IDENTIFIER: reuse the OID decoder on the content.
      const off = r.pos;
      const t = r.readAny('registeredID');
      return { type: 'registeredID', value: oidDecoder.decodeOid(t.value, off) };
    }
    default:
      return r.fail(
        'unexpected-tag',
        `${name}: tag 0x${tag < 0 ? 'end' : tag.toString(16)} is not a GeneralName`,
        r.pos,
        name,
      );
  }
}

/** GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName */
export function readGeneralNames(r: DerReader, name = 'GeneralNames'): GeneralName[] {
  const off = r.pos;
  const s = r.readSequence(name);
  const out: GeneralName[] = [];
  s.forEach('GeneralName', (e) => out.push(readGeneralName(e)));
  if (out.length === 0) throw new X509Error('empty-sequence', `${name} must not be empty`, off, r.path(name));
  return out;
}

/** Reads the content of an already-opened GeneralNames (e.g. an IMPLICIT [n] GeneralNames). */
export function readGeneralNamesContent(s: DerReader, name = 'GeneralNames'): GeneralName[] {
  const off = s.pos;
  const out: GeneralName[] = [];
  s.forEach('GeneralName', (e) => out.push(readGeneralName(e)));
  if (out.length === 0) throw new X509Error('empty-sequence', `${name} must not be empty`, off, s.path());
  return out;
}

export function writeGeneralName(w: DerWriter, g: GeneralName): void {
  switch (g.type) {
    case 'otherName':
      w.constructed(0xa0, (w) => {
        w.oid(g.typeId);
        w.explicit(0, (w) => w.raw(g.value));
      });
      return;
    case 'rfc822Name':
      w.ia5String(g.value, 0x81);
      return;
    case 'dNSName':
      w.ia5String(g.value, 0x82);
      return;
    case 'x400Address':
    case 'ediPartyName':
      w.raw(g.der);
      return;
    case 'directoryName':
      w.constructed(0xa4, (w) => w.raw(g.value.der));
      return;
    case 'uniformResourceIdentifier':
      w.ia5String(g.value, 0x86);
      return;
    case 'iPAddress':
      if (![4, 8, 16, 32].includes(g.value.length))
        throw new DerError('cannot-encode', `iPAddress of length ${g.value.length}`, 0);
      w.tlv(0x87, g.value);
      return;
    case 'registeredID':
      w.tlv(0x88, oidDecoder.encodeOid(g.value));
      return;
  }
}

export function writeGeneralNames(w: DerWriter, names: readonly GeneralName[]): void {
  w.sequence((w) => {
    for (const g of names) writeGeneralName(w, g);
  });
}

/** Text form of an IP address (v4 dotted, v6 compressed; with /prefix for 8/32-byte constraint forms). */
export function ipToString(b: Uint8Array): string {
  if (b.length === 4) return Array.from(b).join('.');
  if (b.length === 8) return `${ipToString(b.subarray(0, 4))}/${maskBits(b.subarray(4))}`;
  if (b.length === 32) return `${ipToString(b.subarray(0, 16))}/${maskBits(b.subarray(16))}`;
  if (b.length !== 16) return toHex(b, ':');
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((b[i]! << 8) | b[i + 1]!);
  // Longest run of zeros (length ≥ 2) becomes "::" (RFC 5952 §4.2).
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = words.map((x) => x.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

function maskBits(m: Uint8Array): string {
  let bits = 0;
  let contiguous = true;
  let seenZero = false;
  for (const byte of m)
    for (let i = 7; i >= 0; i--) {
      if (byte & (1 << i)) {
        if (seenZero) contiguous = false;
        bits++;
      } else seenZero = true;
    }
  return contiguous ? String(bits) : ipToString(m);
}

/** Human form as OpenSSL prints it: `DNS:x`, `IP Address:1.2.3.4`, `email:…`, `URI:…`, `DirName:…`. */
export function generalNameToString(g: GeneralName): string {
  switch (g.type) {
    case 'dNSName':
      return `DNS:${g.value}`;
    case 'rfc822Name':
      return `email:${g.value}`;
    case 'uniformResourceIdentifier':
      return `URI:${g.value}`;
    case 'iPAddress':
      return `IP Address:${ipToString(g.value)}`;
    case 'directoryName':
      return `DirName:${g.value.toString()}`;
    case 'registeredID':
      return `Registered ID:${g.value}`;
    case 'otherName':
      return `othername:${g.typeId}:${toHex(g.value)}`;
    case 'x400Address':
      return `X400Name:${toHex(g.der)}`;
    case 'ediPartyName':
      return `EdiPartyName:${toHex(g.der)}`;
  }
}
