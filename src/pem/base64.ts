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

export function base64Encode(b: Uint8Array): string {
  let s = '';
  let i = 0;
  for (; i + 2 < b.length; i += 3) {
    const v = (b[i]! << 16) | (b[i + 1]! << 8) | b[i + 2]!;
    s += ALPHABET[v >> 18]! + ALPHABET[(v >> 12) & 63]! + ALPHABET[(v >> 6) & 63]! + ALPHABET[v & 63]!;
  }
  if (i < b.length) {
    const v = (b[i]! << 16) | ((b[i + 1] ?? 0) << 8);
    s += ALPHABET[v >> 18]! + ALPHABET[(v >> 12) & 63]!;
    s += i + 1 < b.length ? `${ALPHABET[(v >> 6) & 63]!}=` : '==';
  }
  return s;
}
