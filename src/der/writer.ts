import { asciiBytes, compareBytes, utf8Encode } from './bytes.js';
import { DerError } from './errors.js';
import { encodeOid } from './oid.js';
import { isPrintableStringByte } from './strings.js';
import { Tag } from './tags.js';
import { encodeGeneralizedTime, encodeUtcTime, useUtcTime } from './time.js';

/**
 * A DER writer in the style of Go's cryptobyte builder: a constructed value is written by a
 * callback that adds its children; the minimal length is filled in afterwards (one length byte
 * is reserved and the content shifted when it needs the long form). SET OF contents are sorted
 * (X.690 §11.6), which cryptobyte leaves to its caller. The output is always canonical DER.
 *
 * Example:
 *   const der = encodeDer((w) => w.sequence((w) => { w.integer(1); w.oid('2.5.4.3'); }));
 */
export class DerWriter {
  private buf: Uint8Array;
  private n = 0;

  /** `initial`: a size, or a scratch buffer to start in (encodeDer lends one; it is never returned). */
  constructor(initial: number | Uint8Array = 256) {
    this.buf = typeof initial === 'number' ? new Uint8Array(initial) : initial;
  }

  get length(): number {
    return this.n;
  }

  private ensure(k: number): void {
    if (this.n + k <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.n + k) size *= 2;
    const nb = new Uint8Array(size);
    nb.set(this.buf.subarray(0, this.n));
    this.buf = nb;
  }

  private header(tag: number, len: number): void {
    this.ensure(6);
    const b = this.buf;
    b[this.n++] = tag;
    if (len < 0x80) b[this.n++] = len;
    else if (len < 0x100) {
      b[this.n++] = 0x81;
      b[this.n++] = len;
    } else if (len < 0x10000) {
      b[this.n++] = 0x82;
      b[this.n++] = len >> 8;
      b[this.n++] = len & 0xff;
    } else if (len < 0x1000000) {
      b[this.n++] = 0x83;
      b[this.n++] = len >> 16;
      b[this.n++] = (len >> 8) & 0xff;
      b[this.n++] = len & 0xff;
    } else {
      b[this.n++] = 0x84;
      b[this.n++] = (len >>> 24) & 0xff;
      b[this.n++] = (len >> 16) & 0xff;
      b[this.n++] = (len >> 8) & 0xff;
      b[this.n++] = len & 0xff;
    }
  }

  /** A primitive (or pre-encoded constructed) value: tag, length, content. */
  tlv(tag: number, content: Uint8Array): this {
    this.header(tag, content.length);
    this.ensure(content.length);
    this.buf.set(content, this.n);
    this.n += content.length;
    return this;
  }

  /** Pre-encoded DER (one or more whole TLVs) copied verbatim. */
  raw(der: Uint8Array): this {
    this.ensure(der.length);
    this.buf.set(der, this.n);
    this.n += der.length;
    return this;
  }

  constructed(tag: number, fn: (w: this) => void): this {
    this.ensure(2);
    this.buf[this.n++] = tag;
    const lenPos = this.n++;
    fn(this);
    this.fixLength(lenPos);
    return this;
  }

  private fixLength(lenPos: number): void {
    const len = this.n - lenPos - 1;
    if (len < 0x80) {
      this.buf[lenPos] = len;
      return;
    }
    const k = len < 0x100 ? 1 : len < 0x10000 ? 2 : len < 0x1000000 ? 3 : 4;
    this.ensure(k);
    const b = this.buf;
    b.copyWithin(lenPos + 1 + k, lenPos + 1, this.n);
    this.n += k;
    b[lenPos] = 0x80 | k;
    for (let i = k; i >= 1; i--) b[lenPos + i] = (len >>> ((k - i) * 8)) & 0xff;
  }

  sequence(fn: (w: this) => void): this {
    return this.constructed(Tag.SEQUENCE, fn);
  }

  /** `[n] EXPLICIT` wrapper (also `[n] IMPLICIT` of a constructed type). */
  explicit(n: number, fn: (w: this) => void): this {
    return this.constructed(0xa0 | n, fn);
  }

  /** SET OF: children are sorted by their encodings after being written (X.690 §11.6). */
  setOf(fn: (w: this) => void): this {
    this.ensure(2);
    this.buf[this.n++] = Tag.SET;
    const lenPos = this.n++;
    const start = this.n;
    fn(this);
    this.sortTlvs(start, this.n);
    this.fixLength(lenPos);
    return this;
  }

  private sortTlvs(start: number, end: number): void {
    const items: Uint8Array[] = [];
    let p = start;
    const b = this.buf;
    while (p < end) {
      let len = b[p + 1]!;
      let hdr = 2;
      if (len & 0x80) {
        const k = len & 0x7f;
        len = 0;
        for (let i = 0; i < k; i++) len = len * 256 + b[p + 2 + i]!;
        hdr += k;
      }
      items.push(b.slice(p, p + hdr + len));
      p += hdr + len;
    }
    if (items.length < 2) return;
    items.sort(compareBytes);
    p = start;
    for (const it of items) {
      b.set(it, p);
      p += it.length;
    }
  }

  // ---- primitives ----

  boolean(v: boolean): this {
    this.ensure(3);
    this.buf[this.n++] = Tag.BOOLEAN;
    this.buf[this.n++] = 1;
    this.buf[this.n++] = v ? 0xff : 0;
    return this;
  }

  null(): this {
    this.ensure(2);
    this.buf[this.n++] = Tag.NULL;
    this.buf[this.n++] = 0;
    return this;
  }

  /** INTEGER from a number, bigint, or two's-complement content bytes (checked minimal). */
  integer(v: number | bigint | Uint8Array, tag: number = Tag.INTEGER): this {
    if (v instanceof Uint8Array) {
      if (
        v.length === 0 ||
        (v.length > 1 && ((v[0] === 0 && !(v[1]! & 0x80)) || (v[0] === 0xff && v[1]! & 0x80)))
      )
        throw new DerError('cannot-encode', 'INTEGER content is not minimal', this.n);
      return this.tlv(tag, v);
    }
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v)) throw new DerError('cannot-encode', `not an integer: ${v}`, this.n);
      if (v >= 0 && v < 0x80) {
        this.ensure(3);
        this.buf[this.n++] = tag;
        this.buf[this.n++] = 1;
        this.buf[this.n++] = v;
        return this;
      }
      v = BigInt(v);
    }
    return this.tlv(tag, bigIntContent(v));
  }

  /** A non-negative INTEGER from its unsigned magnitude (sign octet added when needed). */
  unsignedInteger(magnitude: Uint8Array, tag: number = Tag.INTEGER): this {
    let i = 0;
    while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
    const m = magnitude.subarray(i);
    if (m.length === 0) return this.tlv(tag, new Uint8Array(1));
    if (m[0]! & 0x80) {
      this.header(tag, m.length + 1);
      this.ensure(m.length + 1);
      this.buf[this.n++] = 0;
      this.buf.set(m, this.n);
      this.n += m.length;
      return this;
    }
    return this.tlv(tag, m);
  }

  enumerated(v: number): this {
    return this.integer(v, Tag.ENUMERATED);
  }

  oid(dotted: string): this {
    return this.tlv(Tag.OID, encodeOid(dotted));
  }

  /** BIT STRING of whole bytes, or with `unusedBits` trailing bits that must already be zero. */
  bitString(bytes: Uint8Array, unusedBits = 0, tag: number = Tag.BIT_STRING): this {
    if (unusedBits < 0 || unusedBits > 7 || (bytes.length === 0 && unusedBits !== 0))
      throw new DerError('cannot-encode', 'bad unused-bits count', this.n);
    if (unusedBits && bytes[bytes.length - 1]! & ((1 << unusedBits) - 1))
      throw new DerError('cannot-encode', 'BIT STRING padding bits must be zero', this.n);
    this.header(tag, bytes.length + 1);
    this.ensure(bytes.length + 1);
    this.buf[this.n++] = unusedBits;
    this.buf.set(bytes, this.n);
    this.n += bytes.length;
    return this;
  }

  /**
   * A named-bit BIT STRING (e.g. KeyUsage) from bit indexes, with trailing zero bits removed
   * as DER requires for named bit lists (X.690 §11.2.2).
   */
  namedBits(bits: Iterable<number>, tag: number = Tag.BIT_STRING): this {
    let max = -1;
    const set: number[] = [];
    for (const b of bits) {
      set.push(b);
      if (b > max) max = b;
    }
    if (max < 0) return this.bitString(new Uint8Array(0), 0, tag);
    const bytes = new Uint8Array((max >> 3) + 1);
    for (const b of set) bytes[b >> 3]! |= 0x80 >> (b & 7);
    return this.bitString(bytes, 7 - (max & 7), tag);
  }

  octetString(bytes: Uint8Array): this {
    return this.tlv(Tag.OCTET_STRING, bytes);
  }

  /** OCTET STRING whose content is DER written by `fn` (extension values). */
  octetStringOf(fn: (w: this) => void): this {
    return this.constructedAsPrimitive(Tag.OCTET_STRING, fn);
  }

  /** BIT STRING (0 unused bits) whose content is DER written by `fn`. */
  bitStringOf(fn: (w: this) => void): this {
    this.ensure(3);
    this.buf[this.n++] = Tag.BIT_STRING;
    const lenPos = this.n++;
    this.buf[this.n++] = 0;
    fn(this);
    this.fixLength(lenPos);
    return this;
  }

  private constructedAsPrimitive(tag: number, fn: (w: this) => void): this {
    this.ensure(2);
    this.buf[this.n++] = tag;
    const lenPos = this.n++;
    fn(this);
    this.fixLength(lenPos);
    return this;
  }

  utf8String(s: string, tag: number = Tag.UTF8String): this {
    return this.tlv(tag, utf8Encode(s));
  }

  printableString(s: string): this {
    const b = asciiBytes(s);
    for (const c of b)
      if (!isPrintableStringByte(c) || c === 0x2a || c === 0x26)
        throw new DerError('cannot-encode', `"${s}" is not a PrintableString`, this.n);
    return this.tlv(Tag.PrintableString, b);
  }

  ia5String(s: string, tag: number = Tag.IA5String): this {
    // Checked, then written straight into the buffer (no intermediate array: see encodeDer).
    const len = s.length;
    for (let i = 0; i < len; i++) {
      const c = s.charCodeAt(i);
      if (c > 0xff) throw new TypeError('non-Latin-1 character');
      if (c > 0x7f) throw new DerError('cannot-encode', `"${s}" is not an IA5String`, this.n);
    }
    this.header(tag, len);
    this.ensure(len);
    const b = this.buf;
    let n = this.n;
    for (let i = 0; i < len; i++) b[n++] = s.charCodeAt(i);
    this.n = n;
    return this;
  }

  utcTime(ms: number): this {
    return this.tlv(Tag.UTCTime, asciiBytes(encodeUtcTime(ms)));
  }

  generalizedTime(ms: number): this {
    return this.tlv(Tag.GeneralizedTime, asciiBytes(encodeGeneralizedTime(ms)));
  }

  /** RFC 5280 `Time`: UTCTime through 2049, GeneralizedTime from 2050 (§4.1.2.5). */
  time(ms: number | Date): this {
    const t = typeof ms === 'number' ? ms : ms.getTime();
    return useUtcTime(t) ? this.utcTime(t) : this.generalizedTime(t);
  }

  /** The encoded bytes (a copy; the writer may be reused after `reset`). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.n);
  }

  reset(): void {
    this.n = 0;
  }
}

function bigIntContent(v: bigint): Uint8Array {
  if (v >= 0n) {
    let h = v.toString(16);
    if (h.length % 2) h = `0${h}`;
    if (Number.parseInt(h[0]!, 16) >= 8) h = `00${h}`;
    return hexToBytes(h);
  }
  // Two's complement of a negative value in the fewest octets.
  let bytes = 1;
  while (v < -(1n << BigInt(bytes * 8 - 1))) bytes++;
  const u = (1n << BigInt(bytes * 8)) + v;
  return hexToBytes(u.toString(16).padStart(bytes * 2, '0'));
}

function hexToBytes(h: string): Uint8Array {
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(h.substr(i * 2, 2), 16);
  return out;
}

/**
 * Scratch buffers lent to `encodeDer`'s writers. A fresh typed array over 64 bytes gets its own
 * off-heap backing store in V8 (1.5–2.5 µs, as much as encoding a small extension), so writers
 * start in a pooled 2 KiB buffer instead and only `finish()`'s exact-size copy is allocated.
 * A stack, so nested encodeDer calls each get their own; bounded (MAX_SCRATCH); zeroed on
 * return, since the bytes may be secrets (private key encodings use encodeDer too).
 */
const SCRATCH_SIZE = 2048;
const MAX_SCRATCH = 8;
const scratch: Uint8Array[] = [];

/** Encodes with a fresh writer and returns the bytes (an exactly-sized copy the caller owns). */
export function encodeDer(fn: (w: DerWriter) => void, initialSize = 256): Uint8Array {
  if (initialSize > SCRATCH_SIZE) {
    const w = new DerWriter(initialSize);
    fn(w);
    return w.finish();
  }
  const buf = scratch.pop() ?? new Uint8Array(SCRATCH_SIZE);
  const w = new DerWriter(buf);
  try {
    fn(w);
    return w.finish();
  } finally {
    // The writer may have outgrown `buf`; whatever it wrote into `buf` is cleared either way.
    buf.fill(0, 0, Math.min(w.length, SCRATCH_SIZE));
    if (scratch.length < MAX_SCRATCH) scratch.push(buf);
  }
}
