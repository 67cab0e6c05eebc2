import type { CryptoProvider } from '../crypto/provider.js';
import { bytesEqual } from '../der/bytes.js';
import { OID } from '../der/oid-names.js';
import { parseSignatureAlgorithm, type SignatureAlgorithm } from '../x509/algorithm.js';
import type { Certificate } from '../x509/certificate.js';
import type { Budget } from './budget.js';
import { nextWorkingParams, spkiWithParams } from './dsa-params.js';
import { VerifyError } from './errors.js';
import { collectNames, NameConstraintState } from './name-constraints.js';
import { formatIpAddress, parseIpAddress } from './names.js';
import { EKU_OIDS, keyUsageField, policyAlgorithmName, purposeOid, type ValidationPolicy } from './policy.js';
import { PolicyGraph } from './policy-tree.js';

/**
 * RFC 5280 §6.1 basic path validation over one ordered path: a pure function of
 * (path, anchor, policy, time, crypto), throwing `VerifyError` on the first failure.
 *
 * Input: `chain` is leaf first (`chain[0]` is the target, `chain[n-1]` the certificate the
 * anchor issued); `anchor` is a trusted certificate (it need not be self-signed).
 * Output: the user-constrained policy set (§6.1.6).
 *
 * Deviations from RFC 5280 §6.1 (all stricter, as in BoringSSL/webpki), and options:
 * - `policy.trustAnchorConstraints`: `name-and-key` takes the anchor as §6.1.1 (d) does (its name
 *   and key); `enforce` also applies the anchor certificate's constraints (RFC 5937): validity,
 *   basicConstraints (cA, pathLenConstraint), keyUsage, nameConstraints, unknown critical
 *   extensions, EKU where the profile says so. Either way its certificatePolicies and
 *   policyConstraints are not processed (the anchor is not part of the path in §6.1), and its
 *   own signature is never checked.
 * - Validity is compared at one-second granularity (the validation time is floored), widened by
 *   `policy.clockSkewMs` (0 unless set).
 * - v1/v2 intermediates are rejected (§6.1.4 (k) would need out-of-band CA information).
 * - The profile's rules (ProfileRules: RFC 5280 §4 MUSTs, CA/B Forum rules) are enforced when
 *   the profile says so; the `rfc5280` profile enforces none of them.
 *
 * Caller's duties: match the leaf against the reference identity (names.ts), check revocation
 * (the RevocationChecker in `index.ts`), and find the path (build.ts).
 */

export interface ValidateInput {
  chain: readonly Certificate[];
  anchor: Certificate;
  policy: ValidationPolicy;
  /** Epoch ms, already floored to whole seconds. */
  time: number;
  crypto: CryptoProvider;
  budget: Budget;
  signatures: SignatureVerifier;
}

/** Verifies `cert`'s signature with `issuer`'s key; implementations cache and charge the budget. */
export interface SignatureVerifier {
  /** `issuerSpki` replaces the issuer's own key (DSA parameter inheritance). */
  verify(cert: Certificate, issuer: Certificate, certIndex: number, issuerSpki?: Uint8Array): void;
}

// Extensions this validator processes (others marked critical reject the certificate).
const PROCESSED = new Set<string>([
  OID.basicConstraints,
  OID.keyUsage,
  OID.extKeyUsage,
  OID.subjectAltName,
  OID.nameConstraints,
  OID.certificatePolicies,
  OID.policyMappings,
  OID.policyConstraints,
  OID.inhibitAnyPolicy,
  OID.subjectKeyIdentifier,
  OID.authorityKeyIdentifier,
]);

const OID_AIA = '1.3.6.1.5.5.7.1.1';
const OID_SIA = '1.3.6.1.5.5.7.1.11';

/** Validates one path; returns the user-constrained policy set. */
export function validatePath(input: ValidateInput): string[] {
  const { chain, anchor, policy, time, budget } = input;
  const n = chain.length;
  if (n === 0) throw new VerifyError('invalid-input', 'empty path');
  const anchorIndex = n;
  const rules = policy.rules;
  if (policy.purpose === undefined)
    throw new VerifyError(
      'invalid-input',
      `the ${policy.profile} profile needs a purpose (clientAuth or serverAuth)`,
    );
  const enforceAnchor = policy.trustAnchorConstraints !== 'name-and-key';
  // A hand-built policy may lack the field (JavaScript callers): no tolerance then, never NaN.
  const skew = policy.clockSkewMs ?? 0;

  // Maximum depth (x509-limbo max_chain_depth): intermediates, self-issued ones not counted.
  let intermediates = 0;
  for (let k = 1; k < n; k++) if (!chain[k]!.isSelfIssued) intermediates++;
  if (intermediates > policy.maxIntermediates)
    throw new VerifyError(
      'path-too-long',
      `path has ${intermediates} intermediates; the policy allows ${policy.maxIntermediates}`,
      n - 1,
    );

  // ---- the trust anchor (RFC 5937 constraints, when enforced) -------------------------------
  if (enforceAnchor) checkAnchor(input, skew);
  const nc = new NameConstraintState(policy.dnsConstraintLeadingDot);
  let maxPathLength = Number.POSITIVE_INFINITY;
  if (enforceAnchor) {
    maxPathLength = anchor.basicConstraints?.pathLenConstraint ?? maxPathLength;
    if (anchor.nameConstraints) nc.add(anchor.nameConstraints, anchorIndex);
  }

  const pg = new PolicyGraph(n, policy, budget);
  let dsaParams = nextWorkingParams(anchor, undefined);

  // ---- the path, from the certificate the anchor issued down to the leaf (i = 1..n) ------
  for (let i = 1; i <= n; i++) {
    const k = n - i; // chain index
    const cert = chain[k]!;
    const issuer = k + 1 < n ? chain[k + 1]! : anchor;
    const isLeaf = i === n;
    const selfIssued = cert.isSelfIssued;

    // (a)(4) name chaining
    if (!cert.issuer.equals(issuer.subject))
      throw new VerifyError(
        'name-mismatch',
        `issuer "${cert.issuer.toString()}" does not match the subject "${issuer.subject.toString()}" of the next certificate`,
        k,
      );
    checkCommon(cert, policy, k, isLeaf ? 'leaf' : 'intermediate');
    if (!isLeaf) checkIssuerRole(cert, policy, k, 'intermediate');
    // RFC 5280 §4.2.1.1: AKI keyIdentifier unless self-signed.
    if (rules.akiRequired && !cert.authorityKeyIdentifier?.keyIdentifier) {
      const selfSigned =
        selfIssued && bytesEqual(cert.subjectPublicKeyInfo.der, issuer.subjectPublicKeyInfo.der);
      if (!selfSigned)
        throw new VerifyError(
          'profile-violation',
          'authorityKeyIdentifier keyIdentifier missing (RFC 5280 §4.2.1.1)',
          k,
        );
    }
    // (a)(1) signature, with the algorithm and the issuer's key checked against the policy
    checkSignatureAlgorithm(cert, policy, k);
    input.signatures.verify(cert, issuer, k, spkiWithParams(issuer, dsaParams));
    dsaParams = nextWorkingParams(cert, dsaParams);
    // (a)(2) validity
    checkValidity(cert, time, skew, k);

    // (b)–(c) name constraints: not for self-issued intermediates (§6.1.3 (b))
    if (!nc.isEmpty && (isLeaf || !selfIssued)) {
      const names = collectNames(
        cert.subject,
        cert.subjectAltName,
        { commonNameAsDns: rules.commonNameConstrained && isLeaf && !cert.subjectAltName },
        parseIpAddress,
      );
      nc.check(names, budget, k);
    }

    // (d)–(f) policies
    pg.processCertificate(cert.certificatePolicies, i, selfIssued, k);

    if (!isLeaf) {
      // §6.1.4 (a)–(b), (h)–(j)
      pg.prepareNext(cert.policyMappings, cert.policyConstraints, cert.inhibitAnyPolicy, selfIssued, k);
      // (g)
      if (cert.nameConstraints) nc.add(cert.nameConstraints, k);
      // (l)–(m)
      if (!selfIssued) {
        if (maxPathLength <= 0)
          throw new VerifyError('path-too-long', 'a pathLenConstraint above forbids this CA certificate', k);
        maxPathLength--;
      }
      const pl = cert.basicConstraints?.pathLenConstraint;
      if (pl !== undefined && pl < maxPathLength) maxPathLength = pl;
      checkCaEku(cert, policy, k);
    }
  }

  // ---- wrap-up (§6.1.5) and the leaf's purpose ----------------------------------------
  const leaf = chain[0]!;
  const policySet = pg.finish(leaf.policyConstraints, 0);
  checkLeaf(leaf, policy);
  return policySet;
}

/** The anchor certificate's own constraints (RFC 5937), for `trustAnchorConstraints: 'enforce'`. */
function checkAnchor(input: ValidateInput, skew: number): void {
  const { anchor, policy } = input;
  const rules = policy.rules;
  const anchorIndex = input.chain.length;
  checkValidity(anchor, input.time, skew, anchorIndex);
  checkCommon(anchor, policy, anchorIndex, 'anchor');
  checkIssuerRole(anchor, policy, anchorIndex, 'anchor');
  if (rules.rootEkuForbidden && anchor.extKeyUsage && anchor.isSelfIssued)
    throw new VerifyError(
      'profile-violation',
      'a root certificate must not have extendedKeyUsage (CA/B BR §7.1.2.1.2)',
      anchorIndex,
    );
  if (rules.rootAkiRules && anchor.isSelfIssued) checkRootAki(anchor, anchorIndex);
  checkCaEku(anchor, policy, anchorIndex);
  // RFC 5280 §4.2.1.1: only a self-signed certificate may omit the AKI; a trusted intermediate
  // or cross-signed root is still a certificate some CA issued. "Self-signed" is judged by the
  // key (the anchor's signature verifies with its own key) when the names differ; a self-issued
  // anchor is taken as self-signed without spending a signature check on every verification.
  if (
    rules.akiRequired &&
    !anchor.authorityKeyIdentifier?.keyIdentifier &&
    !anchor.isSelfIssued &&
    !isSelfSigned(anchor, input.signatures, anchorIndex)
  )
    throw new VerifyError(
      'profile-violation',
      'trusted certificate is not self-signed and has no authorityKeyIdentifier (RFC 5280 §4.2.1.1)',
      anchorIndex,
    );
}

function isSelfSigned(cert: Certificate, signatures: SignatureVerifier, k: number): boolean {
  try {
    signatures.verify(cert, cert, k);
    return true;
  } catch (e) {
    if (e instanceof VerifyError && e.code === 'budget-exceeded') throw e;
    return false;
  }
}

function checkValidity(cert: Certificate, time: number, skew: number, k: number): void {
  // RFC 5280 §4.1.2.5: notBefore through notAfter, inclusive; widened by the policy's clock skew.
  if (time + skew < cert.notBefore)
    throw new VerifyError(
      'not-yet-valid',
      `certificate is not valid before ${new Date(cert.notBefore).toISOString()}`,
      k,
      {
        notBefore: cert.notBefore,
        time,
      },
    );
  if (time - skew > cert.notAfter)
    throw new VerifyError('expired', `certificate expired at ${new Date(cert.notAfter).toISOString()}`, k, {
      notAfter: cert.notAfter,
      time,
    });
}

type Role = 'anchor' | 'intermediate' | 'leaf';

/** Rules that apply to every certificate of the path (and the anchor). */
function checkCommon(cert: Certificate, policy: ValidationPolicy, k: number, role: Role): void {
  const rules = policy.rules;
  if (rules.v3Only && cert.version !== 3)
    throw new VerifyError(
      'profile-violation',
      `version ${cert.version} certificate (CA/B BR §7.1.1 requires v3)`,
      k,
    );
  // RFC 5280 §4.1.2.2: positive, at most 20 octets. Not applied to anchors: a trusted root is
  // chosen by the user, and some long-lived roots predate the rule.
  if (rules.serialNumberRules && role !== 'anchor') {
    const s = cert.serialNumber;
    if (s[0]! & 0x80)
      throw new VerifyError('profile-violation', 'negative serial number (RFC 5280 §4.1.2.2)', k);
    if (s.every((b) => b === 0))
      throw new VerifyError('profile-violation', 'zero serial number (RFC 5280 §4.1.2.2)', k);
    if (s.length > 20)
      throw new VerifyError(
        'profile-violation',
        'serial number longer than 20 octets (RFC 5280 §4.1.2.2)',
        k,
      );
  }
  // RFC 5280 §4.1.2.4: the issuer field MUST contain a non-empty name.
  if (rules.certificateProfile && cert.issuer.isEmpty)
    throw new VerifyError('profile-violation', 'empty issuer name (RFC 5280 §4.1.2.4)', k);
  checkKey(cert, policy, k, role);

  let subjectAltNameCritical: boolean | undefined;
  for (const e of cert.extensions) {
    switch (e.oid) {
      case OID.authorityKeyIdentifier:
        if (e.critical && rules.certificateProfile)
          throw new VerifyError(
            'profile-violation',
            'critical authorityKeyIdentifier (RFC 5280 §4.2.1.1)',
            k,
          );
        break;
      case OID.subjectKeyIdentifier:
        if (e.critical && rules.certificateProfile)
          throw new VerifyError('profile-violation', 'critical subjectKeyIdentifier (RFC 5280 §4.2.1.2)', k);
        break;
      case OID.policyConstraints:
        if (!e.critical && rules.policyConstraintsCritical)
          throw new VerifyError(
            'profile-violation',
            'non-critical policyConstraints (RFC 5280 §4.2.1.11)',
            k,
          );
        break;
      case OID.nameConstraints:
        if (!cert.isCA && rules.certificateProfile)
          throw new VerifyError(
            'profile-violation',
            'nameConstraints in a non-CA certificate (RFC 5280 §4.2.1.10)',
            k,
          );
        if (rules.nameConstraintsCritical && !e.critical)
          throw new VerifyError('profile-violation', 'non-critical nameConstraints (RFC 5280 §4.2.1.10)', k);
        if (rules.nameConstraintsNonEmpty) {
          const v = cert.nameConstraints;
          if (!v?.permittedSubtrees?.length && !v?.excludedSubtrees?.length)
            throw new VerifyError(
              'profile-violation',
              'nameConstraints without subtrees (CA/B BR §7.1.2.5.2)',
              k,
            );
        }
        break;
      case OID.subjectAltName:
        subjectAltNameCritical = e.critical;
        break;
      case OID_AIA:
      case OID_SIA:
        if (e.critical && rules.certificateProfile)
          throw new VerifyError(
            'profile-violation',
            'critical information-access extension (RFC 5280 §4.2.2)',
            k,
          );
        break;
      default:
        if (e.critical && !PROCESSED.has(e.oid))
          throw new VerifyError('unhandled-critical-extension', `unhandled critical extension ${e.oid}`, k, {
            oid: e.oid,
          });
    }
  }
  // RFC 5280 §4.1.2.6 / §4.2.1.6: an empty subject needs a critical subjectAltName.
  if (rules.certificateProfile && cert.subject.isEmpty) {
    if (cert.isCA)
      throw new VerifyError(
        'profile-violation',
        'CA certificate with an empty subject (RFC 5280 §4.1.2.6)',
        k,
      );
    if (subjectAltNameCritical !== true)
      throw new VerifyError(
        'profile-violation',
        'empty subject without a critical subjectAltName (RFC 5280 §4.2.1.6)',
        k,
      );
  }
  // RFC 5280 §4.2.1.9: keyCertSign only with cA.
  if (rules.certificateProfile && !cert.isCA && cert.keyUsage?.keyCertSign)
    throw new VerifyError(
      'profile-violation',
      'keyCertSign asserted without basicConstraints cA (RFC 5280 §4.2.1.9)',
      k,
    );
  const san = cert.subjectAltName;
  if (san)
    for (const g of san)
      if (g.type === 'iPAddress' && g.value.length !== 4 && g.value.length !== 16)
        throw new VerifyError(
          'malformed-certificate',
          'subjectAltName iPAddress is neither 4 nor 16 bytes',
          k,
        );
}

/** RFC 5280 §6.1.4 (k), (n) and §4.2.1.9 for a certificate that issues the next one. */
function checkIssuerRole(cert: Certificate, policy: ValidationPolicy, k: number, role: Role): void {
  const bcExt = cert.extension(OID.basicConstraints);
  if (cert.version === 3 || bcExt) {
    if (!cert.basicConstraints?.cA)
      throw new VerifyError('not-a-ca', 'issuer is not a CA (basicConstraints cA missing or false)', k);
    // RFC 5280 §4.2.1.9 MUST (and CA/B BR): critical in CA certificates.
    if (!bcExt!.critical && policy.rules.basicConstraintsCritical)
      throw new VerifyError(
        'profile-violation',
        'non-critical basicConstraints in a CA (RFC 5280 §4.2.1.9)',
        k,
      );
  } else if (role !== 'anchor' || policy.rules.v3Only) {
    throw new VerifyError('not-a-ca', 'v1/v2 certificate cannot be shown to be a CA', k);
  }
  const ku = cert.keyUsage;
  if (ku && !ku.keyCertSign)
    throw new VerifyError('key-usage', 'issuer keyUsage lacks keyCertSign (RFC 5280 §6.1.4 (n))', k);
  if (policy.rules.skiRequiredOnCa && cert.version === 3 && !cert.subjectKeyIdentifier)
    throw new VerifyError(
      'profile-violation',
      'CA certificate without subjectKeyIdentifier (RFC 5280 §4.2.1.2)',
      k,
    );
  if (policy.rules.certificateProfile && cert.subject.isEmpty)
    throw new VerifyError('profile-violation', 'CA certificate with an empty subject (RFC 5280 §4.1.2.6)', k);
}

/** CA/B BR §7.1.2.1.3: a root's AKI has only a keyIdentifier, equal to its SKI. */
function checkRootAki(cert: Certificate, k: number): void {
  const aki = cert.authorityKeyIdentifier;
  if (!aki) return;
  const ski = cert.subjectKeyIdentifier;
  if (!aki.keyIdentifier || aki.authorityCertIssuer || aki.authorityCertSerialNumber)
    throw new VerifyError(
      'profile-violation',
      'root authorityKeyIdentifier must hold only a keyIdentifier (CA/B BR §7.1.2.1.3)',
      k,
    );
  if (!ski || !bytesEqual(ski, aki.keyIdentifier))
    throw new VerifyError(
      'profile-violation',
      'root authorityKeyIdentifier differs from its subjectKeyIdentifier',
      k,
    );
}

/** An EKU in a CA limits what it may issue for (when the profile says so). */
function checkCaEku(cert: Certificate, policy: ValidationPolicy, k: number): void {
  if (!policy.rules.caEkuConstrains) return;
  const eku = cert.extKeyUsage;
  const want = purposeOid(policy.purpose);
  if (!eku || !want) return;
  if (!eku.includes(want) && !eku.includes(EKU_OIDS.anyExtendedKeyUsage))
    throw new VerifyError('eku', `CA extendedKeyUsage does not allow ${policy.purpose}`, k);
}

/** Key type and size rules (policy.minRsaBits, curves, DSA). */
function checkKey(cert: Certificate, policy: ValidationPolicy, k: number, role: Role): void {
  const spki = cert.subjectPublicKeyInfo;
  const alg = spki.keyAlgorithm;
  switch (alg.kind) {
    case 'rsa':
    case 'rsa-pss':
      if (spki.keySize < policy.minRsaBits)
        throw new VerifyError(
          'weak-key',
          `RSA key of ${spki.keySize} bits; at least ${policy.minRsaBits} required`,
          k,
        );
      if (policy.rsaModulusMultipleOf8 && spki.keySize % 8 !== 0)
        throw new VerifyError(
          'weak-key',
          `RSA modulus of ${spki.keySize} bits is not a multiple of 8 (CA/B BR §6.1.5)`,
          k,
        );
      return;
    case 'ec':
      if (policy.curves && !policy.curves.includes(alg.curve))
        throw new VerifyError('weak-key', `elliptic curve ${alg.curve} is not allowed`, k);
      return;
    case 'dsa':
      if (!policy.allowDsa) throw new VerifyError('weak-key', 'DSA keys are not allowed', k);
      return;
    case 'ed25519':
    case 'ed448':
      return;
    default:
      // A leaf may carry a key we never verify with (X25519 for key agreement), except where
      // the profile fixes the key types.
      if (role !== 'leaf' || policy.curves)
        throw new VerifyError(
          'unsupported-algorithm',
          `unsupported public key type ${spki.algorithm.oid}`,
          k,
        );
  }
}

function checkSignatureAlgorithm(cert: Certificate, policy: ValidationPolicy, k: number): SignatureAlgorithm {
  let alg: SignatureAlgorithm;
  try {
    alg = parseSignatureAlgorithm(cert.signatureAlgorithm);
  } catch (e) {
    throw new VerifyError('unsupported-algorithm', `signature algorithm: ${(e as Error).message}`, k);
  }
  if (alg.kind !== 'ed25519' && alg.kind !== 'ed448' && alg.hash === 'MD5')
    throw new VerifyError('weak-algorithm', 'MD5 signatures are not accepted', k);
  if (policy.signatureAlgorithms) {
    const name = policyAlgorithmName(alg);
    if (!(policy.signatureAlgorithms as readonly string[]).includes(name))
      throw new VerifyError('weak-algorithm', `signature algorithm ${name} is not allowed by the policy`, k);
  }
  return alg;
}

/** The end entity: its purpose (EKU, keyUsage) and the profile's rules for subscribers. */
function checkLeaf(leaf: Certificate, policy: ValidationPolicy): void {
  const rules = policy.rules;
  const eku = leaf.extKeyUsage;
  const want = purposeOid(policy.purpose);
  const leafIsCa = leaf.isCA && leaf.keyUsage?.keyCertSign !== false;
  if (rules.leafEkuRules) {
    // An intermediate checked on its own (CA in leaf position) has no subscriber EKU to show.
    if (!eku && !(rules.leafCa !== 'reject' && leafIsCa))
      throw new VerifyError('eku', 'end-entity certificate without extendedKeyUsage (CA/B BR §7.1.2.7.6)', 0);
  }
  if (rules.leafEkuRules && eku) {
    if (leaf.extension(OID.extKeyUsage)!.critical)
      throw new VerifyError(
        'profile-violation',
        'critical extendedKeyUsage in an end-entity certificate (CA/B BR §7.1.2.7.6)',
        0,
      );
    if (eku.includes(EKU_OIDS.anyExtendedKeyUsage))
      throw new VerifyError(
        'eku',
        'anyExtendedKeyUsage in an end-entity certificate (CA/B BR §7.1.2.7.10)',
        0,
      );
  }
  if (eku && want && !eku.includes(want) && !eku.includes(EKU_OIDS.anyExtendedKeyUsage))
    throw new VerifyError('eku', `extendedKeyUsage does not allow ${policy.purpose}`, 0);
  if (eku && eku.length === 0) throw new VerifyError('malformed-certificate', 'empty extendedKeyUsage', 0);

  const ku = leaf.keyUsage;
  if (ku && policy.leafKeyUsage)
    for (const bit of policy.leafKeyUsage) {
      const field = keyUsageField(bit);
      if (!field || !ku[field]) throw new VerifyError('key-usage', `keyUsage does not assert ${bit}`, 0);
    }

  if (rules.leafCa === 'reject' && (leaf.isCA || leaf.keyUsage?.keyCertSign))
    throw new VerifyError(
      'profile-violation',
      'a CA certificate used as an end entity (CA/B BR §7.1.2.7.8)',
      0,
    );
  // RFC 5280 §4.2.1.3/§4.2.1.9 read together: cA TRUE with a keyUsage lacking keyCertSign is
  // inconsistent (x509-limbo rfc5280::root-inconsistent-ca-extensions, webpki::ee-basicconstraints-ca).
  if (rules.leafCa === 'consistent' && leaf.isCA && leaf.keyUsage && !leaf.keyUsage.keyCertSign)
    throw new VerifyError('profile-violation', 'basicConstraints cA without keyCertSign in keyUsage', 0);

  const server = policy.purpose === 'serverAuth';
  if (rules.sanRules && server) {
    const ext = leaf.extension(OID.subjectAltName);
    if (!ext)
      throw new VerifyError(
        'profile-violation',
        'server certificate without subjectAltName (CA/B BR §7.1.2.7.12)',
        0,
      );
    if (ext.critical && !leaf.subject.isEmpty)
      throw new VerifyError(
        'profile-violation',
        'critical subjectAltName with a non-empty subject (CA/B BR §7.1.2.7.12)',
        0,
      );
  }
  if (rules.commonNameInSan !== 'off' && server) checkCommonNames(leaf, rules.commonNameInSan === 'all');
}

// inet_aton(3) forms: 1–4 parts, each decimal, octal (leading 0) or hex (0x).
const LEGACY_IPV4 = /^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}$/i;

/**
 * CA/B BR §7.1.4.3: a commonName copies one of the SAN values character for character.
 *
 * Applied per kind, to CNs that read as an identity: a CN that looks like an IP address (also in
 * legacy inet_aton or non-RFC 5952 forms) must be the canonical text of an iPAddress SAN when the
 * SAN has any; a CN that looks like a domain name (has a dot, no spaces) must be one of the
 * dNSName SANs — or the domain a wildcard SAN is for (`example.com` beside `*.example.com`) —
 * when the SAN has any. A descriptive CN ("Broker 7"), or one of a kind the SAN does not carry,
 * cannot be mistaken for the certificate's identity and is left alone: private PKIs use both,
 * and BetterTLS (x509-limbo `bettertls::`) expects them to pass.
 */
function checkCommonNames(leaf: Certificate, dns: boolean): void {
  const cns = leaf.subject.get('2.5.4.3');
  if (cns.length === 0) return;
  const san = leaf.subjectAltName ?? [];
  const sanIps = san.filter((g) => g.type === 'iPAddress');
  const sanDns = san.filter((g) => g.type === 'dNSName').map((g) => g.value);
  for (const cn of cns) {
    const ip = parseIpAddress(cn);
    let ok = true;
    if (ip || LEGACY_IPV4.test(cn) || (cn.includes(':') && !cn.includes(' '))) {
      if (sanIps.length > 0)
        ok = ip !== undefined && formatIpAddress(ip) === cn && sanIps.some((g) => bytesEqual(g.value, ip));
    } else if (dns && cn.includes('.') && !/\s/.test(cn)) {
      if (sanDns.length > 0) ok = sanDns.includes(cn) || sanDns.includes(`*.${cn}`);
    }
    if (!ok)
      throw new VerifyError(
        'profile-violation',
        `commonName "${cn}" is not a copy of a subjectAltName value (CA/B BR §7.1.4.3)`,
        0,
      );
  }
}
