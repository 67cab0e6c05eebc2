import type { HashName } from './algorithms.js';
import { CryptoError } from './errors.js';
import type { CryptoProvider } from './provider.js';

/**
 * The PKCS#12 key derivation (RFC 7292 Appendix B.2), a construction over the provider's hash:
 * it derives the MAC key (ID 3) of every PFX, and the key (ID 1) and IV (ID 2) of the legacy
 * "pbeWithSHAAnd…" encryption schemes (RFC 7292 Appendix C). No primitive is written here.
 *
 *   D = ID repeated to v bytes;  S = salt repeated to v·⌈s/v⌉ bytes;  P = password likewise;
 *   I = S ‖ P;  for i = 1..⌈n/u⌉: Aᵢ = H^r(D ‖ I), B = Aᵢ repeated to v bytes,
 *   every v-byte block Iⱼ of I becomes (Iⱼ + B + 1) mod 2^(8v);  result = A₁ ‖ A₂ ‖ … (n bytes).
 *
 * u is the hash length, v its block size. The password is a BMPString with a two-byte zero
 * terminator (Appendix B.1): `pkcs12Password`.
 */

/** Which value the KDF derives (RFC 7292 Appendix B.3). */
export type Pkcs12KdfId = 1 | 2 | 3;

/** Hash block sizes v (bytes). */
const BLOCK: Record<HashName, number> = {
  MD5: 64,
  'SHA-1': 64,
  'SHA-224': 64,
  'SHA-256': 64,
  'SHA-384': 128,
  'SHA-512': 128,
};
const LENGTH: Record<HashName, number> = {
  MD5: 16,
  'SHA-1': 20,
  'SHA-224': 28,
  'SHA-256': 32,
  'SHA-384': 48,
  'SHA-512': 64,
};

/** RFC 7292 Appendix B.1: UTF-16BE code units followed by 0x0000; the empty password is just the terminator. */
export function pkcs12Password(password: string): Uint8Array {
  const out = new Uint8Array(password.length * 2 + 2);
  for (let i = 0; i < password.length; i++) {
    const c = password.charCodeAt(i);
    out[2 * i] = c >> 8;
    out[2 * i + 1] = c & 0xff;
  }
  return out;
}

function repeatTo(src: Uint8Array, v: number): Uint8Array {
  if (src.length === 0) return src;
  const out = new Uint8Array(v * Math.ceil(src.length / v));
  for (let i = 0; i < out.length; i++) out[i] = src[i % src.length]!;
  return out;
}

/**
 * Derives `n` bytes. `iterations` is bounded by the caller (a hostile file chooses it); the
 * loop runs iterations · ⌈n/u⌉ hashes.
 */
export async function pkcs12Kdf(
  provider: CryptoProvider,
  hash: HashName,
  id: Pkcs12KdfId,
  password: Uint8Array,
  salt: Uint8Array,
  iterations: number,
  n: number,
): Promise<Uint8Array> {
  if (!Number.isSafeInteger(iterations) || iterations < 1)
    throw new CryptoError('bad-encrypted-key', `PKCS#12 KDF iteration count ${iterations} is not ≥ 1`);
  const v = BLOCK[hash];
  const u = LENGTH[hash];
  const h = provider.supportsSync ? (d: Uint8Array) => provider.digest(hash, d) : undefined;
  const digest = async (d: Uint8Array) => (h ? h(d) : provider.digestAsync(hash, d));
  const I = new Uint8Array([...repeatTo(salt, v), ...repeatTo(password, v)]);
  const out = new Uint8Array(n);
  const D = new Uint8Array(v).fill(id);
  const first = new Uint8Array(v + I.length);
  for (let off = 0; off < n; off += u) {
    first.set(D, 0);
    first.set(I, v);
    let a = await digest(first);
    for (let r = 1; r < iterations; r++) a = h ? h(a) : await provider.digestAsync(hash, a);
    out.set(a.subarray(0, Math.min(u, n - off)), off);
    if (off + u >= n) break;
    // I_j = (I_j + B + 1) mod 2^(8v), B = A repeated to v bytes (big-endian addition).
    for (let j = 0; j < I.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const s = I[j + k]! + a[k % u]! + carry;
        I[j + k] = s & 0xff;
        carry = s >> 8;
      }
    }
  }
  return out;
}
