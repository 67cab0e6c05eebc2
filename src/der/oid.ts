import { DerError } from './errors.js';

/**
 * OBJECT IDENTIFIER content octets (X.690 §8.19) ⇄ dotted text.
 * Arcs are base-128 with the high bit as continuation; the first octet of each arc must not
 * be 0x80 (non-minimal). The first two arcs share one subidentifier: 40·a + b, a ∈ {0,1,2}.
 * Arcs beyond 2^53 are handled with BigInt, so any size round-trips.
 */

/** Hard bound on OID content length: no real OID comes close, and it bounds the loops below. */
export const MAX_OID_LENGTH = 1024;

const decodeCache = new Map<string, string>();
const encodeCache = new Map<string, Uint8Array>();
const CACHE_LIMIT = 4096;

function cacheKey(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]!);
  return s;
}

/** Decodes OID content octets; throws `bad-oid` with `offset` on malformed input. */
export function decodeOid(b: Uint8Array, offset = 0): string {
  if (b.length === 0) throw new DerError('bad-oid', 'empty OBJECT IDENTIFIER', offset);
  if (b.length > MAX_OID_LENGTH) throw new DerError('bad-oid', 'OBJECT IDENTIFIER too long', offset);
  const key = b.length <= 32 ? cacheKey(b) : undefined;
  if (key !== undefined) {
    const hit = decodeCache.get(key);
    if (hit !== undefined) return hit;
  }
  const parts: string[] = [];
  let i = 0;
  let first = true;
  while (i < b.length) {
    if (b[i] === 0x80) throw new DerError('bad-oid', 'non-minimal OID arc (leading 0x80)', offset + i);
    let v = 0;
    let big: bigint | undefined;
    for (;;) {
      if (i >= b.length) throw new DerError('bad-oid', 'truncated OID arc', offset + i);
      const c = b[i++]!;
      if (big === undefined && v > 0x3ffffffffff) big = BigInt(v);
      if (big !== undefined) big = (big << 7n) | BigInt(c & 0x7f);
      else v = v * 128 + (c & 0x7f);
      if ((c & 0x80) === 0) break;
    }
    if (first) {
      first = false;
      if (big !== undefined) {
        parts.push('2', (big - 80n).toString());
      } else if (v < 40) parts.push('0', String(v));
      else if (v < 80) parts.push('1', String(v - 40));
      else parts.push('2', String(v - 80));
    } else parts.push(big !== undefined ? big.toString() : String(v));
  }
  const s = parts.join('.');
  if (key !== undefined && decodeCache.size < CACHE_LIMIT) decodeCache.set(key, s);
  return s;
}

const OID_TEXT = /^[0-2](\.(0|[1-9][0-9]*))+$/;

/** Encodes dotted text to OID content octets; throws `cannot-encode` on invalid text. */
export function encodeOid(dotted: string): Uint8Array {
  const hit = encodeCache.get(dotted);
  if (hit) return hit;
  if (!OID_TEXT.test(dotted) || dotted.length > 4 * MAX_OID_LENGTH)
    throw new DerError('cannot-encode', `invalid OID text "${dotted.slice(0, 80)}"`, 0);
  const arcs = dotted.split('.').map((a) => BigInt(a));
  const a0 = arcs[0]!;
  const a1 = arcs[1]!;
  if (a0 < 2n && a1 >= 40n) throw new DerError('cannot-encode', `second OID arc too large in "${dotted}"`, 0);
  const subs = [a0 * 40n + a1, ...arcs.slice(2)];
  const out: number[] = [];
  for (const s of subs) {
    const tmp: number[] = [];
    let v = s;
    do {
      tmp.push(Number(v & 0x7fn));
      v >>= 7n;
    } while (v > 0n);
    for (let j = tmp.length - 1; j >= 0; j--) out.push(tmp[j]! | (j > 0 ? 0x80 : 0));
  }
  const bytes = Uint8Array.from(out);
  if (encodeCache.size < CACHE_LIMIT) encodeCache.set(dotted, bytes);
  return bytes;
}
