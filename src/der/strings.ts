import { latin1 } from './bytes.js';
import { DerError } from './errors.js';
import { Tag } from './tags.js';

/**
 * Character-string types (X.680 §41) decoded with their alphabet checked.
 *
 * Tolerances, each needed by deployed certificates:
 * - PrintableString may contain '*' and '&': Go's parser accepts them because CAs issued such
 *   names (golang/go#850, e.g. "*.example.com" common names in old Thawte/VeriSign chains).
 * - TeletexString is decoded as Latin-1 — the de-facto reading of T.61 in real CA names (it is
 *   what OpenSSL, Go and NSS do); we do not implement the T.61 code page.
 */

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf16be = new TextDecoder('utf-16be', { fatal: true, ignoreBOM: true });

const PRINTABLE = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?*&")
  PRINTABLE[c.charCodeAt(0)] = 1;

export function isPrintableStringByte(c: number): boolean {
  return c < 128 && PRINTABLE[c] === 1;
}

function bad(kind: string, offset: number): never {
  throw new DerError('bad-string', `invalid ${kind} contents`, offset);
}

/** Decodes the content octets of a string type; `tag` picks the alphabet. */
export function decodeString(tag: number, b: Uint8Array, offset = 0): string {
  switch (tag) {
    case Tag.UTF8String: {
      // Most names are ASCII: skip the TextDecoder call (costly for short strings) when it is.
      let i = 0;
      while (i < b.length && b[i]! < 0x80) i++;
      if (i === b.length) return latin1(b);
      try {
        return fatalUtf8.decode(b);
      } catch {
        return bad('UTF8String', offset);
      }
    }
    case Tag.PrintableString:
      for (let i = 0; i < b.length; i++) if (!isPrintableStringByte(b[i]!)) bad('PrintableString', offset);
      return latin1(b);
    case Tag.IA5String:
      for (let i = 0; i < b.length; i++) if (b[i]! > 0x7f) bad('IA5String', offset);
      return latin1(b);
    case Tag.VisibleString:
      for (let i = 0; i < b.length; i++) if (b[i]! < 0x20 || b[i]! > 0x7e) bad('VisibleString', offset);
      return latin1(b);
    case Tag.NumericString:
      for (let i = 0; i < b.length; i++)
        if (b[i] !== 0x20 && (b[i]! < 0x30 || b[i]! > 0x39)) bad('NumericString', offset);
      return latin1(b);
    case Tag.TeletexString:
      return latin1(b);
    case Tag.BMPString: {
      if (b.length % 2 !== 0) bad('BMPString', offset);
      // BMP is UCS-2: surrogate code units are not characters of the BMP.
      for (let i = 0; i < b.length; i += 2) if (b[i]! >= 0xd8 && b[i]! <= 0xdf) bad('BMPString', offset);
      return utf16be.decode(b);
    }
    case Tag.UniversalString: {
      if (b.length % 4 !== 0) bad('UniversalString', offset);
      let s = '';
      for (let i = 0; i < b.length; i += 4) {
        const cp = ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) bad('UniversalString', offset);
        s += String.fromCodePoint(cp);
      }
      return s;
    }
    default:
      throw new DerError('unexpected-tag', `tag 0x${tag.toString(16)} is not a string type`, offset);
  }
}

export const STRING_TAGS: ReadonlySet<number> = new Set([
  Tag.UTF8String,
  Tag.PrintableString,
  Tag.IA5String,
  Tag.VisibleString,
  Tag.NumericString,
  Tag.TeletexString,
  Tag.BMPString,
  Tag.UniversalString,
]);

/** Can `s` be written as a PrintableString (strict alphabet, without the tolerated '*' and '&')? */
export function isPrintableString(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!isPrintableStringByte(c) || c === 0x2a || c === 0x26) return false;
  }
  return true;
}
