import { DerError } from './errors.js';

/**
 * OBJECT IDENTIFIER content octets (X.690 §8.19) ⇄ dotted text.
 * Arcs are base-128 with the high bit as continuation; the first octet of each arc must not
 * be 0x80 (non-minimal). The first two arcs share one subidentifier: 40·a + b, a ∈ {0,1,2}.
 * Arcs beyond 2^53 are handled with BigInt, so any size round-trips.
 */

/** Hard bound on OID content length: no real OID comes close, and it bounds the loops below. */
export const MAX_OID_LENGTH = 1024;

/**
 * Decoded OIDs by content bytes. Real inputs use a few dozen OIDs over and over, so a hit saves
 * the arc arithmetic and the string building. Keyed by an FNV-1a hash of the bytes (no string
 * allocated per lookup); a hit is confirmed by comparing the bytes, so collisions only cost a miss.
 */
const decodeCache = new Map<number, { bytes: Uint8Array; text: string }>();
const encodeCache = new Map<string, Uint8Array>();
const CACHE_LIMIT = 4096;
/** Longest content cached: longer OIDs are rare (2.25.<uuid> is 18 octets). */
const CACHE_MAX_BYTES = 32;

function fnv1a(b: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5 ^ (end - start);
  for (let i = start; i < end; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  // 30 bits: V8 keeps small integers unboxed, so Map lookups stay on the fast path.
  return h & 0x3fffffff;
}

function sameBytes(a: Uint8Array, b: Uint8Array, start: number, end: number): boolean {
  if (a.length !== end - start) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[start + i]) return false;
  return true;
}

/** Decodes OID content octets; throws `bad-oid` with `offset` on malformed input. */
export function decodeOid(b: Uint8Array, offset = 0): string {
  return decodeOidRange(b, 0, b.length, offset);
}

/**
 * Decodes the OID content at b[start, end) without a subarray (the reader's hot path).
 * `offset` is the absolute offset reported in errors for the TLV; arc errors add their position.
 */
export function decodeOidRange(b: Uint8Array, start: number, end: number, offset = 0): string {
  const n = end - start;
  if (n === 0) throw new DerError('bad-oid', 'empty OBJECT IDENTIFIER', offset);
  if (n > MAX_OID_LENGTH) throw new DerError('bad-oid', 'OBJECT IDENTIFIER too long', offset);
  let key = -1;
  if (n <= CACHE_MAX_BYTES) {
    key = fnv1a(b, start, end);
    const hit = decodeCache.get(key);
    if (hit !== undefined && sameBytes(hit.bytes, b, start, end)) return hit.text;
  }
  const parts: string[] = [];
  let i = start;
  let first = true;
  while (i < end) {
    if (b[i] === 0x80)
      throw new DerError('bad-oid', 'non-minimal OID arc (leading 0x80)', offset + (i - start));
    let v = 0;
    let big: bigint | undefined;
    for (;;) {
      if (i >= end) throw new DerError('bad-oid', 'truncated OID arc', offset + (i - start));
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
  if (key >= 0 && decodeCache.size < CACHE_LIMIT)
    decodeCache.set(key, { bytes: b.slice(start, end), text: s });
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
