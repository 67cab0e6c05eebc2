import { allocPublicBytes } from '../der/alloc.js';
import { DerWriter } from '../der/writer.js';
import type { Certificate } from './certificate.js';
import type { CertificateList } from './crl.js';
import type { CertificationRequest } from './csr.js';
import { extensionLength, writeExtensionHead } from './extension-tlv.js';
import { extensionCodec } from './extensions/registry.js';
import type { Extension } from './extensions/types.js';
import type { Name } from './name.js';

/**
 * Encoders for the signed structures, used by the builders and to prove the codec round-trips:
 * `reencode*` rebuilds an object's DER from its parsed fields (known extensions re-encoded
 * from their typed values), which equals the input exactly when the input was canonical DER.
 */

/**
 * Builds an Extension from its raw extnValue content. Its `der` is a view into a shared slab of
 * public DER (der/alloc.ts): copy it (`der.slice()`) before transferring its buffer.
 */
export function makeExtension(oid: string, critical: boolean, value: Uint8Array): Extension {
  // Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
  // (RFC 5280 §4.1), assembled at its exact length: issuance makes several per certificate.
  const id = oidTlv(oid);
  const der = allocPublicBytes(extensionLength(id.length, critical, value.length));
  der.set(value, writeExtensionHead(der, id, critical, value.length));
  return { oid, critical, value, der };
}

/** Encoded extnID TLVs; extension OIDs are few, so the cache is capped rather than evicted. */
const OID_TLVS = new Map<string, Uint8Array>();
function oidTlv(oid: string): Uint8Array {
  let t = OID_TLVS.get(oid);
  if (!t) {
    const w = new DerWriter(32);
    w.oid(oid);
    t = w.finish();
    if (OID_TLVS.size < 256) OID_TLVS.set(oid, t);
  }
  return t;
}

/** Encodes a known extension's typed value (via its registered codec). */
export function encodeExtension<T>(oid: string, critical: boolean, v: T): Extension {
  const c = extensionCodec(oid);
  if (!c) throw new TypeError(`no codec registered for extension ${oid}`);
  return makeExtension(oid, critical, c.encode(v));
}

export interface TbsCertificateFields {
  version: 1 | 2 | 3;
  /** INTEGER content bytes (two's complement, minimal). */
  serialNumber: Uint8Array;
  /** AlgorithmIdentifier TLV. */
  signature: Uint8Array;
  issuer: Name | Uint8Array;
  notBefore: number;
  notAfter: number;
  subject: Name | Uint8Array;
  /** SubjectPublicKeyInfo TLV. */
  subjectPublicKeyInfo: Uint8Array;
  issuerUniqueID?: Uint8Array;
  subjectUniqueID?: Uint8Array;
  /** Unused bits of the unique-ID BIT STRINGs (default 0). */
  issuerUniqueIDUnusedBits?: number;
  subjectUniqueIDUnusedBits?: number;
  extensions?: readonly Extension[];
}

const nameDer = (n: Name | Uint8Array) => (n instanceof Uint8Array ? n : n.der);

export function writeTbsCertificate(w: DerWriter, f: TbsCertificateFields): void {
  w.sequence((w) => {
    if (f.version !== 1) w.explicit(0, (w) => w.integer(f.version - 1));
    w.integer(f.serialNumber);
    w.raw(f.signature);
    w.raw(nameDer(f.issuer));
    w.sequence((w) => w.time(f.notBefore).time(f.notAfter));
    w.raw(nameDer(f.subject));
    w.raw(f.subjectPublicKeyInfo);
    if (f.issuerUniqueID) w.bitString(f.issuerUniqueID, f.issuerUniqueIDUnusedBits ?? 0, 0x81);
    if (f.subjectUniqueID) w.bitString(f.subjectUniqueID, f.subjectUniqueIDUnusedBits ?? 0, 0x82);
    if (f.extensions && f.extensions.length > 0)
      w.explicit(3, (w) =>
        w.sequence((w) => {
          for (const e of f.extensions!) w.raw(e.der);
        }),
      );
  });
}

export function encodeTbsCertificate(f: TbsCertificateFields): Uint8Array {
  const w = new DerWriter(1024);
  writeTbsCertificate(w, f);
  return w.finish();
}

/** Certificate ::= SEQUENCE { tbs, signatureAlgorithm, signatureValue BIT STRING } */
export function encodeSigned(
  tbs: Uint8Array,
  signatureAlgorithm: Uint8Array,
  signature: Uint8Array,
  unusedBits = 0,
): Uint8Array {
  const w = new DerWriter(tbs.length + signatureAlgorithm.length + signature.length + 16);
  w.sequence((w) => {
    w.raw(tbs);
    w.raw(signatureAlgorithm);
    w.bitString(signature, unusedBits);
  });
  return w.finish();
}

function reencodeExtensions(list: readonly Extension[], decoded: (oid: string) => unknown): Extension[] {
  return list.map((e) => {
    const v = decoded(e.oid);
    const c = extensionCodec(e.oid);
    return c && v !== undefined
      ? makeExtension(e.oid, e.critical, c.encode(v))
      : makeExtension(e.oid, e.critical, e.value);
  });
}

/** Rebuilds a certificate's DER from its parsed fields. */
export function reencodeCertificate(c: Certificate): Uint8Array {
  const tbs = encodeTbsCertificate({
    version: c.version,
    serialNumber: c.serialNumber,
    signature: c.signature.der,
    issuer: c.issuer,
    notBefore: c.notBefore,
    notAfter: c.notAfter,
    subject: c.subject,
    subjectPublicKeyInfo: c.subjectPublicKeyInfo.der,
    issuerUniqueID: c.issuerUniqueID,
    subjectUniqueID: c.subjectUniqueID,
    issuerUniqueIDUnusedBits: c.issuerUniqueIDUnusedBits,
    subjectUniqueIDUnusedBits: c.subjectUniqueIDUnusedBits,
    extensions: reencodeExtensions(c.extensions, (o) => c.decoded(o)),
  });
  return encodeSigned(tbs, c.signatureAlgorithm.der, c.signatureValue, c.signatureUnusedBits);
}

export interface TbsCertListFields {
  version: 1 | 2;
  signature: Uint8Array;
  issuer: Name | Uint8Array;
  thisUpdate: number;
  nextUpdate?: number;
  revoked: readonly { serialNumber: Uint8Array; revocationDate: number; extensions?: readonly Extension[] }[];
  extensions?: readonly Extension[];
}

export function encodeTbsCertList(f: TbsCertListFields): Uint8Array {
  const w = new DerWriter(256 + f.revoked.length * 40);
  w.sequence((w) => {
    if (f.version === 2) w.integer(1);
    w.raw(f.signature);
    w.raw(nameDer(f.issuer));
    w.time(f.thisUpdate);
    if (f.nextUpdate !== undefined) w.time(f.nextUpdate);
    if (f.revoked.length > 0)
      w.sequence((w) => {
        for (const e of f.revoked)
          w.sequence((w) => {
            w.integer(e.serialNumber);
            w.time(e.revocationDate);
            if (e.extensions && e.extensions.length > 0)
              w.sequence((w) => {
                for (const x of e.extensions!) w.raw(x.der);
              });
          });
      });
    if (f.extensions && f.extensions.length > 0)
      w.explicit(0, (w) =>
        w.sequence((w) => {
          for (const x of f.extensions!) w.raw(x.der);
        }),
      );
  });
  return w.finish();
}

export function reencodeCrl(c: CertificateList): Uint8Array {
  const tbs = encodeTbsCertList({
    version: c.version,
    signature: c.signature.der,
    issuer: c.issuer,
    thisUpdate: c.thisUpdate,
    nextUpdate: c.nextUpdate,
    revoked: c.revokedCertificates.map((e) => ({
      serialNumber: e.serialNumber,
      revocationDate: e.revocationDate,
      extensions: reencodeExtensions(e.extensions, (o) => e.decoded(o)),
    })),
    extensions: reencodeExtensions(c.extensions, (o) => c.decoded(o)),
  });
  return encodeSigned(tbs, c.signatureAlgorithm.der, c.signatureValue, c.signatureUnusedBits);
}

export interface CsrInfoFields {
  subject: Name | Uint8Array;
  subjectPublicKeyInfo: Uint8Array;
  /** Attributes as (type, value TLVs); extensionRequest is built from `extensions`. */
  attributes?: readonly { type: string; values: readonly Uint8Array[] }[];
  extensions?: readonly Extension[];
}

export function encodeCsrInfo(f: CsrInfoFields): Uint8Array {
  const w = new DerWriter(512);
  w.sequence((w) => {
    w.integer(0);
    w.raw(nameDer(f.subject));
    w.raw(f.subjectPublicKeyInfo);
    w.constructed(0xa0, (w) => {
      // [0] IMPLICIT SET OF Attribute: DER order is applied by hand since the tag is not SET.
      const attrs: Uint8Array[] = [];
      for (const a of f.attributes ?? []) {
        const aw = new DerWriter(64);
        aw.sequence((aw) => {
          aw.oid(a.type);
          aw.setOf((aw) => {
            for (const v of a.values) aw.raw(v);
          });
        });
        attrs.push(aw.finish());
      }
      if (f.extensions && f.extensions.length > 0) {
        const aw = new DerWriter(256);
        aw.sequence((aw) => {
          aw.oid('1.2.840.113549.1.9.14');
          aw.setOf((aw) =>
            aw.sequence((aw) => {
              for (const x of f.extensions!) aw.raw(x.der);
            }),
          );
        });
        attrs.push(aw.finish());
      }
      attrs.sort(compare);
      for (const a of attrs) w.raw(a);
    });
  });
  return w.finish();
}

function compare(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

export function reencodeCsr(c: CertificationRequest): Uint8Array {
  const info = encodeCsrInfo({
    subject: c.subject,
    subjectPublicKeyInfo: c.subjectPublicKeyInfo.der,
    attributes: c.attributes
      .filter((a) => a.type !== '1.2.840.113549.1.9.14')
      .map((a) => ({ type: a.type, values: a.values })),
    extensions: reencodeExtensions(c.extensions, (o) => c.decoded(o)),
  });
  return encodeSigned(info, c.signatureAlgorithm.der, c.signatureValue, c.signatureUnusedBits);
}
