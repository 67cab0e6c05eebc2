import { Slabs } from '../der/alloc.js';
import { DerWriter } from '../der/writer.js';
import type { SignatureAlgorithm } from '../x509/algorithm.js';
import { curveByName } from '../x509/curves.js';
import type { Extension } from '../x509/extensions/types.js';
import type { SubjectPublicKeyInfo } from '../x509/spki.js';

/**
 * Assembly of a TBSCertificate and a Certificate from pre-encoded TLVs (the issuer's constant
 * parts, the subject Name DER, the SPKI DER, encoded extensions) with no intermediate writers.
 * Produces exactly what x509/encode.ts's `writeTbsCertificate`/`encodeSigned` produce (the tests
 * compare them byte for byte); it exists because issuance runs at the raw signing rate and every
 * allocation shows.
 *
 * Memory: certificates are assembled in shared 8 KiB slabs that hold nothing but certificates
 * (public data), the way Node's Buffer pool shares its slabs. The TBS is written at the offset it
 * will have in the Certificate, with room behind it for the largest signature the issuer's key
 * can make; the signer signs that view and the signature is appended in place. A slab view costs
 * ~0.15 µs; an ArrayBuffer of its own per certificate cost 0.5 µs alone and 0.8–1.3 µs beside
 * OpenSSL's signing (measured: the off-heap allocation and its sweeping interleave with
 * OpenSSL's own mallocs), 3–4 % of the issuance rate. So `der.buffer` is shared: never transfer
 * it and never wrap it whole; `IssuedCertificate.copy()` gives bytes of their own. Assemblies
 * above 2 KiB (large RSA keys, long SAN lists) get a buffer of their own.
 *
 *   TBSCertificate ::= SEQUENCE { [0] EXPLICIT Version (v3 = 2), serialNumber INTEGER,
 *     signature AlgorithmIdentifier, issuer Name, validity Validity, subject Name,
 *     subjectPublicKeyInfo, [3] EXPLICIT Extensions }                        -- RFC 5280 §4.1
 */

const headerLength = (n: number): number => (n < 0x80 ? 2 : n < 0x100 ? 3 : n < 0x10000 ? 4 : 5);

function putHeader(b: Uint8Array, p: number, tag: number, n: number): number {
  b[p++] = tag;
  if (n < 0x80) b[p++] = n;
  else if (n < 0x100) {
    b[p++] = 0x81;
    b[p++] = n;
  } else if (n < 0x10000) {
    b[p++] = 0x82;
    b[p++] = n >> 8;
    b[p++] = n & 0xff;
  } else {
    b[p++] = 0x83;
    b[p++] = n >> 16;
    b[p++] = (n >> 8) & 0xff;
    b[p++] = n & 0xff;
  }
  return p;
}

const VERSION_3 = Uint8Array.of(0xa0, 0x03, 0x02, 0x01, 0x02);

/** Slabs of certificate assemblies (see above): never secrets, never anything but certificates. */
const certificateSlabs = new Slabs(8192, 2048);

// Validity for consecutive certificates is usually identical (same second, same profile):
// keep the last encoding.
let lastNotBefore = Number.NaN;
let lastNotAfter = Number.NaN;
let lastValidity: Uint8Array = new Uint8Array(0);

/** Validity ::= SEQUENCE { notBefore Time, notAfter Time } (RFC 5280 §4.1.2.5 time choice). */
export function encodeValidity(notBefore: number, notAfter: number): Uint8Array {
  if (notBefore === lastNotBefore && notAfter === lastNotAfter) return lastValidity;
  const w = new DerWriter(40);
  w.sequence((w) => w.time(notBefore).time(notAfter));
  lastValidity = w.finish();
  lastNotBefore = notBefore;
  lastNotAfter = notAfter;
  return lastValidity;
}

export interface TbsParts {
  /** INTEGER content octets (1..20, checked by the linter). */
  serialNumber: Uint8Array;
  signatureAlgorithm: Uint8Array;
  issuer: Uint8Array;
  validity: Uint8Array;
  subject: Uint8Array;
  spki: Uint8Array;
  extensions: readonly Extension[];
}

/** A TBSCertificate written at its final place inside the buffer its Certificate will use. */
export interface TbsInPlace {
  /** The TBSCertificate (the bytes to sign): a view into `buffer`. */
  tbs: Uint8Array;
  /** The assembly area (a slab view): Certificate header, TBS, room for signatureAlgorithm and signatureValue. */
  buffer: Uint8Array;
  /** Length of the Certificate SEQUENCE header the room was sized for (= the TBS offset). */
  header: number;
}

/**
 * Writes the TBSCertificate into a fresh buffer with `tail` octets of room behind it (the
 * signatureAlgorithm and the BIT STRING of the largest expected signature; see `signedTail`).
 * With `tail` 0 the buffer holds exactly the TBS.
 */
export function assembleTbs(t: TbsParts, tail = 0): TbsInPlace {
  let extLen = 0;
  for (const e of t.extensions) extLen += e.der.length;
  const seqLen = extLen > 0 ? headerLength(extLen) + extLen : 0;
  const a3Len = seqLen > 0 ? headerLength(seqLen) + seqLen : 0;
  const content =
    VERSION_3.length +
    2 +
    t.serialNumber.length +
    t.signatureAlgorithm.length +
    t.issuer.length +
    t.validity.length +
    t.subject.length +
    t.spki.length +
    a3Len;
  const tbsLen = headerLength(content) + content;
  const header = tail > 0 ? headerLength(tbsLen + tail) : 0;
  const buffer = certificateSlabs.alloc(header + tbsLen + tail);
  let p = putHeader(buffer, header, 0x30, content);
  buffer.set(VERSION_3, p);
  p += VERSION_3.length;
  p = putHeader(buffer, p, 0x02, t.serialNumber.length);
  buffer.set(t.serialNumber, p);
  p += t.serialNumber.length;
  buffer.set(t.signatureAlgorithm, p);
  p += t.signatureAlgorithm.length;
  buffer.set(t.issuer, p);
  p += t.issuer.length;
  buffer.set(t.validity, p);
  p += t.validity.length;
  buffer.set(t.subject, p);
  p += t.subject.length;
  buffer.set(t.spki, p);
  p += t.spki.length;
  if (extLen > 0) {
    p = putHeader(buffer, p, 0xa3, seqLen);
    p = putHeader(buffer, p, 0x30, extLen);
    for (const e of t.extensions) {
      buffer.set(e.der, p);
      p += e.der.length;
    }
  }
  return { tbs: buffer.subarray(header, header + tbsLen), buffer, header };
}

/**
 * The room `assembleTbs` must leave for signatureAlgorithm and the signatureValue BIT STRING, or
 * 0 when the largest signature is not known in advance (the Certificate is then copied once).
 */
export function signedTail(
  signatureAlgorithm: Uint8Array,
  alg: SignatureAlgorithm,
  key: SubjectPublicKeyInfo,
): number {
  const max = maxSignatureLength(alg, key);
  return max === 0 ? 0 : signatureAlgorithm.length + headerLength(max + 1) + max + 1;
}

/** The longest signature `key` makes with `alg` in X.509's encoding, 0 if unknown. */
function maxSignatureLength(alg: SignatureAlgorithm, key: SubjectPublicKeyInfo): number {
  switch (alg.kind) {
    case 'ecdsa': {
      // RFC 3279 §2.2.3 Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }, 0 < r, s < n:
      // each INTEGER holds at most ⌊bits/8⌋ + 1 octets (a 00 sign octet when the order's bit
      // length is a multiple of 8; P-521's 521 bits need none).
      const k = key.keyAlgorithm;
      const c = k.kind === 'ec' ? curveByName(k.curve) : undefined;
      if (!c) return 0;
      const content = 2 * (2 + (c.bits >> 3) + 1);
      return headerLength(content) + content;
    }
    case 'rsa-pkcs1':
    case 'rsa-pss':
      // RFC 8017 §8.1.1, §8.2.1: exactly the modulus length.
      return Math.ceil(key.keySize / 8);
    case 'ed25519':
      return 64; // RFC 8032 §5.1.6
    case 'ed448':
      return 114; // RFC 8032 §5.2.6
    default:
      return 0;
  }
}

/**
 * Certificate (or CRL, CSR) ::= SEQUENCE { tbs, signatureAlgorithm, signatureValue BIT STRING }.
 * Completes the Certificate in the TBS's own buffer when the signature fits the room left for it
 * (and the outer header keeps its length); otherwise copies into a new exact buffer. Returns the
 * Certificate and the TBS as a view into it.
 */
export function assembleSigned(
  t: TbsInPlace,
  signatureAlgorithm: Uint8Array,
  signature: Uint8Array,
): { der: Uint8Array; tbs: Uint8Array } {
  const tbsLen = t.tbs.length;
  const bitLen = signature.length + 1;
  const content = tbsLen + signatureAlgorithm.length + headerLength(bitLen) + bitLen;
  const header = headerLength(content);
  let b = t.buffer;
  if (header !== t.header || header + content > b.length) {
    b = new Uint8Array(header + content);
    b.set(t.tbs, header);
  }
  putHeader(b, 0, 0x30, content);
  let p = header + tbsLen;
  b.set(signatureAlgorithm, p);
  p += signatureAlgorithm.length;
  p = putHeader(b, p, 0x03, bitLen);
  b[p++] = 0;
  b.set(signature, p);
  const der = b.length === header + content ? b : b.subarray(0, header + content);
  return { der, tbs: der.subarray(header, header + tbsLen) };
}

// 30 1d | 06 03 55 1d 0e | 04 16 | 04 14 <20-octet key id>   (RFC 5280 §4.2.1.2, non-critical)
const SKI_PREFIX = Uint8Array.of(0x30, 0x1d, 0x06, 0x03, 0x55, 0x1d, 0x0e, 0x04, 0x16, 0x04, 0x14);

/**
 * The subjectKeyIdentifier extension for a 20-octet key identifier. `der` and `value` are two
 * small arrays rather than one and a view of it: V8 keeps arrays of up to 64 octets in the JS
 * heap (~20 ns each) and moves one out (~0.3 µs) at its first view.
 */
export function subjectKeyIdentifierExtension(keyId: Uint8Array): Extension {
  const der = new Uint8Array(31);
  const value = new Uint8Array(22);
  for (let i = 0; i < 11; i++) der[i] = SKI_PREFIX[i]!;
  value[0] = 0x04;
  value[1] = 0x14;
  for (let i = 0; i < 20; i++) {
    const b = keyId[i]!;
    der[11 + i] = b;
    value[2 + i] = b;
  }
  return { oid: '2.5.29.14', critical: false, value, der };
}
