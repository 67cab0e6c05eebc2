import { bytesEqual, toHex } from '../der/bytes.js';
import { OID } from '../der/oid-names.js';
import { DEFAULT_LIMITS, type DerLimits, DerReader } from '../der/reader.js';
import { encodePem } from '../pem/pem.js';
import { type AlgorithmIdentifier, readAlgorithmIdentifier } from './algorithm.js';
import { X509Error } from './errors.js';
import { EMPTY_EXTENSIONS, type ExtensionSet, readExtensions } from './extension-list.js';
import type * as T from './extensions/types.js';
import { toDer } from './input.js';
import { type Name, readName } from './name.js';
import './extensions/index.js';

/**
 * RFC 5280 §5.1:
 *   CertificateList ::= SEQUENCE { tbsCertList TBSCertList, signatureAlgorithm, signatureValue BIT STRING }
 *   TBSCertList ::= SEQUENCE { version Version OPTIONAL -- v2 if present, signature AlgorithmIdentifier,
 *     issuer Name, thisUpdate Time, nextUpdate Time OPTIONAL,
 *     revokedCertificates SEQUENCE OF SEQUENCE { userCertificate INTEGER, revocationDate Time,
 *       crlEntryExtensions Extensions OPTIONAL } OPTIONAL,
 *     crlExtensions [0] EXPLICIT Extensions OPTIONAL }
 * Entries are parsed eagerly into compact records; `find(serial)` uses an index built on first use,
 * so a 1M-entry CRL costs one pass to parse and one to index.
 */
export class RevokedCertificate {
  constructor(
    /** userCertificate INTEGER content. */
    readonly serialNumber: Uint8Array,
    readonly revocationDate: number,
    private readonly ext: ExtensionSet,
  ) {}
  get serialHex(): string {
    const s = this.serialNumber;
    return toHex(s.length > 1 && s[0] === 0 ? s.subarray(1) : s);
  }
  get extensions(): readonly T.Extension[] {
    return this.ext.list;
  }
  decoded<V = unknown>(oid: string): V | undefined {
    return this.ext.decoded.get(oid) as V | undefined;
  }
  get reasonCode(): T.CRLReason | undefined {
    return this.decoded(OID.reasonCode);
  }
  get invalidityDate(): T.InvalidityDate | undefined {
    return this.decoded(OID.invalidityDate);
  }
  get certificateIssuer(): T.CertificateIssuer | undefined {
    return this.decoded(OID.certificateIssuer);
  }
}

export class CertificateList {
  private index?: Map<string, RevokedCertificate>;

  constructor(
    readonly der: Uint8Array,
    readonly tbs: Uint8Array,
    readonly version: 1 | 2,
    readonly signature: AlgorithmIdentifier,
    readonly issuer: Name,
    readonly thisUpdate: number,
    readonly nextUpdate: number | undefined,
    readonly revokedCertificates: readonly RevokedCertificate[],
    private readonly ext: ExtensionSet,
    readonly signatureAlgorithm: AlgorithmIdentifier,
    readonly signatureValue: Uint8Array,
    /** Unused bits of the signature BIT STRING: non-zero can never verify (PKITS BadSigned* certs have it). */
    readonly signatureUnusedBits = 0,
  ) {}

  get extensions(): readonly T.Extension[] {
    return this.ext.list;
  }
  extension(oid: string): T.Extension | undefined {
    return this.ext.list.find((e) => e.oid === oid);
  }
  decoded<V = unknown>(oid: string): V | undefined {
    return this.ext.decoded.get(oid) as V | undefined;
  }
  get cRLNumber(): T.CRLNumber | undefined {
    return this.decoded(OID.cRLNumber);
  }
  get deltaCRLIndicator(): T.DeltaCRLIndicator | undefined {
    return this.decoded(OID.deltaCRLIndicator);
  }
  get issuingDistributionPoint(): T.IssuingDistributionPoint | undefined {
    return this.decoded(OID.issuingDistributionPoint);
  }
  get authorityKeyIdentifier(): T.AuthorityKeyIdentifier | undefined {
    return this.decoded(OID.authorityKeyIdentifier);
  }
  get freshestCRL(): T.FreshestCRL | undefined {
    return this.decoded(OID.freshestCRL);
  }
  get isDelta(): boolean {
    return this.ext.decoded.has(OID.deltaCRLIndicator);
  }

  /** The entry for a serial (INTEGER content bytes or hex), if listed. */
  find(serial: Uint8Array | string): RevokedCertificate | undefined {
    if (!this.index) {
      this.index = new Map();
      for (const e of this.revokedCertificates)
        if (!this.index.has(e.serialHex)) this.index.set(e.serialHex, e);
    }
    let hex: string;
    if (typeof serial === 'string') hex = serial.toLowerCase().replace(/^(00)+(?=.)/, '');
    else hex = toHex(serial.length > 1 && serial[0] === 0 ? serial.subarray(1) : serial);
    return this.index.get(hex);
  }

  toPem(): string {
    return encodePem('X509 CRL', this.der);
  }
}

export function parseCrl(
  input: Uint8Array | string,
  opts: { limits?: Readonly<DerLimits> } = {},
): CertificateList {
  const der = toDer(input, ['X509 CRL']);
  const r = DerReader.from(der, 'CertificateList', opts.limits ?? DEFAULT_LIMITS);
  const start = r.pos;
  const crl = r.readSequence('CertificateList');
  const tbsStart = crl.pos;
  const tbs = crl.readSequence('tbsCertList');
  const tbsEnd = crl.pos;
  let version: 1 | 2 = 1;
  if (tbs.peekTag() === 0x02) {
    const off = tbs.pos;
    const v = tbs.readSmallInt('version', 255);
    // RFC 5280 §5.1.2.1: if present, version MUST be v2 (1).
    if (v !== 1)
      throw new X509Error('bad-version', `CRL version field must be v2, got ${v}`, off, tbs.path('version'));
    version = 2;
  }
  const signature = readAlgorithmIdentifier(tbs, 'signature');
  const issuer = readName(tbs, 'issuer');
  const thisUpdate = tbs.readTime('thisUpdate');
  let nextUpdate: number | undefined;
  const t = tbs.peekTag();
  if (t === 0x17 || t === 0x18) nextUpdate = tbs.readTime('nextUpdate');
  const revoked: RevokedCertificate[] = [];
  if (tbs.peekTag() === 0x30) {
    const list = tbs.readSequence('revokedCertificates');
    list.forEach('revokedCertificate', (lr) => {
      const e = lr.readSequence('revokedCertificate');
      const serial = e.readInteger('userCertificate');
      const date = e.readTime('revocationDate');
      let ext = EMPTY_EXTENSIONS;
      if (!e.atEnd()) {
        const off = e.pos;
        if (version !== 2)
          throw new X509Error('version-mismatch', 'CRL entry extensions in a v1 CRL', off, e.path());
        ext = readExtensions(e, 'crlEntryExtensions');
      }
      e.finish();
      revoked.push(new RevokedCertificate(serial, date, ext));
    });
  }
  let ext = EMPTY_EXTENSIONS;
  if (tbs.peekTag() === 0xa0) {
    const off = tbs.pos;
    if (version !== 2)
      throw new X509Error('version-mismatch', 'crlExtensions in a v1 CRL', off, tbs.path('crlExtensions'));
    const er = tbs.readExplicit(0, 'crlExtensions');
    ext = readExtensions(er, 'Extensions');
    er.finish();
  }
  tbs.finish();
  const sigOff = crl.pos;
  const signatureAlgorithm = readAlgorithmIdentifier(crl, 'signatureAlgorithm');
  if (!bytesEqual(signatureAlgorithm.der, signature.der))
    throw new X509Error(
      'algorithm-mismatch',
      'signatureAlgorithm differs from tbsCertList.signature',
      sigOff,
      crl.path(),
    );
  const sigBits = crl.readBitString('signatureValue');
  crl.finish();
  r.finish();
  return new CertificateList(
    der.subarray(start, r.pos),
    der.subarray(tbsStart, tbsEnd),
    version,
    signature,
    issuer,
    thisUpdate,
    nextUpdate,
    revoked,
    ext,
    signatureAlgorithm,
    sigBits.bytes,
    sigBits.unusedBits,
  );
}
