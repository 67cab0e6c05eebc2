import { bytesEqual, fromHex, toHex } from '../der/bytes.js';
import { OID } from '../der/oid-names.js';
import { DEFAULT_LIMITS, type DerLimits, DerReader } from '../der/reader.js';
import { encodePem } from '../pem/pem.js';
import { type AlgorithmIdentifier, readAlgorithmIdentifier } from './algorithm.js';
import { X509Error } from './errors.js';
import { EMPTY_EXTENSIONS, type ExtensionSet, HasExtensions, readExtensions } from './extension-list.js';
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
export class RevokedCertificate extends HasExtensions {
  constructor(
    /** userCertificate INTEGER content. */
    readonly serialNumber: Uint8Array,
    readonly revocationDate: number,
    ext: ExtensionSet,
  ) {
    super(ext);
  }
  get serialHex(): string {
    const s = this.serialNumber;
    return toHex(s.length > 1 && s[0] === 0 ? s.subarray(1) : s);
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

/** A parsed CRL (RFC 5280 §5.1): exact `der` and `tbs`, typed fields, entries and extensions. */
export class CertificateList extends HasExtensions {
  private _revoked?: RevokedCertificate[];
  private _index?: Int32Array;

  constructor(
    readonly der: Uint8Array,
    readonly tbs: Uint8Array,
    readonly version: 1 | 2,
    readonly signature: AlgorithmIdentifier,
    readonly issuer: Name,
    readonly thisUpdate: number,
    readonly nextUpdate: number | undefined,
    /** Absolute offset in `der` of each revokedCertificate TLV (validated at parse time). */
    private readonly entryOffsets: Uint32Array,
    /** OIDs of entry extensions marked critical anywhere in the list (RFC 5280 §5.3). */
    readonly criticalEntryExtensions: ReadonlySet<string>,
    ext: ExtensionSet,
    readonly signatureAlgorithm: AlgorithmIdentifier,
    readonly signatureValue: Uint8Array,
    /** Unused bits of the signature BIT STRING: non-zero can never verify. */
    readonly signatureUnusedBits = 0,
  ) {
    super(ext);
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

  /** Number of revoked entries (no entry objects are created). */
  get revokedCount(): number {
    return this.entryOffsets.length;
  }

  /** Entry `i`, decoded on demand from the (already validated) DER. */
  entryAt(i: number): RevokedCertificate {
    const off = this.entryOffsets[i];
    if (off === undefined) throw new RangeError(`no CRL entry ${i}`);
    if (this._revoked) return this._revoked[i]!;
    const r = new DerReader(
      this.der,
      off,
      this.der.length,
      2,
      'revokedCertificate',
      undefined,
      DEFAULT_LIMITS,
    );
    return readEntry(r, this.version);
  }

  /** All entries as objects (materialised once; prefer `find`/`entryAt` for large CRLs). */
  get revokedCertificates(): readonly RevokedCertificate[] {
    if (!this._revoked) {
      const out = new Array<RevokedCertificate>(this.entryOffsets.length);
      for (let i = 0; i < out.length; i++) out[i] = this.entryAt(i);
      this._revoked = out;
    }
    return this._revoked;
  }

  /**
   * The first entry for a serial: INTEGER content bytes (exact: 00 FF is 255, FF is −1), or hex
   * of a non-negative serial's magnitude. The index is an open-addressing hash table over entry
   * numbers built on first use — no per-entry objects, so a 1M-entry CRL stays cheap.
   */
  find(serial: Uint8Array | string): RevokedCertificate | undefined {
    const want = typeof serial === 'string' ? serialFromHex(serial) : serial;
    const table = this.index();
    const mask = table.length - 1;
    for (let h = hashBytes(want, 0, want.length) & mask; ; h = (h + 1) & mask) {
      const i = table[h]!;
      if (i < 0) return undefined;
      const [s, e] = this.serialRange(i);
      if (e - s === want.length && equalAt(this.der, s, want)) return this.entryAt(i);
    }
  }

  private index(): Int32Array {
    if (this._index) return this._index;
    const n = this.entryOffsets.length;
    let size = 16;
    while (size < n * 2) size *= 2;
    const table = new Int32Array(size).fill(-1);
    const mask = size - 1;
    for (let i = 0; i < n; i++) {
      const [s, e] = this.serialRange(i);
      let h = hashBytes(this.der, s, e) & mask;
      while (table[h]! >= 0) {
        // Keep the first entry for a serial listed twice.
        const [s2, e2] = this.serialRange(table[h]!);
        if (e2 - s2 === e - s && equalAt(this.der, s, this.der.subarray(s2, e2))) break;
        h = (h + 1) & mask;
      }
      if (table[h]! < 0) table[h] = i;
    }
    this._index = table;
    return table;
  }

  /** [start, end) of entry i's serial INTEGER content (trusted: the entry was validated). */
  private serialRange(i: number): [number, number] {
    const b = this.der;
    let p = this.entryOffsets[i]! + 1;
    p += b[p]! & 0x80 ? 1 + (b[p]! & 0x7f) : 1; // skip the entry SEQUENCE length
    p++; // INTEGER tag
    let len = b[p++]!;
    if (len & 0x80) {
      const k = len & 0x7f;
      len = 0;
      for (let j = 0; j < k; j++) len = len * 256 + b[p++]!;
    }
    return [p, p + len];
  }

  toPem(): string {
    return encodePem('X509 CRL', this.der);
  }
}

/** FNV-1a over bytes [s, e). */
function hashBytes(b: Uint8Array, s: number, e: number): number {
  let h = 0x811c9dc5;
  for (let i = s; i < e; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h >>> 0;
}

function equalAt(b: Uint8Array, s: number, want: Uint8Array): boolean {
  for (let i = 0; i < want.length; i++) if (b[s + i] !== want[i]) return false;
  return true;
}

/** Hex of a non-negative serial's magnitude → minimal two's-complement INTEGER content. */
function serialFromHex(hex: string): Uint8Array {
  let h = hex.toLowerCase().replace(/^0+(?=.)/, '');
  if (h.length % 2) h = `0${h}`;
  if (Number.parseInt(h[0]!, 16) >= 8) h = `00${h}`;
  return fromHex(h);
}

function readEntry(lr: DerReader, version: 1 | 2): RevokedCertificate {
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
  return new RevokedCertificate(serial, date, ext);
}

/**
 * Parses a CRL from DER bytes or PEM text (`X509 CRL`); throws DerError or X509Error with a code.
 */
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
  // Entries are validated here (strict DER, known entry extensions decoded) but only their
  // offsets are kept: a 1M-entry CRL must not become 1M retained objects.
  let offsets = new Uint32Array(0);
  const criticalEntryExtensions = new Set<string>();
  if (tbs.peekTag() === 0x30) {
    const list = tbs.readSequence('revokedCertificates');
    let n = 0;
    offsets = new Uint32Array(Math.max(16, list.remaining >> 5));
    list.forEach('revokedCertificate', (lr) => {
      if (n === offsets.length) {
        const grown = new Uint32Array(offsets.length * 2);
        grown.set(offsets);
        offsets = grown;
      }
      offsets[n++] = lr.pos;
      const entry = readEntry(lr, version);
      for (const x of entry.extensions) if (x.critical) criticalEntryExtensions.add(x.oid);
    });
    offsets = offsets.slice(0, n);
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
    offsets,
    criticalEntryExtensions,
    ext,
    signatureAlgorithm,
    sigBits.bytes,
    sigBits.unusedBits,
  );
}
