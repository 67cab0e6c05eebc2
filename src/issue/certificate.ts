import { defaultProvider } from '../crypto/default-provider.js';
import type { CryptoProvider } from '../crypto/provider.js';
import type { Signer } from '../crypto/signer.js';
import { bytesEqual, toHex } from '../der/bytes.js';
import { OID } from '../der/oid-names.js';
import { encodePem } from '../pem/pem.js';
import { type Certificate, parseCertificate } from '../x509/certificate.js';
import type { CertificationRequest } from '../x509/csr.js';
import { makeExtension } from '../x509/encode.js';
import { encodeNameConstraints } from '../x509/extensions/name-constraints.js';
import { decodeExtension } from '../x509/extensions/registry.js';
import { subjectAltNameExtension } from '../x509/extensions/subject-alt-name.js';
import { encodeSubjectKeyIdentifier } from '../x509/extensions/subject-key-identifier.js';
import type {
  AuthorityInfoAccess,
  CRLDistributionPoints,
  Extension,
  KeyUsage,
  NameConstraints,
} from '../x509/extensions/types.js';
import type { GeneralName } from '../x509/general-name.js';
import { Name } from '../x509/name.js';
import { parseSpki, SubjectPublicKeyInfo } from '../x509/spki.js';
import {
  assembleSigned,
  assembleTbs,
  encodeValidity,
  subjectKeyIdentifierExtension,
  type TbsInPlace,
} from './assemble.js';
import { IssueError, LintError } from './errors.js';
import { Issuer } from './issuer.js';
import { keyIdentifier } from './key-id.js';
import { hasErrors, type LintFinding, lintCertificate } from './lint.js';
import {
  basicConstraintsExtension,
  extKeyUsageExtension,
  ISSUANCE_PROFILES,
  type IssuanceProfile,
  type IssuanceProfileName,
  keyUsageExtension,
  keyUsageExtensionOf,
  type TypedExtension,
} from './profiles.js';
import {
  type AuthorityInfoAccessUrls,
  authorityInfoAccessExtension,
  crlDistributionPointsExtension,
} from './revocation-info.js';
import { parseGeneralName } from './san.js';
import { randomSerial, serialFromInput } from './serial.js';

/**
 * Builds and signs X.509 v3 certificates by profile (see profiles.ts).
 *
 *   const root = await new CertificateBuilder('root').subject('CN=Fleet Root').sign(rootSigner);
 *   const ca = Issuer.fromCertificate(root.certificate, rootSigner);
 *   const leaf = new CertificateBuilder('device')
 *     .subject('CN=device-001').publicKey(deviceSpki).issuer(ca).signSync();
 *
 * Pipeline: template → linter (issue/lint.ts; any error → `LintError`, nothing signed) →
 * TBS encoding (x509/encode.ts, one DerWriter) → `signer.signSync` when the signer has one →
 * optional re-verification of the new signature (`selfCheck: 'signature'`) → Certificate DER.
 *
 * Decisions (documented once here):
 * - Serial numbers: 17 random octets (serial.ts), unless the caller sets one.
 * - Key identifiers: RFC 7093 §2 method 1 (key-id.ts); AKI = the issuer's SKI.
 * - Times are whole seconds (fractions are truncated). notBefore defaults to now minus
 *   `backdateMs` (5 minutes) so devices with slightly slow clocks accept a fresh certificate;
 *   notAfter defaults to now + the profile's days.
 * - Validity never outlives the issuer: by default notAfter is clamped to the issuer's notAfter
 *   (and notBefore raised to the issuer's notBefore); `validityClamp: 'error'` throws
 *   `validity-exceeds-issuer` instead. The result reports `clamped`.
 * - A self-signed certificate is built when no issuer is set (profile root only).
 * - cRLDistributionPoints and authorityInfoAccess (non-critical) come from the builder, else
 *   from the Issuer's defaults (`Issuer.fromCertificate(cert, signer, { crlDistributionPoints })`).
 */
export interface CertificateBuilderOptions {
  provider?: CryptoProvider;
  /** How far notBefore is set back from now when not given. Default 5 minutes. */
  backdateMs?: number;
  /** Default 'clamp'. */
  validityClamp?: 'clamp' | 'error';
  /** Re-verify each fresh signature with the issuer's public key. Default 'none'. */
  selfCheck?: 'none' | 'signature';
  /** Clock for defaults (tests). Default Date.now. */
  now?: () => number;
}

export const DEFAULT_BACKDATE_MS = 5 * 60 * 1000;
const DAY_MS = 86_400_000;

/**
 * A freshly signed certificate. `certificate` parses the DER on first use.
 * `der` (and `tbs`, a view into it) is a view into a slab shared with other certificates issued
 * by this process, as Node's pooled Buffers are: read it, store it, send it, but never transfer
 * `der.buffer` to a worker (that would detach the other certificates in the slab) and never wrap
 * `der.buffer` whole (it holds other certificates too). `copy()` gives an exact array of its own
 * for those uses; structured cloning (`postMessage` without a transfer list) copies the whole
 * slab, so send `copy()` there as well.
 */
export class IssuedCertificate {
  private parsed?: Certificate;
  constructor(
    readonly der: Uint8Array,
    readonly tbs: Uint8Array,
    /** INTEGER content octets. */
    readonly serialNumber: Uint8Array,
    readonly notBefore: number,
    readonly notAfter: number,
    /** True when notBefore/notAfter were narrowed to the issuer's validity. */
    readonly clamped: boolean,
    /** Lint warnings (errors would have stopped the build). */
    readonly findings: readonly LintFinding[],
  ) {}

  get serialHex(): string {
    return toHex(this.serialNumber);
  }

  get certificate(): Certificate {
    this.parsed ??= parseCertificate(this.der);
    return this.parsed;
  }

  toPem(): string {
    return encodePem('CERTIFICATE', this.der);
  }

  /** The DER in an ArrayBuffer of its own, exactly `der.length` long: safe to transfer or wrap whole. */
  copy(): Uint8Array {
    return this.der.slice();
  }
}

type PublicKeyInput = Uint8Array | SubjectPublicKeyInfo | { spki: Uint8Array };

/**
 * Builds, lints and signs one X.509 v3 certificate under an issuance profile (defaults above).
 *
 *   const cert = new CertificateBuilder('device').subject('CN=dev-1').publicKey(spki).issuer(ca).signSync();
 */
export class CertificateBuilder {
  private readonly profile: IssuanceProfile;
  private readonly provider: CryptoProvider;
  private readonly opts: CertificateBuilderOptions;
  private _subject?: Name;
  private _spki?: SubjectPublicKeyInfo;
  private _issuer?: Issuer;
  private _serial?: Uint8Array;
  private _notBefore?: number;
  private _notAfter?: number;
  private _days?: number;
  private _san?: GeneralName[];
  private _sanCritical?: boolean;
  private _pathLen?: number | null;
  private _nameConstraints?: NameConstraints;
  private _eku?: readonly string[] | null;
  private _keyUsage?: KeyUsage;
  private _cdp?: TypedExtension<CRLDistributionPoints> | null;
  private _aia?: TypedExtension<AuthorityInfoAccess> | null;
  private readonly _extra: Extension[] = [];

  constructor(profile: IssuanceProfileName = 'device', options: CertificateBuilderOptions = {}) {
    const p = ISSUANCE_PROFILES[profile];
    if (!p) throw new IssueError('bad-input', `unknown profile "${String(profile)}"`);
    this.profile = p;
    this.opts = options;
    this.provider = options.provider ?? defaultProvider();
  }

  /** Subject name: a Name, RFC 4514 text ("CN=dev,O=Acme"), or Name DER. */
  subject(n: Name | string | Uint8Array): this {
    try {
      this._subject = typeof n === 'string' ? Name.parse(n) : n instanceof Uint8Array ? Name.fromDer(n) : n;
    } catch (e) {
      throw new IssueError('bad-input', `bad subject name: ${(e as Error).message}`, { cause: e });
    }
    return this;
  }

  /** The subject's public key: SPKI DER, a parsed SubjectPublicKeyInfo, or a key object with `spki`. */
  publicKey(k: PublicKeyInput): this {
    try {
      this._spki = k instanceof SubjectPublicKeyInfo ? k : parseSpki(k instanceof Uint8Array ? k : k.spki);
    } catch (e) {
      throw new IssueError('bad-input', `bad public key: ${(e as Error).message}`, { cause: e });
    }
    return this;
  }

  /**
   * Subject and public key from a CSR, plus its requested subjectAltName. Nothing else is
   * copied: basicConstraints, keyUsage and extKeyUsage come from the profile, never from the
   * requester. The CSR's signature must already have been checked (`verifyCsr`).
   */
  fromCsr(csr: CertificationRequest, copy: 'subject-and-san' | 'subject' = 'subject-and-san'): this {
    this._subject = csr.subject;
    this._spki = csr.subjectPublicKeyInfo;
    if (copy === 'subject-and-san' && csr.subjectAltName) {
      this._san = [...csr.subjectAltName];
    }
    return this;
  }

  issuer(i: Issuer): this {
    this._issuer = i;
    return this;
  }

  /** A fixed serial number (bigint, hex text, or INTEGER content octets). Default: random. */
  serialNumber(s: bigint | number | string | Uint8Array): this {
    const v = serialFromInput(s);
    if (!v) throw new IssueError('bad-input', 'serial number must be a positive integer');
    this._serial = v;
    return this;
  }

  notBefore(t: number | Date): this {
    this._notBefore = toMs(t, 'notBefore');
    return this;
  }

  notAfter(t: number | Date): this {
    this._notAfter = toMs(t, 'notAfter');
    return this;
  }

  /** Validity in days from now (or from notBefore when that is set). */
  days(n: number): this {
    if (!Number.isFinite(n) || n <= 0 || n > 36500)
      throw new IssueError('bad-input', `days must be in 1..36500, got ${n}`);
    this._days = n;
    return this;
  }

  /** subjectAltName entries: GeneralNames or text (`dns:…`, `ip:…`, `uri:…`, `email:…`). */
  subjectAltName(names: readonly (GeneralName | string)[], critical?: boolean): this {
    this._san = names.map((n) => (typeof n === 'string' ? parseGeneralName(n) : n));
    this._sanCritical = critical;
    return this;
  }

  /** CA profiles: pathLenConstraint (null = unlimited). Default: the profile's (intermediate 0). */
  pathLenConstraint(n: number | null): this {
    if (n !== null && (!Number.isInteger(n) || n < 0 || n > 255))
      throw new IssueError('bad-input', `pathLenConstraint must be in 0..255, got ${n}`);
    this._pathLen = n;
    return this;
  }

  nameConstraints(nc: NameConstraints): this {
    this._nameConstraints = nc;
    return this;
  }

  /** Replaces the profile's extKeyUsage (OIDs); null removes it. */
  extKeyUsage(oids: readonly string[] | null): this {
    this._eku = oids === null ? null : [...oids];
    return this;
  }

  /** Replaces the profile's keyUsage (always encoded critical, RFC 5280 §4.2.1.3 SHOULD). */
  keyUsage(ku: KeyUsage): this {
    this._keyUsage = ku;
    return this;
  }

  /**
   * cRLDistributionPoints (RFC 5280 §4.2.1.13, non-critical): URLs of the CRL that will list this
   * certificate, as one distribution point. Replaces the issuer's default; null omits it.
   */
  crlDistributionPoints(urls: readonly string[] | null): this {
    this._cdp = urls === null ? null : crlDistributionPointsExtension(urls);
    return this;
  }

  /**
   * authorityInfoAccess (RFC 5280 §4.2.2.1, non-critical): OCSP responder and caIssuers URLs.
   * Replaces the issuer's default; null omits it.
   */
  authorityInfoAccess(a: AuthorityInfoAccessUrls | null): this {
    this._aia = a === null ? null : authorityInfoAccessExtension(a);
    return this;
  }

  /** Adds an extension as is; one with the OID of a profile extension replaces that one. */
  extension(e: Extension): this {
    this._extra.push(e);
    return this;
  }

  /** Builds the TBS and lints it without signing. */
  prepare(signer?: Signer): Prepared {
    const subject = this._subject;
    const issuer = this.resolveIssuer(subject, signer);
    const spki = this._spki ?? (this._issuer ? undefined : issuer.spki);
    if (!spki) throw new IssueError('missing-field', 'the subject public key is not set');
    if (!subject) throw new IssueError('missing-field', 'the subject name is not set');
    const p = this.profile;
    const selfSigned = this._issuer === undefined;

    // Validity (whole seconds).
    const now = (this.opts.now ?? Date.now)();
    let notBefore = this._notBefore ?? now - (this.opts.backdateMs ?? DEFAULT_BACKDATE_MS);
    let notAfter =
      this._notAfter ??
      (this._days !== undefined && this._notBefore !== undefined ? this._notBefore : now) +
        (this._days ?? p.defaultDays) * DAY_MS;
    notBefore = notBefore - (notBefore % 1000);
    notAfter = notAfter - (notAfter % 1000);
    let clamped = false;
    const inb = issuer.notBefore;
    const ina = issuer.notAfter;
    if (ina !== undefined && notAfter > ina) {
      if (this.opts.validityClamp === 'error')
        throw new IssueError(
          'validity-exceeds-issuer',
          `notAfter ${new Date(notAfter).toISOString()} is after the issuer's notAfter ${new Date(ina).toISOString()}`,
        );
      notAfter = ina;
      clamped = true;
    }
    if (inb !== undefined && notBefore < inb) {
      notBefore = inb;
      clamped = true;
    }

    // Extensions, in a fixed order.
    const exts: Extension[] = [];
    const bc = basicConstraintsExtension(
      p.ca,
      p.ca ? (this._pathLen === null ? undefined : (this._pathLen ?? p.pathLenConstraint)) : undefined,
    );
    exts.push(bc.ext);
    const ku: TypedExtension<KeyUsage> = this._keyUsage
      ? keyUsageExtensionOf(this._keyUsage)
      : keyUsageExtension(p, spki.keyAlgorithm);
    exts.push(ku.ext);
    const ekuOids = this._eku === null ? undefined : (this._eku ?? p.extKeyUsage);
    if (ekuOids) exts.push(extKeyUsageExtension(ekuOids).ext);
    const san = this._san;
    if (san) exts.push(sanExtension(san, this._sanCritical ?? subject.isEmpty));
    const ski = selfSigned ? issuer.keyIdentifier : keyIdentifier(spki.publicKey, this.provider);
    exts.push(
      ski.length === 20
        ? subjectKeyIdentifierExtension(ski)
        : makeExtension(OID.subjectKeyIdentifier, false, encodeSubjectKeyIdentifier(ski)),
    );
    if (!selfSigned) exts.push(issuer.akiExtension);
    const cdp = this._cdp === null ? undefined : (this._cdp ?? issuer.cdpExtension);
    if (cdp) exts.push(cdp.ext);
    const aia = this._aia === null ? undefined : (this._aia ?? issuer.aiaExtension);
    if (aia) exts.push(aia.ext);
    if (this._nameConstraints)
      exts.push(makeExtension(OID.nameConstraints, true, encodeNc(this._nameConstraints)));
    const extra = this._extra;
    for (const e of extra) {
      let i = 0;
      while (i < exts.length && exts[i]!.oid !== e.oid) i++;
      exts[i] = e;
    }

    const serialNumber = this._serial ?? randomSerial(this.provider);
    // Typed values for the linter: decoded from caller extensions where those replaced ours.
    const hasExtra = extra.length > 0;
    const findings = lintCertificate({
      profile: p.name,
      serialNumber,
      issuerEmpty: issuer.name.isEmpty,
      subjectEmpty: subject.isEmpty,
      selfSigned,
      notBefore,
      notAfter,
      issuerNotAfter: ina,
      spki,
      signatureAlgorithm: issuer.signer.algorithm,
      extensions: exts,
      basicConstraints: hasExtra ? callerValue(extra, OID.basicConstraints, bc.value) : bc.value,
      keyUsage: hasExtra ? callerValue(extra, OID.keyUsage, ku.value) : ku.value,
      extKeyUsage: hasExtra ? callerValue(extra, OID.extKeyUsage, ekuOids) : ekuOids,
      subjectAltName: hasExtra ? callerValue(extra, OID.subjectAltName, san) : san,
      nameConstraints: hasExtra
        ? callerValue(extra, OID.nameConstraints, this._nameConstraints)
        : this._nameConstraints,
      subjectKeyIdentifier: hasExtra ? callerValue(extra, OID.subjectKeyIdentifier, ski) : ski,
      authorityKeyIdentifier: selfSigned
        ? hasExtra
          ? callerValue(extra, OID.authorityKeyIdentifier, undefined)
          : undefined
        : hasExtra
          ? callerValue(extra, OID.authorityKeyIdentifier, issuer.authorityKeyIdentifier)
          : issuer.authorityKeyIdentifier,
      cRLDistributionPoints: hasExtra
        ? callerValue(extra, OID.cRLDistributionPoints, cdp?.value)
        : cdp?.value,
      authorityInfoAccess: hasExtra ? callerValue(extra, OID.authorityInfoAccess, aia?.value) : aia?.value,
    });
    if (hasErrors(findings)) throw new LintError(findings);

    const assembly = assembleTbs(
      {
        serialNumber,
        signatureAlgorithm: issuer.signatureAlgorithm,
        issuer: issuer.name.der,
        validity: encodeValidity(notBefore, notAfter),
        subject: subject.der,
        spki: spki.der,
        extensions: exts,
      },
      issuer.signedTail,
    );
    return { tbs: assembly.tbs, assembly, issuer, serialNumber, notBefore, notAfter, clamped, findings };
  }

  private resolveIssuer(subject: Name | undefined, signer: Signer | undefined): Issuer {
    if (this._issuer) {
      if (signer && signer !== this._issuer.signer)
        throw new IssueError('signer-mismatch', 'pass the signer to Issuer.fromCertificate, not to sign()');
      return this._issuer;
    }
    if (this.profile.name !== 'root')
      throw new IssueError(
        'missing-field',
        `the ${this.profile.name} profile needs an issuer (only root is self-signed)`,
      );
    if (!signer) throw new IssueError('missing-field', 'a self-signed certificate needs a signer');
    if (!subject) throw new IssueError('missing-field', 'the subject name is not set');
    if (this._spki && !bytesEqual(this._spki.der, signer.publicKey))
      throw new IssueError('signer-mismatch', 'a self-signed certificate must be signed by its own key');
    return Issuer.selfSigned(subject, signer, { provider: this.provider });
  }

  private finish(p: Prepared, sig: Uint8Array): IssuedCertificate {
    if (
      this.opts.selfCheck === 'signature' &&
      !p.issuer.provider.verify(p.issuer.signer.algorithm, p.issuer.spki.der, p.tbs, sig)
    )
      throw new IssueError('signature-check-failed', 'the new signature does not verify with the issuer key');
    const { der, tbs } = assembleSigned(p.assembly, p.issuer.signatureAlgorithm, sig);
    return new IssuedCertificate(der, tbs, p.serialNumber, p.notBefore, p.notAfter, p.clamped, p.findings);
  }

  /** Builds, lints and signs synchronously (needs a signer with `signSync`). */
  signSync(signer?: Signer): IssuedCertificate {
    const p = this.prepare(signer);
    const s = p.issuer.signer;
    if (!s.signSync) throw new IssueError('bad-input', 'this signer cannot sign synchronously; use sign()');
    return this.finish(p, s.signSync(p.tbs));
  }

  /** Builds, lints and signs. For a root, `signer` is its own key; otherwise the issuer's signer is used. */
  async sign(signer?: Signer): Promise<IssuedCertificate> {
    const p = this.prepare(signer);
    const s = p.issuer.signer;
    return this.finish(p, s.signSync ? s.signSync(p.tbs) : await s.sign(p.tbs));
  }
}

export interface Prepared {
  /** The TBSCertificate to sign (a view into `assembly.buffer`, a slab view; see IssuedCertificate). */
  tbs: Uint8Array;
  assembly: TbsInPlace;
  issuer: Issuer;
  serialNumber: Uint8Array;
  notBefore: number;
  notAfter: number;
  clamped: boolean;
  findings: LintFinding[];
}

/** The typed value of a caller-supplied extension that replaced one of ours (else `ours`). */
function callerValue<T>(extra: readonly Extension[], oid: string, ours: T): T | undefined {
  const e = extra.find((x) => x.oid === oid);
  if (!e) return ours;
  try {
    return decodeExtension(e) as T | undefined;
  } catch (err) {
    throw new IssueError('bad-input', `malformed extension ${oid}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

function toMs(t: number | Date, what: string): number {
  const v = typeof t === 'number' ? t : t.getTime();
  if (!Number.isFinite(v)) throw new IssueError('bad-input', `${what} is not a valid time`);
  return v;
}

function sanExtension(names: readonly GeneralName[], critical: boolean): Extension {
  try {
    return subjectAltNameExtension(names as GeneralName[], critical);
  } catch (e) {
    throw new IssueError('bad-input', `cannot encode subjectAltName: ${(e as Error).message}`, { cause: e });
  }
}

function encodeNc(nc: NameConstraints): Uint8Array {
  try {
    return encodeNameConstraints(nc);
  } catch (e) {
    throw new IssueError('bad-input', `cannot encode nameConstraints: ${(e as Error).message}`, { cause: e });
  }
}
