/** Portable base64 (RFC 4648 §4) without Buffer/atob, strict about alphabet and padding. */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DECODE = new Int16Array(256).fill(-1);
for (let i = 0; i < 64; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

export class Base64Error extends Error {
  override readonly name = 'Base64Error';
}

/** Decodes base64 text; whitespace is skipped, anything else outside the alphabet is an error. */
export function base64Decode(text: string): Uint8Array {
  const out = new Uint8Array(Math.floor((text.length * 3) / 4) + 3);
  let acc = 0;
  let bits = 0;
  let n = 0;
  let pad = 0;
  let chars = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
    if (c === 0x3d) {
      pad++;
      chars++;
      continue;
    }
    const v = c < 256 ? DECODE[c]! : -1;
    if (v < 0 || pad) throw new Base64Error(`invalid base64 character at ${i}`);
    chars++;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (acc >> bits) & 0xff;
    }
  }
  if (chars % 4 !== 0 || pad > 2) throw new Base64Error('base64 length is not a multiple of 4');
  if (bits && acc & ((1 << bits) - 1)) throw new Base64Error('non-zero base64 padding bits');
  return out.slice(0, n);
}

const CODES = new Uint8Array(64);
for (let i = 0; i < 64; i++) CODES[i] = ALPHABET.charCodeAt(i);
// Base64 is ASCII, which UTF-8 decodes as itself. Writing the characters as bytes and decoding once
// makes one flat string: concatenating four characters at a time made a rope of ~30 bytes of
// garbage per input byte (17 KB per certificate answered by the service) and had to be flattened.
const ascii = new TextDecoder();

/**
 * Base64 of `b` as text; with `lineLength` (a multiple of 4: PEM's 64, MIME's 76), a newline after
 * every `lineLength` characters and after the last line (PEM's body, RFC 7468 §2).
 */
export function base64Encode(b: Uint8Array, lineLength = 0): string {
  if (lineLength < 0 || lineLength % 4 !== 0 || !Number.isInteger(lineLength))
    throw new RangeError(`base64 line length must be a multiple of 4, not ${lineLength}`);
  const chars = 4 * Math.ceil(b.length / 3);
  const lines = lineLength > 0 ? Math.ceil(chars / lineLength) : 0;
  const out = new Uint8Array(chars + lines);
  let p = 0;
  let col = 0;
  let i = 0;
  for (; i + 2 < b.length; i += 3) {
    const v = (b[i]! << 16) | (b[i + 1]! << 8) | b[i + 2]!;
    out[p] = CODES[v >> 18]!;
    out[p + 1] = CODES[(v >> 12) & 63]!;
    out[p + 2] = CODES[(v >> 6) & 63]!;
    out[p + 3] = CODES[v & 63]!;
    p += 4;
    col += 4;
    if (col === lineLength) {
      out[p++] = 0x0a;
      col = 0;
    }
  }
  if (i < b.length) {
    const v = (b[i]! << 16) | ((b[i + 1] ?? 0) << 8);
    out[p] = CODES[v >> 18]!;
    out[p + 1] = CODES[(v >> 12) & 63]!;
    out[p + 2] = i + 1 < b.length ? CODES[(v >> 6) & 63]! : 0x3d;
    out[p + 3] = 0x3d;
    p += 4;
    col += 4;
  }
  if (lineLength > 0 && col > 0) out[p++] = 0x0a;
  return ascii.decode(out);
}
