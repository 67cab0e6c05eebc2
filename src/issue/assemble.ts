import { allocPublicBytes } from '../der/alloc.js';
import { DerWriter } from '../der/writer.js';
import type { Extension } from '../x509/extensions/types.js';

/**
 * Exact-length assembly of a TBSCertificate and a Certificate from pre-encoded TLVs (the
 * issuer's constant parts, the subject Name DER, the SPKI DER, encoded extensions): one
 * allocation each, no intermediate writers. Produces exactly what x509/encode.ts's
 * `writeTbsCertificate`/`encodeSigned` produce (the tests compare them byte for byte); it
 * exists because issuance runs at the raw signing rate and every allocation shows.
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

export function assembleTbs(t: TbsParts): Uint8Array {
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
  const b = allocPublicBytes(headerLength(content) + content);
  let p = putHeader(b, 0, 0x30, content);
  b.set(VERSION_3, p);
  p += VERSION_3.length;
  p = putHeader(b, p, 0x02, t.serialNumber.length);
  b.set(t.serialNumber, p);
  p += t.serialNumber.length;
  b.set(t.signatureAlgorithm, p);
  p += t.signatureAlgorithm.length;
  b.set(t.issuer, p);
  p += t.issuer.length;
  b.set(t.validity, p);
  p += t.validity.length;
  b.set(t.subject, p);
  p += t.subject.length;
  b.set(t.spki, p);
  p += t.spki.length;
  if (extLen > 0) {
    p = putHeader(b, p, 0xa3, seqLen);
    p = putHeader(b, p, 0x30, extLen);
    for (const e of t.extensions) {
      b.set(e.der, p);
      p += e.der.length;
    }
  }
  return b;
}

/** Certificate (or CRL, CSR) ::= SEQUENCE { tbs, signatureAlgorithm, signatureValue BIT STRING } */
export function assembleSigned(
  tbs: Uint8Array,
  signatureAlgorithm: Uint8Array,
  signature: Uint8Array,
): Uint8Array {
  const bitLen = signature.length + 1;
  const content = tbs.length + signatureAlgorithm.length + headerLength(bitLen) + bitLen;
  const b = allocPublicBytes(headerLength(content) + content);
  let p = putHeader(b, 0, 0x30, content);
  b.set(tbs, p);
  p += tbs.length;
  b.set(signatureAlgorithm, p);
  p += signatureAlgorithm.length;
  p = putHeader(b, p, 0x03, bitLen);
  b[p++] = 0;
  b.set(signature, p);
  return b;
}

// 30 1d | 06 03 55 1d 0e | 04 16 | 04 14 <20-octet key id>   (RFC 5280 §4.2.1.2, non-critical)
const SKI_PREFIX = Uint8Array.of(0x30, 0x1d, 0x06, 0x03, 0x55, 0x1d, 0x0e, 0x04, 0x16, 0x04, 0x14);

/** The subjectKeyIdentifier extension for a 20-octet key identifier. */
export function subjectKeyIdentifierExtension(keyId: Uint8Array): Extension {
  const der = new Uint8Array(31);
  der.set(SKI_PREFIX, 0);
  der.set(keyId.subarray(0, 20), 11);
  return { oid: '2.5.29.14', critical: false, value: der.subarray(9), der };
}
