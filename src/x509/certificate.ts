import { bytesEqual, toHex } from '../der/bytes.js';
import { OID } from '../der/oid-names.js';
import { DEFAULT_LIMITS, type DerLimits, DerReader } from '../der/reader.js';
import { decodePem, encodePem, looksLikePem } from '../pem/pem.js';
import { type AlgorithmIdentifier, readAlgorithmIdentifier } from './algorithm.js';
import { X509Error } from './errors.js';
import { EMPTY_EXTENSIONS, type ExtensionSet, HasExtensions, readExtensions } from './extension-list.js';
import type * as T from './extensions/types.js';
import { toDer } from './input.js';
import { type Name, readName } from './name.js';
import { readSpki, type SubjectPublicKeyInfo } from './spki.js';
import './extensions/index.js';

/**
 * RFC 5280 §4.1:
 *   Certificate ::= SEQUENCE { tbsCertificate TBSCertificate, signatureAlgorithm AlgorithmIdentifier, signatureValue BIT STRING }
 *   TBSCertificate ::= SEQUENCE {
 *     version [0] EXPLICIT Version DEFAULT v1, serialNumber INTEGER, signature AlgorithmIdentifier,
 *     issuer Name, validity SEQUENCE { notBefore Time, notAfter Time }, subject Name,
 *     subjectPublicKeyInfo, issuerUniqueID [1] IMPLICIT BIT STRING OPTIONAL,
 *     subjectUniqueID [2] IMPLICIT BIT STRING OPTIONAL, extensions [3] EXPLICIT Extensions OPTIONAL }
 *
 * Parsing is strict DER (see der/reader.ts) plus these X.509 rules: version 1..3, unique IDs only
 * in v2/v3, extensions only in v3, inner and outer signature AlgorithmIdentifiers byte-identical,
 * no duplicate extensions, every known extension well-formed. Things RFC 5280 asks of CAs but
 * that clients must tolerate (negative or over-long serials, GeneralizedTime before 2050) are
 * parsed and left to the verifier's profile and to `issue/lint`.
 */
export class Certificate extends HasExtensions {
  constructor(
    readonly der: Uint8Array,
    /** The exact TBSCertificate TLV (what the signature covers). */
    readonly tbs: Uint8Array,
    readonly version: 1 | 2 | 3,
    /** The serialNumber INTEGER content (two's complement, as encoded). */
    readonly serialNumber: Uint8Array,
    readonly signature: AlgorithmIdentifier,
    readonly issuer: Name,
    readonly notBefore: number,
    readonly notAfter: number,
    readonly subject: Name,
    readonly subjectPublicKeyInfo: SubjectPublicKeyInfo,
    readonly issuerUniqueID: Uint8Array | undefined,
    readonly subjectUniqueID: Uint8Array | undefined,
    ext: ExtensionSet,
    readonly signatureAlgorithm: AlgorithmIdentifier,
    readonly signatureValue: Uint8Array,
    /** Unused bits of the signature BIT STRING: non-zero can never verify (PKITS BadSigned* certs have it). */
    readonly signatureUnusedBits = 0,
    /** Unused bits of the unique-ID BIT STRINGs (PKITS UIDCACert has 5), kept so re-encoding is exact. */
    readonly issuerUniqueIDUnusedBits = 0,
    readonly subjectUniqueIDUnusedBits = 0,
  ) {
    super(ext);
  }

  /** Serial number as lower-case hex of its INTEGER content (leading 00 sign octet stripped). */
  get serialHex(): string {
    const s = this.serialNumber;
    return toHex(s.length > 1 && s[0] === 0 ? s.subarray(1) : s);
  }

  get basicConstraints(): T.BasicConstraints | undefined {
    return this.decoded(OID.basicConstraints);
  }
  get keyUsage(): T.KeyUsage | undefined {
    return this.decoded(OID.keyUsage);
  }
  get extKeyUsage(): T.ExtKeyUsage | undefined {
    return this.decoded(OID.extKeyUsage);
  }
  get subjectAltName(): T.SubjectAltName | undefined {
    return this.decoded(OID.subjectAltName);
  }
  get issuerAltName(): T.IssuerAltName | undefined {
    return this.decoded(OID.issuerAltName);
  }
  get subjectKeyIdentifier(): T.SubjectKeyIdentifier | undefined {
    return this.decoded(OID.subjectKeyIdentifier);
  }
  get authorityKeyIdentifier(): T.AuthorityKeyIdentifier | undefined {
    return this.decoded(OID.authorityKeyIdentifier);
  }
  get nameConstraints(): T.NameConstraints | undefined {
    return this.decoded(OID.nameConstraints);
  }
  get certificatePolicies(): T.CertificatePolicies | undefined {
    return this.decoded(OID.certificatePolicies);
  }
  get policyMappings(): T.PolicyMappings | undefined {
    return this.decoded(OID.policyMappings);
  }
  get policyConstraints(): T.PolicyConstraints | undefined {
    return this.decoded(OID.policyConstraints);
  }
  get inhibitAnyPolicy(): T.InhibitAnyPolicy | undefined {
    return this.decoded(OID.inhibitAnyPolicy);
  }
  get cRLDistributionPoints(): T.CRLDistributionPoints | undefined {
    return this.decoded(OID.cRLDistributionPoints);
  }
  get freshestCRL(): T.FreshestCRL | undefined {
    return this.decoded(OID.freshestCRL);
  }
  get authorityInfoAccess(): T.AuthorityInfoAccess | undefined {
    return this.decoded(OID.authorityInfoAccess);
  }
  get subjectInfoAccess(): T.SubjectInfoAccess | undefined {
    return this.decoded(OID.subjectInfoAccess);
  }

  /** Issuer and subject names are equal (RFC 5280 §6.1: "self-issued"). */
  get isSelfIssued(): boolean {
    return this.issuer.equals(this.subject);
  }

  /** Is this a CA certificate (basicConstraints cA TRUE)? */
  get isCA(): boolean {
    return this.basicConstraints?.cA === true;
  }

  toPem(): string {
    return encodePem('CERTIFICATE', this.der);
  }

  override toString(): string {
    return `Certificate(subject=${this.subject.toString()}, serial=${this.serialHex})`;
  }
}

/** Options of the parse functions: DER reader limits (sizes, depth). */
export interface ParseOptions {
  limits?: Readonly<DerLimits>;
}

/** Parses one certificate from DER bytes or PEM text (the first CERTIFICATE block). */
export function parseCertificate(input: Uint8Array | string, opts: ParseOptions = {}): Certificate {
  const der = toDer(input, ['CERTIFICATE', 'X509 CERTIFICATE']);
  const r = DerReader.from(der, 'Certificate', opts.limits ?? DEFAULT_LIMITS);
  const c = readCertificate(r);
  r.finish();
  return c;
}

export function readCertificate(r: DerReader): Certificate {
  const certStart = r.pos;
  const cert = r.readSequence('Certificate');
  const tbsStart = cert.pos;
  const tbs = cert.readSequence('tbsCertificate');
  const tbsEnd = cert.pos;

  let version: 1 | 2 | 3 = 1;
  const vr = tbs.readOptionalExplicit(0, 'version');
  if (vr) {
    const vOff = vr.pos;
    const v = vr.readSmallInt('version', 255);
    vr.finish();
    // Tolerance: an explicitly encoded v1 (DEFAULT) violates DER but appears in old roots;
    // OpenSSL and Go accept it and it carries no meaning beyond v1.
    if (v > 2)
      throw new X509Error(
        'bad-version',
        `unsupported certificate version ${v + 1}`,
        vOff,
        tbs.path('version'),
      );
    version = (v + 1) as 1 | 2 | 3;
  }
  const serialNumber = tbs.readInteger('serialNumber');
  const signature = readAlgorithmIdentifier(tbs, 'signature');
  const issuer = readName(tbs, 'issuer');
  const validity = tbs.readSequence('validity');
  const notBefore = validity.readTime('notBefore');
  const notAfter = validity.readTime('notAfter');
  validity.finish();
  const subject = readName(tbs, 'subject');
  const spki = readSpki(tbs, 'subjectPublicKeyInfo');
  let issuerUniqueID: Uint8Array | undefined;
  let subjectUniqueID: Uint8Array | undefined;
  let issuerUidBits = 0;
  let subjectUidBits = 0;
  if (tbs.peekTag() === 0x81) {
    if (version === 1)
      tbs.fail('unexpected-tag', 'issuerUniqueID in a v1 certificate', tbs.pos, 'issuerUniqueID');
    const bs = tbs.readImplicitBitString(0x81, 'issuerUniqueID');
    issuerUniqueID = bs.bytes;
    issuerUidBits = bs.unusedBits;
  }
  if (tbs.peekTag() === 0x82) {
    if (version === 1)
      tbs.fail('unexpected-tag', 'subjectUniqueID in a v1 certificate', tbs.pos, 'subjectUniqueID');
    const bs = tbs.readImplicitBitString(0x82, 'subjectUniqueID');
    subjectUniqueID = bs.bytes;
    subjectUidBits = bs.unusedBits;
  }
  let ext = EMPTY_EXTENSIONS;
  if (tbs.peekTag() === 0xa3) {
    const off = tbs.pos;
    if (version !== 3)
      throw new X509Error(
        'version-mismatch',
        `extensions in a v${version} certificate`,
        off,
        tbs.path('extensions'),
      );
    const er = tbs.readExplicit(3, 'extensions');
    ext = readExtensions(er, 'Extensions');
    er.finish();
  }
  tbs.finish();

  const sigAlgOff = cert.pos;
  const signatureAlgorithm = readAlgorithmIdentifier(cert, 'signatureAlgorithm');
  if (!bytesEqual(signatureAlgorithm.der, signature.der))
    throw new X509Error(
      'algorithm-mismatch',
      'signatureAlgorithm differs from tbsCertificate.signature',
      sigAlgOff,
      cert.path('signatureAlgorithm'),
    );
  const sigBits = cert.readBitString('signatureValue');
  cert.finish();
  return new Certificate(
    r.bytes.subarray(certStart, r.pos),
    r.bytes.subarray(tbsStart, tbsEnd),
    version,
    serialNumber,
    signature,
    issuer,
    notBefore,
    notAfter,
    subject,
    spki,
    issuerUniqueID,
    subjectUniqueID,
    ext,
    signatureAlgorithm,
    sigBits.bytes,
    sigBits.unusedBits,
    issuerUidBits,
    subjectUidBits,
  );
}

/** Parses every CERTIFICATE block of a PEM bundle (or a single DER certificate). */
export function parseCertificates(input: Uint8Array | string): Certificate[] {
  if (typeof input !== 'string' && !looksLikePem(input)) return [parseCertificate(input)];
  const text = typeof input === 'string' ? input : new TextDecoder('latin1').decode(input);
  const out: Certificate[] = [];
  for (const b of decodePem(text)) if (b.label === 'CERTIFICATE') out.push(parseCertificate(b.der));
  if (out.length === 0) throw new X509Error('bad-input', 'no CERTIFICATE blocks found');
  return out;
}
