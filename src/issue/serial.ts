import type { CryptoProvider } from '../crypto/provider.js';

/**
 * Certificate serial numbers (RFC 5280 §4.1.2.2: a positive INTEGER of at most 20 octets,
 * unique per issuer; CA/Browser Forum BR §7.1 asks for ≥ 64 bits of CSPRNG output, issue 3 for
 * ≥ 128 bits).
 *
 * Our serial is always 17 octets of INTEGER content: the first octet is `0x40 | (rand & 0x3f)`
 * (so the value is positive — top bit clear — and minimal — never 0x00), followed by 16 CSPRNG
 * octets: 134 random bits in all, and a fixed length so DER sizes are predictable. The chance
 * of two equal serials among 2^40 certificates is about 2^-55.
 *
 * Random bytes are drawn from the provider's CSPRNG in blocks of 4 KiB: one platform call per
 * ~240 serials instead of one per certificate (a call costs more than encoding the certificate).
 * Serials are public once issued; the unused output stays private to this module.
 */
export const SERIAL_LENGTH = 17;

const POOL_SIZE = 4096;

interface Pool {
  bytes: Uint8Array;
  pos: number;
}
const pools = new WeakMap<CryptoProvider, Pool>();

function take(provider: CryptoProvider, n: number): Uint8Array {
  let p = pools.get(provider);
  if (!p || p.pos + n > p.bytes.length) {
    const r = provider.randomBytes(POOL_SIZE);
    // A plain Uint8Array view, so that `slice` copies (a Node Buffer's `slice` is a view): each
    // serial owns its octets and nobody holding one can read the pool's unused (future) serials.
    p = { bytes: new Uint8Array(r.buffer, r.byteOffset, r.byteLength), pos: 0 };
    pools.set(provider, p);
  }
  const out = p.bytes.slice(p.pos, p.pos + n);
  p.pos += n;
  return out;
}

/** A fresh random serial number as INTEGER content octets (17 octets, positive, minimal). */
export function randomSerial(provider: CryptoProvider): Uint8Array {
  const s = take(provider, SERIAL_LENGTH);
  s[0] = 0x40 | (s[0]! & 0x3f);
  return s;
}

/**
 * Normalises a caller-given serial to INTEGER content: a bigint/number (must be > 0), a hex
 * string (colons allowed, as OpenSSL prints), or INTEGER content octets. Returns undefined when
 * the input is not a positive integer; size limits are the linter's job (`serial-too-long`).
 */
export function serialFromInput(v: bigint | number | string | Uint8Array): Uint8Array | undefined {
  if (v instanceof Uint8Array) return v.length > 0 ? v : undefined;
  let n: bigint;
  if (typeof v === 'string') {
    const hex = v.replace(/:/g, '').toLowerCase().replace(/^0x/, '');
    if (hex.length === 0 || hex.length > 80 || !/^[0-9a-f]+$/.test(hex)) return undefined;
    n = BigInt(`0x${hex}`);
  } else {
    if (typeof v === 'number' && !Number.isSafeInteger(v)) return undefined;
    n = BigInt(v);
  }
  if (n <= 0n) return undefined;
  let h = n.toString(16);
  if (h.length % 2) h = `0${h}`;
  if (Number.parseInt(h[0]!, 16) >= 8) h = `00${h}`;
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(h.slice(i * 2, i * 2 + 2), 16);
  return out;
}
