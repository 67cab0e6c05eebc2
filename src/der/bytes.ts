/** Small byte helpers shared by every layer (portable: no Buffer). */

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function toHex(b: Uint8Array, sep = ''): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += (i && sep ? sep : '') + HEX[b[i]!];
  return s;
}

export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/[\s:]/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new TypeError('invalid hex string');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(clean.substr(i * 2, 2), 16);
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Lexicographic comparison as unsigned octet strings. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Bytes → string, one code unit per byte (ISO 8859-1). Not TextDecoder('latin1'): WHATWG maps
 * that label to windows-1252, which changes 0x80–0x9F. `fromCharCode.apply` over chunks is the
 * fastest exact way in V8 (about twice a per-byte `+=` loop for short names).
 */
export function latin1(b: Uint8Array): string {
  const CHUNK = 4096;
  if (b.length <= CHUNK) return String.fromCharCode.apply(null, b as unknown as number[]);
  let s = '';
  for (let i = 0; i < b.length; i += CHUNK)
    s += String.fromCharCode.apply(null, b.subarray(i, i + CHUNK) as unknown as number[]);
  return s;
}

export function asciiBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) throw new TypeError('non-Latin-1 character');
    out[i] = c;
  }
  return out;
}

const UTF8_ENCODER = new TextEncoder();
export const utf8Encode = (s: string): Uint8Array => UTF8_ENCODER.encode(s);

/** Unsigned big-endian bytes → bigint. */
export function bytesToBigInt(b: Uint8Array): bigint {
  if (b.length === 0) return 0n;
  return BigInt(`0x${toHex(b)}`);
}

/** Non-negative bigint → minimal unsigned big-endian bytes (at least one byte). */
export function bigIntToBytes(n: bigint): Uint8Array {
  if (n < 0n) throw new RangeError('negative bigint');
  let h = n.toString(16);
  if (h.length % 2) h = `0${h}`;
  return fromHex(h);
}

/** Bit length of an unsigned big-endian magnitude (leading zero octets ignored; 0 for zero). */
export function bitLength(mag: Uint8Array): number {
  let i = 0;
  while (i < mag.length && mag[i] === 0) i++;
  if (i === mag.length) return 0;
  return (mag.length - i - 1) * 8 + (32 - Math.clz32(mag[i]!));
}
