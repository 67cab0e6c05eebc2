import { DerError, type DerErrorCode } from './errors.js';
import { decodeOidRange } from './oid.js';
import { decodeString, STRING_TAGS } from './strings.js';
import { Tag, tagName } from './tags.js';
import { decodeGeneralizedTime, decodeUtcTime } from './time.js';

/**
 * A strict, zero-copy DER reader (X.690 DER subset, as RFC 5280 requires).
 *
 * A `DerReader` is a window [pos, end) over one shared `Uint8Array`; every read either returns a
 * decoded primitive or a child reader / `subarray` view over the same bytes. Offsets in errors
 * are absolute in the original input. Rules enforced once, at the TLV level:
 * single-octet tags only (`high-tag-number`), definite lengths only (`indefinite-length`),
 * minimal length octets (`non-minimal-length`), at most 4 length octets and `limits.maxLength`
 * (`length-too-large`), the value must fit in its parent (`truncated`), nesting at most
 * `limits.maxDepth` (`too-deep`). `finish()` requires a window to be exhausted (`trailing-data`).
 *
 * Example:
 *   const r = DerReader.from(der, 'Certificate');
 *   const cert = r.readSequence('Certificate');
 *   const tbs = cert.readSequence('tbsCertificate');
 *   ...; cert.finish(); r.finish();
 */

export interface DerLimits {
  /** Maximum nesting of constructed values. X.509 needs < 16; 64 leaves room for odd extensions. */
  maxDepth: number;
  /** Maximum length of any single value, in bytes (default 256 MiB: far above a 1M-entry CRL). */
  maxLength: number;
  /** Maximum number of elements read by `forEach` in one SEQUENCE/SET OF. */
  maxElements: number;
}

export const DEFAULT_LIMITS: Readonly<DerLimits> = Object.freeze({
  maxDepth: 64,
  maxLength: 256 * 1024 * 1024,
  maxElements: 16 * 1024 * 1024,
});

/** A raw TLV: its tag, the whole encoding and the content octets (both views). */
export interface Tlv {
  tag: number;
  /** Absolute offset of the tag octet. */
  offset: number;
  der: Uint8Array;
  value: Uint8Array;
}

export interface BitString {
  /** Content bits, padding included; `unusedBits` low bits of the last byte are zero. */
  bytes: Uint8Array;
  unusedBits: number;
}

export class DerReader {
  /** Start (tag octet), content start and end of the value most recently read. */
  private tStart = 0;
  private cStart = 0;
  private cEnd = 0;

  constructor(
    readonly bytes: Uint8Array,
    public pos: number,
    readonly end: number,
    readonly depth: number,
    readonly label: string,
    readonly parent: DerReader | undefined,
    readonly limits: Readonly<DerLimits>,
  ) {}

  static from(bytes: Uint8Array, label: string, limits: Readonly<DerLimits> = DEFAULT_LIMITS): DerReader {
    // A Node Buffer's views are Buffers, each made by a class constructor (several times a
    // plain view's cost, and twice its heap): read a Buffer (or any subclass) through one plain
    // Uint8Array over the same memory, so the parsed fields are plain views too.
    const b =
      bytes.constructor === Uint8Array
        ? bytes
        : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return new DerReader(b, 0, b.length, 0, label, undefined, limits);
  }

  /** The breadcrumb of labels from the outermost reader down to this one. */
  path(extra?: string): string[] {
    const out: string[] = [];
    for (let r: DerReader | undefined = this; r; r = r.parent) out.push(r.label);
    out.reverse();
    if (extra) out.push(extra);
    return out;
  }

  /** Throws a `DerError` carrying this reader's path. */
  fail(code: DerErrorCode, message: string, offset = this.pos, name?: string): never {
    throw new DerError(code, message, offset, this.path(name));
  }

  atEnd(): boolean {
    return this.pos >= this.end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** The next tag octet, or -1 at the end of this window. */
  peekTag(): number {
    return this.pos < this.end ? this.bytes[this.pos]! : -1;
  }

  /** Requires this window to be fully consumed. */
  finish(): void {
    if (this.pos !== this.end)
      this.fail('trailing-data', `${this.end - this.pos} trailing byte(s) after ${this.label}`);
  }

  /** Reads one TLV header; returns its tag and records where the content is. */
  private header(name: string): number {
    const b = this.bytes;
    const end = this.end;
    const start = this.pos;
    let p = start;
    if (p >= end) this.fail('truncated', `expected ${name}, found end of data`, p, name);
    const tag = b[p++]!;
    if ((tag & 0x1f) === 0x1f) this.fail('high-tag-number', `high-tag-number form in ${name}`, start, name);
    if (p >= end) this.fail('truncated', `missing length in ${name}`, start, name);
    let len = b[p++]!;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0) this.fail('indefinite-length', `indefinite length in ${name}`, start, name);
      if (n > 4) this.fail('length-too-large', `${n} length octets in ${name}`, start, name);
      if (n > end - p) this.fail('truncated', `truncated length in ${name}`, start, name);
      if (b[p] === 0) this.fail('non-minimal-length', `leading zero length octet in ${name}`, start, name);
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + b[p++]!;
      if (len < 0x80) this.fail('non-minimal-length', `long-form length ${len} in ${name}`, start, name);
    }
    if (len > this.limits.maxLength)
      this.fail('length-too-large', `length ${len} of ${name} exceeds limit`, start, name);
    if (len > end - p)
      this.fail('truncated', `${name} needs ${len} bytes, ${end - p} available`, start, name);
    this.tStart = start;
    this.cStart = p;
    this.cEnd = p + len;
    this.pos = p + len;
    return tag;
  }

  private expect(tag: number, name: string): void {
    const start = this.pos;
    const got = this.header(name);
    if (got !== tag) {
      this.pos = start;
      if ((got ^ tag) === 0x20)
        this.fail('bad-constructed-bit', `${name}: wrong constructed bit on ${tagName(tag)}`, start, name);
      this.fail('unexpected-tag', `${name}: expected ${tagName(tag)}, found ${tagName(got)}`, start, name);
    }
  }

  private child(name: string): DerReader {
    if (this.depth + 1 > this.limits.maxDepth)
      this.fail('too-deep', `nesting deeper than ${this.limits.maxDepth}`, this.tStart, name);
    return new DerReader(this.bytes, this.cStart, this.cEnd, this.depth + 1, name, this, this.limits);
  }

  /** Absolute offset of the value most recently read (its tag octet). */
  get lastOffset(): number {
    return this.tStart;
  }

  // ---- constructed values ----

  readConstructed(tag: number, name: string): DerReader {
    this.expect(tag, name);
    return this.child(name);
  }
  readSequence(name: string): DerReader {
    return this.readConstructed(Tag.SEQUENCE, name);
  }
  /** A SET OF whose elements must be in DER order (X.690 §11.6). */
  readSetOf(name: string): DerReader {
    const r = this.readConstructed(Tag.SET, name);
    r.checkSetOrder();
    return r;
  }
  /** `[n] EXPLICIT` (or IMPLICIT of a constructed type): a child reader over its content. */
  readExplicit(n: number, name: string): DerReader {
    return this.readConstructed(0xa0 | n, name);
  }
  readOptionalExplicit(n: number, name: string): DerReader | undefined {
    return this.peekTag() === (0xa0 | n) ? this.readConstructed(0xa0 | n, name) : undefined;
  }
  readOptionalSequence(name: string): DerReader | undefined {
    return this.peekTag() === Tag.SEQUENCE ? this.readSequence(name) : undefined;
  }

  private checkSetOrder(): void {
    const save = this.pos;
    const b = this.bytes;
    // Previous element as a range [ps, pe) of the shared buffer: no subarray per element.
    let ps = -1;
    let pe = -1;
    let count = 0;
    while (this.pos < this.end) {
      if (++count > this.limits.maxElements) this.fail('too-many-elements', 'too many SET OF elements');
      this.header('element');
      const cs = this.tStart;
      const ce = this.cEnd;
      if (ps >= 0 && compareRanges(b, ps, pe, cs, ce) > 0)
        this.fail('set-not-sorted', `SET OF elements of ${this.label} not in DER order`, cs);
      ps = cs;
      pe = ce;
    }
    this.pos = save;
  }

  /** Calls `fn` with a reader positioned at each remaining element (bounded by `maxElements`). */
  forEach(name: string, fn: (r: DerReader, index: number) => void): number {
    let i = 0;
    while (this.pos < this.end) {
      if (i >= this.limits.maxElements) this.fail('too-many-elements', `more than ${i} ${name}`);
      fn(this, i++);
    }
    return i;
  }

  // ---- raw values ----

  /** Content octets of a value with exactly this tag (primitive or constructed). */
  readValue(tag: number, name: string): Uint8Array {
    this.expect(tag, name);
    return this.bytes.subarray(this.cStart, this.cEnd);
  }
  readOptionalValue(tag: number, name: string): Uint8Array | undefined {
    return this.peekTag() === tag ? this.readValue(tag, name) : undefined;
  }

  /** The whole TLV encoding of a value with this tag. */
  readTlvBytes(tag: number, name: string): Uint8Array {
    this.expect(tag, name);
    return this.bytes.subarray(this.tStart, this.cEnd);
  }

  /** Any value, whatever its tag. */
  readAny(name: string): Tlv {
    const tag = this.header(name);
    return {
      tag,
      offset: this.tStart,
      der: this.bytes.subarray(this.tStart, this.cEnd),
      value: this.bytes.subarray(this.cStart, this.cEnd),
    };
  }

  /** A child reader over the content of the value just returned by `readAny`-like reads of `tag`. */
  readAnyConstructed(name: string): { tag: number; reader: DerReader } {
    const tag = this.header(name);
    if (!(tag & 0x20)) this.fail('bad-constructed-bit', `${name} must be constructed`, this.tStart, name);
    return { tag, reader: this.child(name) };
  }

  // ---- primitives ----

  /** INTEGER content, minimal two's-complement form checked (X.690 §8.3.2). */
  readInteger(name: string): Uint8Array {
    this.expect(Tag.INTEGER, name);
    return this.integerContent(name);
  }

  private integerContent(name: string): Uint8Array {
    const b = this.bytes;
    const s = this.cStart;
    const n = this.cEnd - s;
    if (n === 0) this.fail('bad-integer', `${name}: INTEGER with no content`, this.tStart, name);
    if (n > 1 && ((b[s] === 0 && !(b[s + 1]! & 0x80)) || (b[s] === 0xff && b[s + 1]! & 0x80)))
      this.fail('bad-integer', `${name}: non-minimal INTEGER`, this.tStart, name);
    return b.subarray(s, this.cEnd);
  }

  /** A non-negative INTEGER as its magnitude bytes (a leading 00 sign octet stripped). */
  readUnsignedInteger(name: string): Uint8Array {
    const v = this.readInteger(name);
    if (v[0]! & 0x80) this.fail('integer-out-of-range', `${name} must not be negative`, this.tStart, name);
    return v[0] === 0 && v.length > 1 ? v.subarray(1) : v;
  }

  /** A non-negative INTEGER that fits in 0..max (default 2^31-1), as a number. */
  readSmallInt(name: string, max = 0x7fffffff): number {
    const v = this.readInteger(name);
    return this.smallValue(v, name, max);
  }

  private smallValue(v: Uint8Array, name: string, max: number): number {
    if (v[0]! & 0x80) this.fail('integer-out-of-range', `${name} must not be negative`, this.tStart, name);
    if (v.length > 7) this.fail('integer-out-of-range', `${name} too large`, this.tStart, name);
    let n = 0;
    for (let i = 0; i < v.length; i++) n = n * 256 + v[i]!;
    if (n > max) this.fail('integer-out-of-range', `${name} = ${n} exceeds ${max}`, this.tStart, name);
    return n;
  }

  /** A signed INTEGER of any size, as a bigint. */
  readBigInt(name: string): bigint {
    const v = this.readInteger(name);
    let n = 0n;
    for (let i = 0; i < v.length; i++) n = (n << 8n) | BigInt(v[i]!);
    if (v[0]! & 0x80) n -= 1n << BigInt(v.length * 8);
    return n;
  }

  readEnumerated(name: string, max = 0x7fffffff): number {
    this.expect(Tag.ENUMERATED, name);
    return this.smallValue(this.integerContent(name), name, max);
  }

  readBoolean(name: string): boolean {
    this.expect(Tag.BOOLEAN, name);
    if (this.cEnd - this.cStart !== 1)
      this.fail('bad-boolean', `${name}: BOOLEAN length must be 1`, this.tStart, name);
    const v = this.bytes[this.cStart];
    if (v === 0xff) return true;
    if (v === 0x00) return false;
    return this.fail('bad-boolean', `${name}: BOOLEAN must be 00 or FF in DER`, this.tStart, name);
  }

  readNull(name: string): void {
    this.expect(Tag.NULL, name);
    if (this.cEnd !== this.cStart) this.fail('bad-null', `${name}: NULL with content`, this.tStart, name);
  }

  readOid(name: string): string {
    this.expect(Tag.OID, name);
    return this.oidContent(name);
  }

  private oidContent(name: string): string {
    try {
      return decodeOidRange(this.bytes, this.cStart, this.cEnd, this.tStart);
    } catch (e) {
      if (e instanceof DerError)
        throw new DerError(e.code, e.message.replace(/ \(offset \d+\)$/, ''), e.offset, this.path(name));
      throw e;
    }
  }

  /** BIT STRING with DER rules: unused-bits 0..7, 0 for empty, padding bits zero (X.690 §11.2.1). */
  readBitString(name: string): BitString {
    this.expect(Tag.BIT_STRING, name);
    return this.bitStringContent(this.tStart, this.cStart, this.cEnd, name);
  }

  /** BIT STRING whose content is bytes (unused bits 0), e.g. signatureValue and subjectPublicKey. */
  readBitStringBytes(name: string): Uint8Array {
    const bs = this.readBitString(name);
    if (bs.unusedBits !== 0) this.fail('bad-bit-string', `${name}: must be whole octets`, this.tStart, name);
    return bs.bytes;
  }

  /** An `[n] IMPLICIT BIT STRING` (or other tag) with BIT STRING content rules. */
  readImplicitBitString(tag: number, name: string): BitString {
    this.expect(tag, name);
    return this.bitStringContent(this.tStart, this.cStart, this.cEnd, name);
  }

  private bitStringContent(t: number, s: number, e: number, name: string): BitString {
    const b = this.bytes;
    if (e === s) this.fail('bad-bit-string', `${name}: BIT STRING with no content`, t, name);
    const unused = b[s]!;
    if (unused > 7) this.fail('bad-bit-string', `${name}: unused bits ${unused} > 7`, t, name);
    if (e - s === 1 && unused !== 0)
      this.fail('bad-bit-string', `${name}: empty BIT STRING with unused bits`, t, name);
    if (unused && b[e - 1]! & ((1 << unused) - 1))
      this.fail('bad-bit-string', `${name}: non-zero padding bits`, t, name);
    return { bytes: b.subarray(s + 1, e), unusedBits: unused };
  }

  readOctetString(name: string): Uint8Array {
    return this.readValue(Tag.OCTET_STRING, name);
  }

  /** UTCTime or GeneralizedTime (RFC 5280 `Time` CHOICE), as epoch milliseconds. */
  readTime(name: string): number {
    const tag = this.header(name);
    const v = this.bytes.subarray(this.cStart, this.cEnd);
    try {
      if (tag === Tag.UTCTime) return decodeUtcTime(v, this.tStart);
      if (tag === Tag.GeneralizedTime) return decodeGeneralizedTime(v, this.tStart);
    } catch (e) {
      if (e instanceof DerError)
        throw new DerError(
          e.code,
          `${name}: ${e.message.replace(/ \(offset \d+\)$/, '')}`,
          e.offset,
          this.path(name),
        );
      throw e;
    }
    this.pos = this.tStart;
    return this.fail('unexpected-tag', `${name}: expected a time, found ${tagName(tag)}`, this.tStart, name);
  }

  readGeneralizedTime(name: string): number {
    this.expect(Tag.GeneralizedTime, name);
    try {
      return decodeGeneralizedTime(this.bytes.subarray(this.cStart, this.cEnd), this.tStart);
    } catch (e) {
      if (e instanceof DerError)
        throw new DerError(
          e.code,
          `${name}: ${e.message.replace(/ \(offset \d+\)$/, '')}`,
          e.offset,
          this.path(name),
        );
      throw e;
    }
  }

  /** Any character-string type (DirectoryString and friends), alphabet checked. */
  readString(name: string, allowed: ReadonlySet<number> = STRING_TAGS): { tag: number; value: string } {
    const tag = this.header(name);
    if (!allowed.has(tag)) {
      this.pos = this.tStart;
      this.fail(
        'unexpected-tag',
        `${name}: ${tagName(tag)} is not an allowed string type`,
        this.tStart,
        name,
      );
    }
    return { tag, value: this.stringContent(tag, name) };
  }

  /** A string of exactly this tag (e.g. IA5String, or `[n] IMPLICIT IA5String` with `as`). */
  readStringOf(tag: number, name: string, as: number = tag): string {
    this.expect(tag, name);
    return this.stringContent(as, name);
  }

  private stringContent(tag: number, name: string): string {
    try {
      return decodeString(tag, this.bytes.subarray(this.cStart, this.cEnd), this.tStart);
    } catch (e) {
      if (e instanceof DerError)
        throw new DerError(
          e.code,
          `${name}: ${e.message.replace(/ \(offset \d+\)$/, '')}`,
          e.offset,
          this.path(name),
        );
      throw e;
    }
  }
}

/** Unsigned lexicographic order of b[as, ae) and b[bs, be) (X.690 §11.6 SET OF order). */
function compareRanges(b: Uint8Array, as: number, ae: number, bs: number, be: number): number {
  const n = Math.min(ae - as, be - bs);
  for (let i = 0; i < n; i++) {
    const d = b[as + i]! - b[bs + i]!;
    if (d !== 0) return d;
  }
  return ae - as - (be - bs);
}

/** Parses a whole input with `fn`, then requires that nothing is left over. */
export function parseDer<T>(
  bytes: Uint8Array,
  label: string,
  fn: (r: DerReader) => T,
  limits: Readonly<DerLimits> = DEFAULT_LIMITS,
): T {
  const r = DerReader.from(bytes, label, limits);
  const v = fn(r);
  r.finish();
  return v;
}
