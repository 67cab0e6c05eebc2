import { OID } from '../der/oid-names.js';
import type { SignatureAlgorithm } from '../x509/algorithm.js';
import type { Certificate } from '../x509/certificate.js';
import { KEY_USAGE_BITS, keyUsageMask } from '../x509/extensions/key-usage.js';
import type {
  AuthorityInfoAccess,
  AuthorityKeyIdentifier,
  BasicConstraints,
  CRLDistributionPoints,
  Extension,
  KeyUsage,
  NameConstraints,
} from '../x509/extensions/types.js';
import type { GeneralName } from '../x509/general-name.js';
import type { SubjectPublicKeyInfo } from '../x509/spki.js';
import type { IssuanceProfileName } from './profiles.js';
import { revocationUriProblem } from './revocation-info.js';

/**
 * The pre-signing linter: RFC 5280 "MUST"s (and a few "SHOULD"s as warnings) checked on what a
 * builder is about to sign. Builders run it on every certificate and CRL and refuse to sign
 * when any finding has severity 'error' (`LintError`). It works on the template (typed values
 * plus the encoded extension list), so it costs well under a microsecond per certificate;
 * `lintParsedCertificate` runs the same rules over an already-issued certificate.
 */

export type LintSeverity = 'error' | 'warning';

export type LintCode =
  /** RFC 5280 §4.1.2.2: the serial number must be a positive integer. */
  | 'serial-not-positive'
  /** RFC 5280 §4.1.2.2: the serial number must not be longer than 20 octets. */
  | 'serial-too-long'
  /** CA/B BR §7.1: fewer than 9 octets cannot hold 64 random bits plus a sign bit (warning). */
  | 'serial-short'
  /** RFC 5280 §4.1.2.4: the issuer field must be a non-empty name. */
  | 'issuer-empty'
  /** notBefore must be strictly before notAfter. */
  | 'validity-order'
  /** RFC 5280 §4.1.2.5: a time before 1950 or after 9999 cannot be encoded as UTCTime/GeneralizedTime as required. */
  | 'time-unencodable'
  /** The certificate would outlive its issuer (notAfter past the issuer's notAfter). */
  | 'validity-exceeds-issuer'
  /** RFC 5280 §4.2: an extension OID appears more than once. */
  | 'duplicate-extension'
  /** RFC 5280 §4.1.2.6/§4.2.1.6: an empty subject needs a subjectAltName extension. */
  | 'empty-subject-without-san'
  /** RFC 5280 §4.2.1.6: with an empty subject the subjectAltName must be critical. */
  | 'san-not-critical'
  /** RFC 5280 §4.2.1.6: a subjectAltName extension must contain at least one name. */
  | 'san-empty'
  /** RFC 5280 §4.2.1.9: basicConstraints must be critical in CA certificates. */
  | 'basic-constraints-not-critical'
  /** RFC 5280 §4.2.1.3: a CA certificate must carry keyUsage. */
  | 'ca-key-usage-missing'
  /** RFC 5280 §4.2.1.3/§4.2.1.9: a CA certificate must assert keyCertSign. */
  | 'ca-key-cert-sign-missing'
  /** RFC 5280 §4.2.1.3: keyCertSign requires basicConstraints cA TRUE. */
  | 'key-cert-sign-without-ca'
  /** RFC 5280 §4.2.1.3: keyUsage must have at least one bit set. */
  | 'key-usage-empty'
  /** RFC 5280 §4.2.1.3: keyUsage SHOULD be critical (warning). */
  | 'key-usage-not-critical'
  /** RFC 3279 §2.3, RFC 5480 §3, RFC 8410 §5: a keyUsage bit the key type cannot serve. */
  | 'key-usage-key-mismatch'
  /** RFC 5280 §4.2.1.9: pathLenConstraint only with cA TRUE and keyCertSign. */
  | 'path-len-without-ca'
  /** RFC 5280 §4.2.1.1: authorityKeyIdentifier must be present unless self-signed. */
  | 'aki-missing'
  /** RFC 5280 §4.2.1.1: authorityKeyIdentifier must be non-critical. */
  | 'aki-critical'
  /** RFC 5280 §4.2.1.1: authorityKeyIdentifier must contain keyIdentifier (for our issuance). */
  | 'aki-no-key-id'
  /** RFC 5280 §4.2.1.2: subjectKeyIdentifier must be in CA certificates (error) and should be in others (warning). */
  | 'ski-missing'
  /** RFC 5280 §4.2.1.2: subjectKeyIdentifier must be non-critical. */
  | 'ski-critical'
  /** RFC 5280 §4.2.1.10: nameConstraints must be critical. */
  | 'name-constraints-not-critical'
  /** RFC 5280 §4.2.1.10: nameConstraints only in CA certificates. */
  | 'name-constraints-on-end-entity'
  /** RSA modulus below 2048 bits (NIST SP 800-131A). */
  | 'rsa-key-too-small'
  /** An EC key on a curve other than P-256, P-384, P-521. */
  | 'curve-not-allowed'
  /** A key type we do not issue for (DSA, X25519/X448 in a signature profile, unknown). */
  | 'key-type-not-allowed'
  /** A signature with SHA-1 or MD5 (RFC 9155, RFC 6151). */
  | 'weak-signature-hash'
  /** RFC 5280 §4.2.1.12: extKeyUsage must list at least one purpose. */
  | 'eku-empty'
  /** The profile's required EKU (clientAuth for device, serverAuth for server) is absent. */
  | 'eku-missing'
  /** anyExtendedKeyUsage in an issued certificate (warning). */
  | 'eku-any'
  /** EKU on a root: Go then requires every leaf purpose to be listed (warning). */
  | 'eku-on-root'
  /** The server profile needs a subjectAltName (RFC 9525 §6: names come only from the SAN). */
  | 'server-san-missing'
  /** The certificate does not match its profile (a CA profile without cA TRUE, a root not self-signed, …). */
  | 'profile-mismatch'
  /** RFC 5280 §4.2.1.13/§4.2.2.1: a CRL distribution point or AIA URI that is not http(s) with a host, or ldap with a dn. */
  | 'uri-not-allowed'
  /** RFC 5280 §4.2.1.13: a distribution point must name a location or a cRLIssuer. */
  | 'crldp-empty'
  /** RFC 5280 §4.2.1.13: cRLDistributionPoints SHOULD be non-critical (warning). */
  | 'crldp-critical'
  /** RFC 5280 §4.2.2.1: authorityInfoAccess MUST be non-critical. */
  | 'aia-critical'
  /** RFC 5280 §5.2.3: a CRL must carry cRLNumber. */
  | 'crl-number-missing'
  /** RFC 5280 §5.2.3: cRLNumber is a non-negative integer of at most 20 octets. */
  | 'crl-number-range'
  /** RFC 5280 §5.2.1: a CRL must carry authorityKeyIdentifier. */
  | 'crl-aki-missing'
  /** RFC 5280 §5.1.2.5: conforming CAs must include nextUpdate. */
  | 'crl-next-update-missing'
  /** thisUpdate must be before nextUpdate. */
  | 'crl-update-order'
  /** RFC 5280 §5.2.5: issuingDistributionPoint must be critical. */
  | 'crl-idp-not-critical'
  /** RFC 5280 §5.2.4: deltaCRLIndicator must be critical. */
  | 'crl-delta-not-critical'
  /** RFC 5280 §5.2.4: a delta CRL's BaseCRLNumber must be below its own cRLNumber. */
  | 'crl-delta-base-order'
  /** RFC 5280 §5.3.1: removeFromCRL is only for delta CRLs. */
  | 'crl-remove-from-crl-in-full'
  /** The same serial number is listed twice. */
  | 'crl-duplicate-entry'
  /** A revoked serial number that is not positive (warning: non-conforming CAs issue those, §4.1.2.2). */
  | 'crl-entry-serial-not-positive'
  /** RFC 5280 §4.2.1.3: the CRL issuer's certificate must assert cRLSign. */
  | 'crl-issuer-no-crl-sign';

/** One linter finding: a stable `code`, its severity (errors stop signing) and a message. */
export interface LintFinding {
  code: LintCode;
  severity: LintSeverity;
  message: string;
}

/** What the certificate linter looks at: the template about to be signed. */
export interface CertificateLintInput {
  profile?: IssuanceProfileName;
  /** INTEGER content octets. */
  serialNumber: Uint8Array;
  issuerEmpty: boolean;
  subjectEmpty: boolean;
  selfSigned: boolean;
  notBefore: number;
  notAfter: number;
  issuerNotAfter?: number;
  spki: SubjectPublicKeyInfo;
  signatureAlgorithm: SignatureAlgorithm;
  /** The encoded extensions, in order (for duplicates and criticality). */
  extensions: readonly Extension[];
  basicConstraints?: BasicConstraints;
  keyUsage?: KeyUsage;
  extKeyUsage?: readonly string[];
  subjectAltName?: readonly GeneralName[];
  nameConstraints?: NameConstraints;
  subjectKeyIdentifier?: Uint8Array;
  authorityKeyIdentifier?: AuthorityKeyIdentifier;
  cRLDistributionPoints?: CRLDistributionPoints;
  authorityInfoAccess?: AuthorityInfoAccess;
}

class Findings {
  readonly list: LintFinding[] = [];
  error(code: LintCode, message: string): void {
    this.list.push({ code, severity: 'error', message });
  }
  warn(code: LintCode, message: string): void {
    this.list.push({ code, severity: 'warning', message });
  }
}

export function hasErrors(findings: readonly LintFinding[]): boolean {
  for (const f of findings) if (f.severity === 'error') return true;
  return false;
}

// Years representable by RFC 5280 §4.1.2.5 times: UTCTime covers 1950–2049, GeneralizedTime
// is required from 2050 and has four year digits.
const MIN_TIME = Date.UTC(1950, 0, 1);
const MAX_TIME = Date.UTC(9999, 11, 31, 23, 59, 59);

function checkTime(f: Findings, what: string, t: number): void {
  if (!Number.isFinite(t) || t < MIN_TIME || t > MAX_TIME)
    f.error(
      'time-unencodable',
      `${what} ${Number.isFinite(t) ? new Date(t).toISOString() : t} is outside 1950..9999`,
    );
}

function checkSerial(f: Findings, s: Uint8Array): void {
  if (s.length === 0 || s[0]! & 0x80 || (s.length === 1 && s[0] === 0))
    f.error('serial-not-positive', 'serial number must be a positive integer (RFC 5280 §4.1.2.2)');
  // RFC 5280 §4.1.2.2 counts the content octets, sign octet included.
  if (s.length > 20) f.error('serial-too-long', `serial number has ${s.length} octets; at most 20 allowed`);
  else if (s.length < 9)
    f.warn('serial-short', `serial number has ${s.length} octets: too short for 64 random bits`);
}

// KeyUsage bits each key type may assert (RFC 3279 §2.3.1 RSA, RFC 5480 §3 EC, RFC 8410 §5 EdDSA).
const KU_ALLOWED: Record<string, readonly (keyof KeyUsage)[]> = {
  rsa: [
    'digitalSignature',
    'nonRepudiation',
    'keyEncipherment',
    'dataEncipherment',
    'keyCertSign',
    'cRLSign',
  ],
  ec: [
    'digitalSignature',
    'nonRepudiation',
    'keyAgreement',
    'keyCertSign',
    'cRLSign',
    'encipherOnly',
    'decipherOnly',
  ],
  ed: ['digitalSignature', 'nonRepudiation', 'keyCertSign', 'cRLSign'],
};
const KU_NAMES: readonly (keyof KeyUsage)[] = KEY_USAGE_BITS;
const KU_ALLOWED_MASK: Record<string, number> = Object.fromEntries(
  Object.entries(KU_ALLOWED).map(([k, names]) => [
    k,
    names.reduce((m, b) => m | (1 << KU_NAMES.indexOf(b)), 0),
  ]),
);

function checkKey(f: Findings, spki: SubjectPublicKeyInfo): string | undefined {
  const k = spki.keyAlgorithm;
  switch (k.kind) {
    case 'rsa':
    case 'rsa-pss':
      if (spki.keySize < 2048)
        f.error('rsa-key-too-small', `RSA key of ${spki.keySize} bits; at least 2048 required`);
      return 'rsa';
    case 'ec':
      if (k.curve !== 'P-256' && k.curve !== 'P-384' && k.curve !== 'P-521')
        f.error('curve-not-allowed', `EC curve ${k.curve} is not allowed (P-256, P-384, P-521)`);
      return 'ec';
    case 'ed25519':
    case 'ed448':
      return 'ed';
    default:
      f.error('key-type-not-allowed', `cannot issue for a ${k.kind} key`);
      return undefined;
  }
}

function checkSignatureAlgorithm(f: Findings, a: SignatureAlgorithm): void {
  if ('hash' in a && (a.hash === 'SHA-1' || a.hash === 'MD5'))
    f.error('weak-signature-hash', `${a.kind} with ${a.hash} is not acceptable for new signatures`);
}

/**
 * Duplicate OIDs, and a criticality lookup for the extensions the rules care about. A linear
 * scan: certificates carry about ten extensions, and no Map per certificate.
 */
class ExtensionScan {
  constructor(
    f: Findings,
    private readonly exts: readonly Extension[],
  ) {
    for (let i = 1; i < exts.length; i++)
      for (let j = 0; j < i; j++)
        if (exts[i]!.oid === exts[j]!.oid) {
          f.error('duplicate-extension', `extension ${exts[i]!.oid} appears more than once (RFC 5280 §4.2)`);
          break;
        }
  }
  /** The first occurrence's critical flag, or undefined when absent. */
  get(oid: string): boolean | undefined {
    for (const e of this.exts) if (e.oid === oid) return e.critical;
    return undefined;
  }
  has(oid: string): boolean {
    return this.get(oid) !== undefined;
  }
}

/** Lints a certificate template; the builders call this before signing. */
export function lintCertificate(c: CertificateLintInput): LintFinding[] {
  const f = new Findings();
  checkSerial(f, c.serialNumber);
  if (c.issuerEmpty) f.error('issuer-empty', 'issuer name must not be empty (RFC 5280 §4.1.2.4)');
  checkTime(f, 'notBefore', c.notBefore);
  checkTime(f, 'notAfter', c.notAfter);
  if (!(c.notBefore < c.notAfter)) f.error('validity-order', 'notBefore must be before notAfter');
  if (c.issuerNotAfter !== undefined && c.notAfter > c.issuerNotAfter)
    f.error(
      'validity-exceeds-issuer',
      `notAfter ${new Date(c.notAfter).toISOString()} is after the issuer's`,
    );
  checkSignatureAlgorithm(f, c.signatureAlgorithm);
  const keyClass = checkKey(f, c.spki);
  const crit = new ExtensionScan(f, c.extensions);

  const bc = c.basicConstraints;
  const isCA = bc?.cA === true;
  const ku = c.keyUsage;

  // §4.2.1.9 basicConstraints
  if (isCA && crit.get(OID.basicConstraints) !== true)
    f.error('basic-constraints-not-critical', 'basicConstraints must be critical in a CA certificate');
  if (bc && bc.pathLenConstraint !== undefined && !(isCA && ku?.keyCertSign))
    f.error('path-len-without-ca', 'pathLenConstraint requires cA TRUE and keyCertSign (RFC 5280 §4.2.1.9)');

  // §4.2.1.3 keyUsage
  if (ku) {
    const mask = keyUsageMask(ku);
    if (mask === 0) f.error('key-usage-empty', 'keyUsage must assert at least one bit');
    if (crit.get(OID.keyUsage) !== true) f.warn('key-usage-not-critical', 'keyUsage should be critical');
    if (ku.keyCertSign && !isCA)
      f.error('key-cert-sign-without-ca', 'keyCertSign requires basicConstraints cA TRUE');
    if (keyClass) {
      const allowed = KU_ALLOWED_MASK[keyClass]!;
      if (mask & ~allowed)
        for (let i = 0; i < KU_NAMES.length; i++)
          if (mask & ~allowed & (1 << i))
            f.error(
              'key-usage-key-mismatch',
              `keyUsage ${KU_NAMES[i]} is not possible with a ${c.spki.keyAlgorithm.kind} key`,
            );
      if ((ku.encipherOnly || ku.decipherOnly) && !ku.keyAgreement)
        f.error('key-usage-key-mismatch', 'encipherOnly/decipherOnly need keyAgreement');
    }
  }
  if (isCA) {
    if (!ku) f.error('ca-key-usage-missing', 'a CA certificate must carry keyUsage');
    else if (!ku.keyCertSign) f.error('ca-key-cert-sign-missing', 'a CA certificate must assert keyCertSign');
  }

  // §4.2.1.6 subjectAltName
  const san = c.subjectAltName;
  if (san && san.length === 0) f.error('san-empty', 'subjectAltName must contain at least one name');
  if (c.subjectEmpty) {
    if (!san) f.error('empty-subject-without-san', 'an empty subject needs a subjectAltName');
    else if (crit.get(OID.subjectAltName) !== true)
      f.error('san-not-critical', 'subjectAltName must be critical when the subject is empty');
  }

  // §4.2.1.1 / §4.2.1.2 key identifiers
  if (!c.selfSigned) {
    if (!c.authorityKeyIdentifier)
      f.error('aki-missing', 'authorityKeyIdentifier is required (not self-signed)');
    else if (!c.authorityKeyIdentifier.keyIdentifier)
      f.error('aki-no-key-id', 'authorityKeyIdentifier must contain keyIdentifier');
  }
  if (crit.get(OID.authorityKeyIdentifier) === true)
    f.error('aki-critical', 'authorityKeyIdentifier must be non-critical');
  if (!c.subjectKeyIdentifier) {
    if (isCA) f.error('ski-missing', 'a CA certificate must carry subjectKeyIdentifier');
    else f.warn('ski-missing', 'subjectKeyIdentifier should be present');
  }
  if (crit.get(OID.subjectKeyIdentifier) === true)
    f.error('ski-critical', 'subjectKeyIdentifier must be non-critical');

  // §4.2.1.10 nameConstraints
  if (c.nameConstraints) {
    if (!isCA) f.error('name-constraints-on-end-entity', 'nameConstraints are only for CA certificates');
    if (crit.get(OID.nameConstraints) !== true)
      f.error('name-constraints-not-critical', 'nameConstraints must be critical');
  }

  // §4.2.1.12 extKeyUsage
  const eku = c.extKeyUsage;
  if (eku) {
    if (eku.length === 0) f.error('eku-empty', 'extKeyUsage must list at least one purpose');
    if (eku.includes(OID.anyExtendedKeyUsage)) f.warn('eku-any', 'anyExtendedKeyUsage allows any purpose');
  }

  // §4.2.1.13 cRLDistributionPoints, §4.2.2.1 authorityInfoAccess: relying parties fetch these.
  if (c.cRLDistributionPoints) {
    if (crit.get(OID.cRLDistributionPoints) === true)
      f.warn('crldp-critical', 'cRLDistributionPoints should be non-critical');
    for (const dp of c.cRLDistributionPoints) {
      if (!dp.distributionPoint && !dp.cRLIssuer)
        f.error('crldp-empty', 'a distribution point must have a distributionPoint name or a cRLIssuer');
      for (const g of dp.distributionPoint?.fullName ?? []) checkUri(f, 'cRLDistributionPoints', g);
    }
  }
  if (c.authorityInfoAccess) {
    if (crit.get(OID.authorityInfoAccess) === true)
      f.error('aia-critical', 'authorityInfoAccess must be non-critical');
    for (const a of c.authorityInfoAccess) checkUri(f, 'authorityInfoAccess', a.accessLocation);
  }

  // Profiles
  switch (c.profile) {
    case 'root':
      if (!isCA) f.error('profile-mismatch', 'root profile needs basicConstraints cA TRUE');
      if (!c.selfSigned) f.error('profile-mismatch', 'root profile must be self-signed');
      if (eku) f.warn('eku-on-root', 'extKeyUsage on a root constrains every certificate below it (Go)');
      break;
    case 'intermediate':
      if (!isCA) f.error('profile-mismatch', 'intermediate profile needs basicConstraints cA TRUE');
      if (c.selfSigned) f.error('profile-mismatch', 'intermediate profile must be issued by another CA');
      break;
    case 'device':
      if (isCA) f.error('profile-mismatch', 'device profile must not be a CA');
      if (!eku?.includes(OID.clientAuth))
        f.error('eku-missing', 'device profile needs extKeyUsage clientAuth');
      break;
    case 'server':
      if (isCA) f.error('profile-mismatch', 'server profile must not be a CA');
      if (!eku?.includes(OID.serverAuth))
        f.error('eku-missing', 'server profile needs extKeyUsage serverAuth');
      if (!san || san.length === 0) f.error('server-san-missing', 'server profile needs a subjectAltName');
      break;
  }
  return f.list;
}

function checkUri(f: Findings, where: string, g: GeneralName): void {
  if (g.type !== 'uniformResourceIdentifier') return;
  const why = revocationUriProblem(g.value);
  if (why) f.error('uri-not-allowed', `${where}: ${why}`);
}

/** The certificate rules over an issued, parsed certificate (e.g. one made by another CA). */
export function lintParsedCertificate(
  cert: Certificate,
  signatureAlgorithm: SignatureAlgorithm,
  opts: { profile?: IssuanceProfileName; issuerNotAfter?: number } = {},
): LintFinding[] {
  return lintCertificate({
    profile: opts.profile,
    serialNumber: cert.serialNumber,
    issuerEmpty: cert.issuer.isEmpty,
    subjectEmpty: cert.subject.isEmpty,
    selfSigned: cert.isSelfIssued,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    issuerNotAfter: opts.issuerNotAfter,
    spki: cert.subjectPublicKeyInfo,
    signatureAlgorithm,
    extensions: cert.extensions,
    basicConstraints: cert.basicConstraints,
    keyUsage: cert.keyUsage,
    extKeyUsage: cert.extKeyUsage,
    subjectAltName: cert.subjectAltName,
    nameConstraints: cert.nameConstraints,
    subjectKeyIdentifier: cert.subjectKeyIdentifier,
    authorityKeyIdentifier: cert.authorityKeyIdentifier,
    cRLDistributionPoints: cert.cRLDistributionPoints,
    authorityInfoAccess: cert.authorityInfoAccess,
  });
}

/** What the CRL linter looks at. */
export interface CrlLintInput {
  thisUpdate: number;
  nextUpdate?: number;
  crlNumber?: bigint;
  deltaBase?: bigint;
  authorityKeyIdentifier?: AuthorityKeyIdentifier;
  /** The issuer certificate's keyUsage, when known. */
  issuerKeyUsage?: KeyUsage;
  signatureAlgorithm: SignatureAlgorithm;
  extensions: readonly Extension[];
  entries: readonly {
    serialNumber: Uint8Array;
    reason?: string;
    revocationDate: number;
    invalidityDate?: number;
  }[];
}

// 20 octets of a non-negative INTEGER hold values below 2^159 (RFC 5280 §5.2.3).
const MAX_CRL_NUMBER = (1n << 159n) - 1n;

export function lintCrl(c: CrlLintInput): LintFinding[] {
  const f = new Findings();
  checkTime(f, 'thisUpdate', c.thisUpdate);
  if (c.nextUpdate === undefined)
    f.error('crl-next-update-missing', 'nextUpdate is required (RFC 5280 §5.1.2.5)');
  else {
    checkTime(f, 'nextUpdate', c.nextUpdate);
    if (!(c.thisUpdate < c.nextUpdate)) f.error('crl-update-order', 'thisUpdate must be before nextUpdate');
  }
  checkSignatureAlgorithm(f, c.signatureAlgorithm);
  if (c.crlNumber === undefined) f.error('crl-number-missing', 'cRLNumber is required (RFC 5280 §5.2.3)');
  else if (c.crlNumber < 0n || c.crlNumber > MAX_CRL_NUMBER)
    f.error('crl-number-range', 'cRLNumber must be a non-negative integer of at most 20 octets');
  if (c.deltaBase !== undefined) {
    if (c.deltaBase < 0n || c.deltaBase > MAX_CRL_NUMBER)
      f.error('crl-number-range', 'BaseCRLNumber must be a non-negative integer of at most 20 octets');
    if (c.crlNumber !== undefined && c.deltaBase >= c.crlNumber)
      f.error('crl-delta-base-order', 'a delta CRL must have a higher cRLNumber than its base CRL');
  }
  if (!c.authorityKeyIdentifier?.keyIdentifier)
    f.error('crl-aki-missing', 'authorityKeyIdentifier is required (RFC 5280 §5.2.1)');
  if (c.issuerKeyUsage && !c.issuerKeyUsage.cRLSign)
    f.error('crl-issuer-no-crl-sign', 'the issuer certificate does not assert cRLSign');
  const crit = new ExtensionScan(f, c.extensions);
  if (crit.has(OID.issuingDistributionPoint) && !crit.get(OID.issuingDistributionPoint))
    f.error('crl-idp-not-critical', 'issuingDistributionPoint must be critical');
  if (crit.has(OID.deltaCRLIndicator) && !crit.get(OID.deltaCRLIndicator))
    f.error('crl-delta-not-critical', 'deltaCRLIndicator must be critical');
  const seen = new Set<string>();
  for (const e of c.entries) {
    let key = '';
    for (const b of e.serialNumber) key += String.fromCharCode(b);
    if (seen.has(key)) f.error('crl-duplicate-entry', 'a serial number is listed twice');
    seen.add(key);
    const s = e.serialNumber;
    if (s.length === 0 || s[0]! & 0x80 || (s.length === 1 && s[0] === 0))
      f.warn('crl-entry-serial-not-positive', 'a revoked serial number is not positive');
    if (e.reason === 'removeFromCRL' && c.deltaBase === undefined)
      f.error('crl-remove-from-crl-in-full', 'removeFromCRL is only allowed in delta CRLs');
    checkTime(f, 'revocationDate', e.revocationDate);
    if (e.invalidityDate !== undefined) checkTime(f, 'invalidityDate', e.invalidityDate);
  }
  return f.list;
}
