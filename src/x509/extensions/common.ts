import { DerError } from '../../der/errors.js';
import { DerReader } from '../../der/reader.js';
import { X509Error } from '../errors.js';
import { type GeneralName, readGeneralName } from '../general-name.js';

/**
 * Helpers shared by the extension codecs: running a decoder over an extnValue with absolute
 * error offsets, IMPLICIT-tagged primitives the DER reader has no direct call for, and the
 * GeneralNames checks that differ between SAN-like extensions and name constraints.
 */

/**
 * Runs `fn` over the whole extnValue `value` and requires it to be consumed. The outermost
 * reader is labelled `extnValue`, so error paths read e.g. `extnValue/SubjectAltName/GeneralName`.
 * Errors are rethrown with `offset` (the extnValue's absolute position in the enclosing
 * certificate/CRL) added, so they point into the caller's input.
 */
export function parseValue<T>(value: Uint8Array, offset: number, fn: (r: DerReader) => T): T {
  const r = DerReader.from(value, 'extnValue');
  try {
    const v = fn(r);
    r.finish();
    return v;
  } catch (e) {
    if (offset === 0) throw e;
    throw shiftError(e, offset);
  }
}

function shiftError(e: unknown, by: number): unknown {
  if (e instanceof DerError) {
    // DerError's message already ends with " at <path> (offset N)"; rebuild it for the new offset.
    const suffix = `${e.path.length ? ` at ${e.path.join('/')}` : ''} (offset ${e.offset})`;
    const msg = e.message.endsWith(suffix) ? e.message.slice(0, -suffix.length) : e.message;
    return new DerError(e.code, msg, e.offset + by, e.path);
  }
  if (e instanceof X509Error && e.offset !== undefined) {
    const suffix = ` (offset ${e.offset})`;
    const msg = e.message.endsWith(suffix) ? e.message.slice(0, -suffix.length) : e.message;
    return new X509Error(e.code, msg, e.offset + by, e.path);
  }
  return e;
}

/** Throws `X509Error(code)` at the reader's current position with its path. */
export function fail(
  r: DerReader,
  code: X509Error['code'],
  message: string,
  offset = r.pos,
  name?: string,
): never {
  throw new X509Error(code, message, offset, r.path(name));
}

/** INTEGER content with X.690 §8.3.2 minimality checked, for `[n] IMPLICIT INTEGER` fields. */
export function readImplicitInteger(r: DerReader, tag: number, name: string): Uint8Array {
  const v = r.readValue(tag, name);
  const off = r.lastOffset;
  if (v.length === 0) r.fail('bad-integer', `${name}: INTEGER with no content`, off, name);
  if (v.length > 1 && ((v[0] === 0 && !(v[1]! & 0x80)) || (v[0] === 0xff && v[1]! & 0x80)))
    r.fail('bad-integer', `${name}: non-minimal INTEGER`, off, name);
  return v;
}

/** A non-negative `[n] IMPLICIT INTEGER` in 0..max (default 2^31-1), e.g. SkipCerts, BaseDistance. */
export function readImplicitSmallInt(r: DerReader, tag: number, name: string, max = 0x7fffffff): number {
  const v = readImplicitInteger(r, tag, name);
  const off = r.lastOffset;
  if (v[0]! & 0x80) r.fail('integer-out-of-range', `${name} must not be negative`, off, name);
  if (v.length > 7) r.fail('integer-out-of-range', `${name} too large`, off, name);
  let n = 0;
  for (let i = 0; i < v.length; i++) n = n * 256 + v[i]!;
  if (n > max) r.fail('integer-out-of-range', `${name} = ${n} exceeds ${max}`, off, name);
  return n;
}

/**
 * `[n] IMPLICIT BOOLEAN DEFAULT FALSE`. Returns undefined when absent.
 * Tolerance: an explicitly encoded FALSE violates DER (X.690 §11.5) but is accepted, as for
 * basicConstraints.cA — deployed encoders write defaults, and webpki/Go accept them.
 */
export function readImplicitBoolean(r: DerReader, tag: number, name: string): boolean | undefined {
  if (r.peekTag() !== tag) return undefined;
  const v = r.readValue(tag, name);
  const off = r.lastOffset;
  if (v.length !== 1) r.fail('bad-boolean', `${name}: BOOLEAN length must be 1`, off, name);
  if (v[0] === 0xff) return true;
  if (v[0] === 0x00) return false;
  return r.fail('bad-boolean', `${name}: BOOLEAN must be 00 or FF in DER`, off, name);
}

/** A non-negative INTEGER of at most `maxOctets` magnitude octets, as a bigint (CRLNumber). */
export function readBoundedBigInt(r: DerReader, name: string, maxOctets: number): bigint {
  const start = r.pos;
  const v = r.readUnsignedInteger(name);
  if (v.length > maxOctets)
    r.fail('integer-out-of-range', `${name} longer than ${maxOctets} octets`, start, name);
  let n = 0n;
  for (let i = 0; i < v.length; i++) n = (n << 8n) | BigInt(v[i]!);
  return n;
}

/** GeneralNames (SIZE 1..MAX) whose iPAddress entries must be plain 4/16-byte addresses (SAN, IAN, …). */
export function readAddressNames(r: DerReader, name = 'GeneralNames'): GeneralName[] {
  const off = r.pos;
  const s = r.readSequence(name);
  return addressNamesContent(s, off, name);
}

/** The content of an already-opened GeneralNames (an IMPLICIT [n] GeneralNames), iPAddress 4/16 bytes. */
export function addressNamesContent(s: DerReader, off: number, name = 'GeneralNames'): GeneralName[] {
  const out: GeneralName[] = [];
  s.forEach('GeneralName', (e) => {
    const at = e.pos;
    const g = readGeneralName(e);
    checkAddress(e, g, at);
    out.push(g);
  });
  if (out.length === 0) throw new X509Error('empty-sequence', `${name} must not be empty`, off, s.path());
  return out;
}

/** RFC 5280 §4.2.1.6: an iPAddress outside name constraints is 4 (IPv4) or 16 (IPv6) octets. */
export function checkAddress(r: DerReader, g: GeneralName, at: number): void {
  if (g.type === 'iPAddress' && g.value.length !== 4 && g.value.length !== 16)
    throw new X509Error(
      'bad-general-name',
      `iPAddress of length ${g.value.length} (want 4 or 16)`,
      at,
      r.path('iPAddress'),
    );
}

/**
 * A named-bit BIT STRING (KeyUsage, ReasonFlags) as a bit mask (bit 0 = most significant bit of
 * the first octet). Bits at positions ≥ `count` are not defined by RFC 5280 and are rejected.
 *
 * Tolerance: X.690 §11.2.2 requires trailing zero bits to be removed, but deployed roots do not:
 * "Trustwave Global ECC P256/P384 Certification Authority" (Debian ca-certificates) encode
 * keyCertSign|cRLSign as `03 03 07 06 00` (a spare zero octet; minimal is `03 02 01 06`). Go and
 * OpenSSL accept such strings, so we do; padding bits must still be zero (X.690 §11.2.1, checked
 * by the DER reader). Encoders always write the minimal form.
 */
export function readNamedBits(r: DerReader, tag: number, name: string, count: number): number {
  const bs = r.readImplicitBitString(tag, name);
  const off = r.lastOffset;
  const b = bs.bytes;
  let mask = 0;
  for (let i = 0; i < b.length; i++) {
    const byte = b[i]!;
    if (byte === 0) continue;
    for (let j = 0; j < 8; j++)
      if (byte & (0x80 >> j)) {
        const bit = i * 8 + j;
        if (bit >= count) fail(r, 'bad-extension', `${name}: bit ${bit} is not defined`, off, name);
        mask |= 1 << bit;
      }
  }
  return mask;
}

/** Bit indexes set in `mask` (for `DerWriter.namedBits`, which writes the minimal form). */
export function maskBits(mask: number): number[] {
  const out: number[] = [];
  for (let i = 0; mask >> i; i++) if ((mask >> i) & 1) out.push(i);
  return out;
}

/** Encoder-side check mirroring `readAddressNames`: non-empty, iPAddress 4/16 bytes. */
export function checkAddressNamesForEncoding(v: readonly GeneralName[], what: string): void {
  if (v.length === 0) throw new X509Error('cannot-encode', `${what} must not be empty`);
  for (const g of v)
    if (g.type === 'iPAddress' && g.value.length !== 4 && g.value.length !== 16)
      throw new X509Error('cannot-encode', `${what}: iPAddress of length ${g.value.length} (want 4 or 16)`);
}
