import type { SignatureAlgorithm } from '../x509/algorithm.js';
import type { Certificate } from '../x509/certificate.js';
import type { KeyUsage } from '../x509/extensions/types.js';
import type { BudgetLimits } from './budget.js';
import { VerifyError } from './errors.js';
import type { DnsLeadingDot } from './name-constraints.js';

/**
 * `ValidationPolicy`: what a relying party accepts, as data. A profile supplies the defaults
 * (`profilePolicy`); every field can be overridden.
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
export type ValidationProfile = 'rfc5280' | 'webpki' | 'iot';

/** The validation profiles, for option parsing and listings. */
export const VALIDATION_PROFILES: readonly ValidationProfile[] = ['rfc5280', 'webpki', 'iot'];

/** Purposes by name, or any KeyPurposeId OID. */
export type Purpose = 'serverAuth' | 'clientAuth' | 'any' | (string & {});

/** KeyPurposeId OIDs by name (RFC 5280 §4.2.1.12). */
export const EKU_OIDS = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  OCSPSigning: '1.3.6.1.5.5.7.3.9',
  anyExtendedKeyUsage: '2.5.29.37.0',
} as const;

/** The KeyPurposeId OID of a purpose; undefined for `any` (no EKU requirement). */
export function purposeOid(p: Purpose | undefined): string | undefined {
  if (p === 'any' || p === undefined) return undefined;
  return (EKU_OIDS as Record<string, string>)[p] ?? p;
}

/** anyPolicy (RFC 5280 §4.2.1.4). */
export const ANY_POLICY = '2.5.29.32.0';

// ---- revocation hook ------------------------------------------------------------------------

/** A revocation checker's answer for one certificate. */
export type RevocationStatus =
  | { status: 'good' }
  | { status: 'revoked'; reason?: string; revocationDate?: number }
  | { status: 'unknown'; why: string };

/** What a revocation checker is asked about: one certificate of a validated path. */
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

/**
 * Every name a `signatureAlgorithms` allow-list may hold: `<scheme>-<hash>` for RSA PKCS#1 v1.5,
 * RSASSA-PSS, ECDSA and DSA, and `ed25519`/`ed448`. (MD5 signatures are refused whatever the
 * policy says, so no MD5 name is listed.)
 */
export const SIGNATURE_ALGORITHM_NAMES = [
  'rsa-pkcs1-sha1',
  'rsa-pkcs1-sha224',
  'rsa-pkcs1-sha256',
  'rsa-pkcs1-sha384',
  'rsa-pkcs1-sha512',
  'rsa-pss-sha1',
  'rsa-pss-sha224',
  'rsa-pss-sha256',
  'rsa-pss-sha384',
  'rsa-pss-sha512',
  'ecdsa-sha1',
  'ecdsa-sha224',
  'ecdsa-sha256',
  'ecdsa-sha384',
  'ecdsa-sha512',
  'dsa-sha1',
  'dsa-sha256',
  'ed25519',
  'ed448',
] as const;

/** A signature algorithm as a validation policy names it, e.g. `ecdsa-sha256`, `rsa-pss-sha256`, `ed25519`. */
export type SignatureAlgorithmName = (typeof SIGNATURE_ALGORITHM_NAMES)[number];

const SIGNATURE_ALGORITHM_NAME_SET: ReadonlySet<string> = new Set(SIGNATURE_ALGORITHM_NAMES);

/** True for a member of `SIGNATURE_ALGORITHM_NAMES`. */
export function isSignatureAlgorithmName(name: string): name is SignatureAlgorithmName {
  return SIGNATURE_ALGORITHM_NAME_SET.has(name);
}

/**
 * The allow-list name of a parsed signature algorithm (`{ kind: 'ecdsa', hash: 'SHA-256' }` →
 * `ecdsa-sha256`). Not to be confused with x509's `signatureAlgorithmName`, the display name
 * (`ecdsa-with-SHA256`).
 */
export function policyAlgorithmName(a: SignatureAlgorithm): string {
  switch (a.kind) {
    case 'ed25519':
    case 'ed448':
      return a.kind;
    default:
      return `${a.kind}-${a.hash.toLowerCase().replace('-', '')}`;
  }
}

/**
 * A keyUsage bit by name, as accepted in options: the field names of `KeyUsage`, plus
 * `contentCommitment`, X.509's current name for bit 1 (RFC 5280 §4.2.1.3 notes the rename from
 * `nonRepudiation`).
 */
export type KeyUsageName = keyof KeyUsage | 'contentCommitment';

/** The `KeyUsage` field for a bit name (`contentCommitment` → `nonRepudiation`); undefined if unknown. */
export function keyUsageField(name: string): keyof KeyUsage | undefined {
  if (name === 'contentCommitment') return 'nonRepudiation';
  return (KEY_USAGE_FIELDS as readonly string[]).includes(name) ? (name as keyof KeyUsage) : undefined;
}

const KEY_USAGE_FIELDS: readonly (keyof KeyUsage)[] = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
];

/** What a relying party accepts (see the header above and `profilePolicy`). */
export interface ValidationPolicy {
  profile: ValidationProfile;
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
  /**
   * What the leaf must be good for (its EKU, and a CA's where the profile says so). `rfc5280` and
   * `webpki` default to `serverAuth`. **`iot` has no default**: a device certificate is for
   * `clientAuth`, a broker's for `serverAuth`, and guessing wrong fails every device chain, so
   * `verifyPath` refuses (`invalid-input`) an `iot` validation without a purpose.
   */
  purpose?: Purpose;
  /**
   * Maximum number of intermediates (self-issued ones not counted, as for pathLenConstraint);
   * x509-limbo's `max_chain_depth`.
   */
  maxIntermediates: number;
  /** Allowed signature algorithms (see `SIGNATURE_ALGORITHM_NAMES`); undefined = any the provider verifies. */
  signatureAlgorithms?: readonly SignatureAlgorithmName[];
  /** Minimum RSA modulus size in bits for every key in the path. */
  minRsaBits: number;
  /** CA/B BR §6.1.5: RSA modulus length must be a multiple of 8. */
  rsaModulusMultipleOf8: boolean;
  /** Allowed EC curves (names as in `PublicKeyAlgorithm`); undefined = any the provider supports. */
  curves?: readonly string[];
  /** Allow DSA keys (only PKITS still has them). */
  allowDsa: boolean;
  /**
   * Bits the leaf's keyUsage must assert when it has the extension (x509-limbo `key_usage`);
   * `contentCommitment` and `nonRepudiation` name the same bit.
   */
  leafKeyUsage?: readonly KeyUsageName[];

  // RFC 5280 §6.1.1 (c)–(f) initial inputs
  initialPolicySet: readonly string[];
  initialExplicitPolicy: boolean;
  initialPolicyMappingInhibit: boolean;
  initialAnyPolicyInhibit: boolean;

  /**
   * What is checked and used of the trust anchor certificate (see `TrustAnchorConstraints`):
   * `name-and-key` in `rfc5280` (§6.1.1 (d)), `enforce` in `webpki` and `iot` (RFC 5937).
   */
  trustAnchorConstraints: TrustAnchorConstraints;

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
 * What a path validation does with the trust anchor.
 * - `name-and-key`: RFC 5280 §6.1.1 (d) — the anchor is its subject name and public key (with DSA
 *   parameters); nothing else in an anchor certificate is checked or used.
 * - `enforce`: the anchor certificate's own constraints also apply, as RFC 5937 allows and as
 *   BoringSSL, Go and OpenSSL do: its validity period, basicConstraints cA and
 *   pathLenConstraint, keyUsage keyCertSign, nameConstraints, unknown critical extensions, an
 *   EKU where the profile makes CA EKUs constraining, and the profile's rules for roots.
 * The anchor's certificatePolicies and policyConstraints are never processed (§6.1 leaves the
 * anchor out of the path), and its own signature is never checked.
 */
export type TrustAnchorConstraints = 'name-and-key' | 'enforce';

/**
 * Checks that differ between profiles. Each names the rule it enforces; `true` = enforced.
 * RFC 5280 §6.1 is the same in every profile; these are the certificate-profile MUSTs of §4 (what
 * a CA must issue, which the issuance linter enforces) and the CA/B Forum's rules, which a
 * relying party may choose to check as well.
 */
export interface ProfileRules {
  /**
   * RFC 5280 §4 MUSTs on certificate contents that a verifier can see: AKI, SKI, AIA and SIA not
   * critical (§4.2.1.1, §4.2.1.2, §4.2.2); nameConstraints only in a CA (§4.2.1.10); a non-empty
   * issuer (§4.1.2.4); an empty subject only in an end entity with a critical SAN (§4.1.2.6,
   * §4.2.1.6); keyCertSign only with cA (§4.2.1.9).
   */
  certificateProfile: boolean;
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
   * (allowed when cA and keyCertSign agree, RFC 5280 §4.2.1.3/§4.2.1.9), `allow` (RFC 5280 §6.1
   * makes no rule).
   */
  leafCa: 'reject' | 'consistent' | 'allow';
  /** Wildcard SANs over a public suffix (or `*` alone) are rejected. */
  wildcardPublicSuffix: boolean;
}

/** RFC 5280 §6.1 alone: none of the §4 issuance MUSTs, no CA/B Forum rule. */
const RFC5280_RULES: ProfileRules = {
  certificateProfile: false,
  basicConstraintsCritical: false,
  policyConstraintsCritical: false,
  akiRequired: false,
  skiRequiredOnCa: false,
  serialNumberRules: false,
  nameConstraintsCritical: false,
  rootAkiRules: false,
  leafEkuRules: false,
  rootEkuForbidden: false,
  caEkuConstrains: false,
  sanRules: false,
  commonNameInSan: 'off',
  commonNameConstrained: false,
  nameConstraintsNonEmpty: false,
  v3Only: false,
  leafCa: 'allow',
  wildcardPublicSuffix: false,
};

/**
 * RFC 5280's certificate-profile MUSTs (§4) that a relying party can check, as rule overrides:
 * `profilePolicy('rfc5280', { rules: RFC5280_CERTIFICATE_PROFILE_RULES })` validates by §6.1 and
 * also refuses what a conforming CA must not issue (x509-limbo's `rfc5280::` cases test both).
 */
export const RFC5280_CERTIFICATE_PROFILE_RULES: Readonly<Partial<ProfileRules>> = Object.freeze({
  certificateProfile: true,
  basicConstraintsCritical: true,
  policyConstraintsCritical: true,
  akiRequired: true,
  skiRequiredOnCa: true,
  serialNumberRules: true,
  nameConstraintsCritical: true,
  leafCa: 'consistent',
});

const WEBPKI_RULES: ProfileRules = {
  certificateProfile: true,
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

/** Signature algorithms the BRs (§7.1.3.2) allow. */
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

/** The BRs' algorithms plus EdDSA, which IoT keys use. */
export const IOT_SIGNATURE_ALGORITHMS: readonly SignatureAlgorithmName[] = [
  ...WEBPKI_SIGNATURE_ALGORITHMS,
  'ed25519',
  'ed448',
];

/**
 * Overrides for `profilePolicy`. A field given as `undefined` keeps the profile's value (as if it
 * were absent); `signatureAlgorithms: 'any'` and `curves: 'any'` remove the profile's allow-list.
 */
export type PolicyOverrides = Partial<
  Omit<ValidationPolicy, 'rules' | 'profile' | 'signatureAlgorithms' | 'curves'>
> & {
  rules?: Partial<ProfileRules>;
  signatureAlgorithms?: readonly SignatureAlgorithmName[] | 'any';
  curves?: readonly string[] | 'any';
};

/**
 * The defaults of a profile, with `overrides` applied (rules are merged field by field).
 *
 * | | `rfc5280` | `webpki` | `iot` (default) |
 * |---|---|---|---|
 * | purpose | serverAuth | serverAuth | **none: required** |
 * | clockSkewMs | 0 | 0 | 0 |
 * | trustAnchorConstraints | name-and-key | enforce | enforce |
 * | signature algorithms | any verified | BR list + Ed25519 | BR list + Ed25519/Ed448 |
 * | rules | §6.1 only | §4 MUSTs + CA/B BRs | webpki's, CN ignored, CA leaf if consistent |
 *
 * Throws `VerifyError('invalid-input')` for an unknown profile, signature-algorithm or keyUsage
 * name, or a negative or non-finite number.
 */
export function profilePolicy(
  profile: ValidationProfile = 'iot',
  overrides: PolicyOverrides = {},
): ValidationPolicy {
  if (!VALIDATION_PROFILES.includes(profile))
    throw new VerifyError('invalid-input', `unknown validation profile "${String(profile)}"`);
  const base: ValidationPolicy = {
    profile,
    purpose: profile === 'iot' ? undefined : 'serverAuth',
    maxIntermediates: 8,
    clockSkewMs: 0,
    minRsaBits: profile === 'rfc5280' ? 1024 : 2048,
    rsaModulusMultipleOf8: profile !== 'rfc5280',
    allowDsa: profile === 'rfc5280',
    initialPolicySet: [ANY_POLICY],
    initialExplicitPolicy: false,
    initialPolicyMappingInhibit: false,
    initialAnyPolicyInhibit: false,
    trustAnchorConstraints: profile === 'rfc5280' ? 'name-and-key' : 'enforce',
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
  return applyOverrides(base, overrides);
}

/**
 * `policy` with `overrides` applied, checked (see `profilePolicy`). `undefined` keeps a field;
 * `'any'` clears the allow-lists.
 */
export function applyOverrides(policy: ValidationPolicy, overrides: PolicyOverrides): ValidationPolicy {
  const { rules, signatureAlgorithms, curves, ...rest } = overrides;
  const out: ValidationPolicy = { ...policy, rules: { ...policy.rules, ...(rules ?? {}) } };
  for (const [k, v] of Object.entries(rest))
    if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
  if (signatureAlgorithms !== undefined) {
    if (signatureAlgorithms === 'any') out.signatureAlgorithms = undefined;
    else {
      const bad = signatureAlgorithms.filter((n) => !isSignatureAlgorithmName(n));
      if (bad.length)
        throw new VerifyError(
          'invalid-input',
          `unknown signature algorithm ${bad.map((b) => `"${b}"`).join(', ')} (see SIGNATURE_ALGORITHM_NAMES)`,
        );
      out.signatureAlgorithms = signatureAlgorithms;
    }
  }
  if (curves !== undefined) out.curves = curves === 'any' ? undefined : curves;
  if (out.leafKeyUsage) {
    const bad = out.leafKeyUsage.filter((n) => keyUsageField(n) === undefined);
    if (bad.length) throw new VerifyError('invalid-input', `unknown keyUsage bit ${bad.join(', ')}`);
  }
  for (const k of ['clockSkewMs', 'maxIntermediates', 'minRsaBits'] as const)
    if (!Number.isFinite(out[k]) || out[k] < 0)
      throw new VerifyError('invalid-input', `${k} must be a non-negative number`);
  return out;
}
