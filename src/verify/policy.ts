import type { SignatureAlgorithm } from '../x509/algorithm.js';
import type { Certificate } from '../x509/certificate.js';
import type { KeyUsage } from '../x509/extensions/types.js';
import type { BudgetLimits } from './budget.js';
import type { DnsLeadingDot } from './name-constraints.js';

/**
 * `ValidationPolicy`: what a relying party accepts, as data. A profile supplies the defaults
 * (`profileRules`); every field can be overridden.
 *
 * - `rfc5280`: RFC 5280 §6.1 plus the profile's MUSTs that a verifier can check (what NIST
 *   PKITS and x509-limbo's `rfc5280::` cases test). All algorithms the crypto provider verifies.
 * - `webpki`: the CA/Browser Forum Baseline Requirements as a client sees them (x509-limbo's
 *   `webpki::` cases): SAN required on server leaves, no CN fallback, CN must copy a SAN, EKU
 *   required on leaves and constraining on CAs, no EKU on roots, RSA ≥ 2048 and divisible by 8,
 *   P-256/P-384/P-521 named curves only, no DSA, v3 only, no CA certificate as a leaf.
 * - `iot` (default): `webpki` strictness, plus the RFC 5280 checks, without SHA-1, for
 *   device (clientAuth) and broker (serverAuth) chains.
 */
export type Profile = 'rfc5280' | 'webpki' | 'iot';

/** Purposes by name, or any KeyPurposeId OID. */
export type Purpose = 'serverAuth' | 'clientAuth' | 'any' | (string & {});

export const EKU_OIDS = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  OCSPSigning: '1.3.6.1.5.5.7.3.9',
  anyExtendedKeyUsage: '2.5.29.37.0',
} as const;

export function purposeOid(p: Purpose): string | undefined {
  if (p === 'any') return undefined;
  return (EKU_OIDS as Record<string, string>)[p] ?? p;
}

export const ANY_POLICY = '2.5.29.32.0';

// ---- revocation hook ------------------------------------------------------------------------

export type RevocationStatus =
  | { status: 'good' }
  | { status: 'revoked'; reason?: string; revocationDate?: number }
  | { status: 'unknown'; why: string };

export interface RevocationContext {
  /** The certificate whose status is asked for. */
  cert: Certificate;
  /** Its issuer (the next certificate up, or the anchor). */
  issuer: Certificate;
  /** The whole validated path, leaf first, anchor last. */
  chain: readonly Certificate[];
  /** Index of `cert` in `chain`. */
  index: number;
  /** Validation time, epoch ms. */
  time: number;
  /**
   * The validation's clock-skew tolerance, ms (`ValidationPolicy.clockSkewMs`): a revocation
   * checker applies it to CRL and OCSP times unless configured with its own.
   */
  clockSkewMs?: number;
}

/**
 * Called for each certificate of a path that passed every other check (leaf first), so that a
 * revoked intermediate makes the builder try another path. The revocation layer implements it
 * (CRLs, OCSP); tests may pass a table.
 */
export interface RevocationChecker {
  check(ctx: RevocationContext): RevocationStatus | Promise<RevocationStatus>;
  /**
   * A synchronous answer, used by `verifyPathSync` in preference to `check`. It throws (a typed
   * error of the implementing layer) when it cannot answer without I/O.
   */
  checkSync?(ctx: RevocationContext): RevocationStatus;
}

// ---- the policy -----------------------------------------------------------------------------

/** A named signature algorithm, e.g. `ecdsa-sha256`, `rsa-pkcs1-sha256`, `rsa-pss-sha256`, `ed25519`. */
export type SignatureAlgorithmName = string;

export function signatureAlgorithmName(a: SignatureAlgorithm): SignatureAlgorithmName {
  switch (a.kind) {
    case 'ed25519':
    case 'ed448':
      return a.kind;
    default:
      return `${a.kind}-${a.hash.toLowerCase().replace('-', '')}`;
  }
}

export interface ValidationPolicy {
  profile: Profile;
  /** Validation time (epoch ms); default: now. Compared at one-second granularity (floored). */
  time?: number;
  /**
   * Clock-skew tolerance in milliseconds: a certificate is accepted from `notBefore − clockSkewMs`
   * to `notAfter + clockSkewMs`, and the revocation checker widens CRL and OCSP time windows by
   * the same amount unless it has its own setting. Default 0 in every profile (`rfc5280`,
   * `webpki`, `iot`): RFC 5280 §6.1.3 (a)(2) compares exactly, and fleetpki backdates what it
   * issues (certificates' notBefore, CRL thisUpdate, OCSP thisUpdate/producedAt: 5 minutes)
   * so that relying parties with slow clocks need no tolerance for it. Set it for issuers that
   * do not backdate, or for devices whose clocks are known to drift.
   */
  clockSkewMs: number;
  purpose: Purpose;
  /**
   * Maximum number of intermediates (self-issued ones not counted, as for pathLenConstraint);
   * x509-limbo's `max_chain_depth`.
   */
  maxIntermediates: number;
  /** Allowed signature algorithms (names from `signatureAlgorithmName`); undefined = any supported. */
  signatureAlgorithms?: readonly SignatureAlgorithmName[];
  /** Minimum RSA modulus size in bits for every key in the path. */
  minRsaBits: number;
  /** CA/B BR §6.1.5: RSA modulus length must be a multiple of 8. */
  rsaModulusMultipleOf8: boolean;
  /** Allowed EC curves (names as in `PublicKeyAlgorithm`); undefined = any the provider supports. */
  curves?: readonly string[];
  /** Allow DSA keys (only PKITS still has them). */
  allowDsa: boolean;
  /** Bits the leaf's keyUsage must assert when it has the extension (x509-limbo `key_usage`). */
  leafKeyUsage?: readonly (keyof KeyUsage)[];

  // RFC 5280 §6.1.1 (c)–(f) initial inputs
  initialPolicySet: readonly string[];
  initialExplicitPolicy: boolean;
  initialPolicyMappingInhibit: boolean;
  initialAnyPolicyInhibit: boolean;

  /** dNSName constraints with a leading period: malformed (RFC 5280) or subdomains-only (OpenSSL, Go). */
  dnsConstraintLeadingDot: DnsLeadingDot;
  /**
   * Public-suffix test for wildcard SANs (`*.co.uk`): a function returning true for a public
   * suffix. The core has no list of its own; the CLI and conformance runner pass one.
   */
  isPublicSuffix?: (domain: string) => boolean;

  revocation?: RevocationChecker;
  /** What an `unknown` revocation status means: reject (`deny`, the default) or accept. */
  revocationUnknown: 'deny' | 'allow';

  budget?: Partial<BudgetLimits>;
  rules: ProfileRules;
}

/**
 * Checks that differ between profiles. Each names the rule it enforces; `true` = enforced.
 */
export interface ProfileRules {
  /** RFC 5280 §4.2.1.9: basicConstraints MUST be critical in CA certificates. */
  basicConstraintsCritical: boolean;
  /** RFC 5280 §4.2.1.11: policyConstraints MUST be critical. */
  policyConstraintsCritical: boolean;
  /** RFC 5280 §4.2.1.1: AKI keyIdentifier in every certificate that is not self-signed. */
  akiRequired: boolean;
  /** RFC 5280 §4.2.1.2: SKI in every CA certificate. */
  skiRequiredOnCa: boolean;
  /** RFC 5280 §4.1.2.2: serial positive, at most 20 octets. */
  serialNumberRules: boolean;
  /** RFC 5280 §4.2.1.10: nameConstraints MUST be critical (the BRs allow non-critical). */
  nameConstraintsCritical: boolean;
  /** CA/B BR §7.1.2.1.3: a root's AKI, if present, has only keyIdentifier, equal to its SKI. */
  rootAkiRules: boolean;
  /** CA/B BR §7.1.2.7.6/7.1.2.7.10: leaf EKU present, non-critical, without anyExtendedKeyUsage. */
  leafEkuRules: boolean;
  /** CA/B BR §7.1.2.1.2: no EKU in a root. */
  rootEkuForbidden: boolean;
  /** EKU in an intermediate constrains the leaf's purpose (Go, Chrome, the BRs). */
  caEkuConstrains: boolean;
  /** CA/B BR §7.1.2.7.12: SAN required in a leaf; critical only when the subject is empty. */
  sanRules: boolean;
  /**
   * CA/B BR §7.1.4.3: a leaf's CN copies one of its SAN values character for character
   * (`all`), only for CNs that read as IP addresses (`ip`), or not checked (`off`).
   */
  commonNameInSan: 'all' | 'ip' | 'off';
  /** Name constraints also apply to a DNS- or IP-like subject CN, in a leaf without SAN (Go before 1.15). */
  commonNameConstrained: boolean;
  /** CA/B BR §7.1.2.5.2: nameConstraints must have at least one subtree. */
  nameConstraintsNonEmpty: boolean;
  /** CA/B BR §7.1.1: v3 only. */
  v3Only: boolean;
  /**
   * A CA certificate in leaf position: `reject` (CA/B BR §7.1.2.7.8/7.1.2.7.11), `consistent`
   * (allowed when cA and keyCertSign agree), `allow` (RFC 5280 makes no rule).
   */
  leafCa: 'reject' | 'consistent' | 'allow';
  /** Wildcard SANs over a public suffix (or `*` alone) are rejected. */
  wildcardPublicSuffix: boolean;
}

const RFC5280_RULES: ProfileRules = {
  basicConstraintsCritical: true,
  policyConstraintsCritical: true,
  akiRequired: true,
  skiRequiredOnCa: true,
  serialNumberRules: true,
  nameConstraintsCritical: true,
  rootAkiRules: false,
  leafEkuRules: false,
  rootEkuForbidden: false,
  caEkuConstrains: false,
  sanRules: false,
  commonNameInSan: 'off',
  commonNameConstrained: false,
  nameConstraintsNonEmpty: false,
  v3Only: false,
  leafCa: 'consistent',
  wildcardPublicSuffix: false,
};

const WEBPKI_RULES: ProfileRules = {
  basicConstraintsCritical: true,
  policyConstraintsCritical: true,
  akiRequired: true,
  skiRequiredOnCa: true,
  serialNumberRules: true,
  nameConstraintsCritical: false,
  rootAkiRules: true,
  leafEkuRules: true,
  rootEkuForbidden: true,
  caEkuConstrains: true,
  sanRules: true,
  commonNameInSan: 'all',
  commonNameConstrained: true,
  nameConstraintsNonEmpty: true,
  v3Only: true,
  leafCa: 'reject',
  wildcardPublicSuffix: true,
};

/** Signature algorithms the BRs (§7.1.3.2) allow; Ed25519 added for IoT keys. */
export const WEBPKI_SIGNATURE_ALGORITHMS: readonly SignatureAlgorithmName[] = [
  'rsa-pkcs1-sha256',
  'rsa-pkcs1-sha384',
  'rsa-pkcs1-sha512',
  'rsa-pss-sha256',
  'rsa-pss-sha384',
  'rsa-pss-sha512',
  'ecdsa-sha256',
  'ecdsa-sha384',
  'ecdsa-sha512',
];

export const IOT_SIGNATURE_ALGORITHMS: readonly SignatureAlgorithmName[] = [
  ...WEBPKI_SIGNATURE_ALGORITHMS,
  'ed25519',
  'ed448',
];

/** The defaults of a profile; `overrides` replace fields (rules are merged). */
export function profilePolicy(
  profile: Profile = 'iot',
  overrides: Partial<Omit<ValidationPolicy, 'rules'>> & { rules?: Partial<ProfileRules> } = {},
): ValidationPolicy {
  const base: ValidationPolicy = {
    profile,
    purpose: 'serverAuth',
    maxIntermediates: 8,
    clockSkewMs: 0,
    minRsaBits: profile === 'rfc5280' ? 1024 : 2048,
    rsaModulusMultipleOf8: profile !== 'rfc5280',
    allowDsa: profile === 'rfc5280',
    initialPolicySet: [ANY_POLICY],
    initialExplicitPolicy: false,
    initialPolicyMappingInhibit: false,
    initialAnyPolicyInhibit: false,
    dnsConstraintLeadingDot: 'reject',
    revocationUnknown: 'deny',
    rules: profile === 'rfc5280' ? RFC5280_RULES : WEBPKI_RULES,
  };
  // BR §7.1.4.3 (CN copies a SAN) is an issuance rule that mainstream clients do not enforce
  // and that BetterTLS contradicts (it expects a CN that no SAN holds, DNS-like or IP-like, to
  // be ignored); our issuance linter enforces it, the iot verifier ignores the CN entirely.
  if (profile === 'iot') base.rules = { ...WEBPKI_RULES, commonNameInSan: 'off', leafCa: 'consistent' };
  if (profile === 'webpki') {
    base.signatureAlgorithms = [...WEBPKI_SIGNATURE_ALGORITHMS, 'ed25519'];
    base.curves = ['P-256', 'P-384', 'P-521'];
  } else if (profile === 'iot') {
    base.signatureAlgorithms = IOT_SIGNATURE_ALGORITHMS;
    base.curves = ['P-256', 'P-384', 'P-521'];
  }
  const { rules, ...rest } = overrides;
  // An explicit `undefined` means "any" for the two optional allow-lists, "default" elsewhere.
  const given = Object.fromEntries(
    Object.entries(rest).filter(([k, v]) => v !== undefined || k === 'signatureAlgorithms' || k === 'curves'),
  );
  return { ...base, ...given, rules: { ...base.rules, ...(rules ?? {}) } };
}
