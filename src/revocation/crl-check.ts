import type { CryptoProvider } from '../crypto/provider.js';
import { bytesEqual, toHex } from '../der/bytes.js';
import { OID } from '../der/oid-names.js';
import { DerReader } from '../der/reader.js';
import { encodeDer } from '../der/writer.js';
import { needsInheritedParams, nextWorkingParams, spkiWithParams } from '../verify/dsa-params.js';
import { parseSignatureAlgorithm } from '../x509/algorithm.js';
import type { Certificate } from '../x509/certificate.js';
import type { CertificateList, RevokedCertificate } from '../x509/crl.js';
import { reasonFlagsMask } from '../x509/extensions/distribution-point.js';
import type {
  CRLReason,
  DistributionPoint,
  DistributionPointName,
  IssuingDistributionPoint,
} from '../x509/extensions/types.js';
import type { GeneralName } from '../x509/general-name.js';
import { type AttributeTypeAndValue, Name } from '../x509/name.js';
import { RevocationError, type RevocationErrorCode } from './errors.js';
import { runAsync, runSync, type Steps, step, verifyStep } from './steps.js';

/**
 * CRL processing, RFC 5280 §6.3.3, for one certificate against a set of CRLs:
 *
 * For each distribution point of the certificate (or the implied one — no name, cRLIssuer = the
 * certificate's issuer — when it has no cRLDistributionPoints), each complete CRL is tried while
 * the reasons covered are incomplete and the certificate is not found revoked:
 *  (a) freshness: thisUpdate ≤ time + clockSkewMs and time − clockSkewMs ≤ nextUpdate;
 *  (b) issuer and scope: the CRL issuer is the certificate issuer, or the DP's cRLIssuer with an
 *      indirect IDP; the IDP's distribution point name matches the DP's names (or its cRLIssuer);
 *      onlyContainsUserCerts / onlyContainsCACerts / onlyContainsAttributeCerts;
 *  (c)(d) reasons: IDP onlySomeReasons ∩ DP reasons must add something not yet covered;
 *  (e) delta CRLs (deltaCRLIndicator) of the same issuer and scope whose BaseCRLNumber ≤ the complete
 *      CRL's number < the delta's number (§5.2.4), fresh and validly signed;
 *  (f)(g) the signer: the certificate issuer's key if it verifies (and its keyUsage, if any,
 *      asserts cRLSign), otherwise a certificate named like the CRL issuer with cRLSign whose own
 *      path reaches the same trust anchor (the caller's `validateSigner`);
 *  (i)(j)(k) status from the delta, then the complete CRL; removeFromCRL in a delta undoes a hold.
 * The certificate is good only when every reason is covered and it is not listed.
 *
 * Also enforced: unknown critical CRL or entry extensions make a CRL unusable (§5.2, §5.3); a CRL
 * without cRLNumber, or with a critical one, is rejected when `requireCrlNumber` (§5.2.3 MUST).
 * Indirect CRLs are read with the certificateIssuer entry extension carried forward (§5.3.3).
 *
 * Deviation: the reasons-coverage loop treats the 8 ReasonFlags (bits 1–8) as "all-reasons";
 * attribute certificates are not supported (an IDP onlyContainsAttributeCerts CRL never covers).
 */

export type CrlStatus =
  | { status: 'good' }
  | {
      status: 'revoked';
      reason: CRLReason;
      revocationDate: number;
      invalidityDate?: number;
      crl: CertificateList;
    }
  | { status: 'undetermined'; errors: CrlProblem[] };

export interface CrlProblem {
  code: RevocationErrorCode;
  message: string;
}

export interface CrlCheckEnv {
  crypto: CryptoProvider;
  /** Complete and delta CRLs available (given, cached or fetched). */
  crls: readonly CertificateList[];
  /** Extra certificates that may sign CRLs (separate CRL keys, indirect CRL issuers). */
  signerCandidates: readonly Certificate[];
  useDeltas: boolean;
  requireCrlNumber: boolean;
  /**
   * Validates the path of a CRL signer that is not the certificate's issuer key, to the given
   * anchor, at `time` (RFC 5280 §6.3.3 (f)); returns undefined when valid, or why not.
   */
  validateSigner(signer: Certificate, anchor: Certificate, time: number): Promise<string | undefined>;
  /** The same, synchronously (needed by `checkCrlsSync` when a CRL signer is not the issuer). */
  validateSignerSync?(signer: Certificate, anchor: Certificate, time: number): string | undefined;
}

export interface CrlCheckTarget {
  cert: Certificate;
  issuer: Certificate;
  chain: readonly Certificate[];
  time: number;
  /** How far the relying party's clock may be off, ms: widens thisUpdate ≤ time ≤ nextUpdate. Default 0. */
  clockSkewMs?: number;
}

/** ReasonFlags bits 1..8 (keyCompromise … aACompromise): RFC 5280 §6.3.2 (a) "all-reasons". */
const ALL_REASONS = 0x1fe;

const KNOWN_CRL_EXTENSIONS = new Set<string>([
  OID.authorityKeyIdentifier,
  OID.issuerAltName,
  OID.cRLNumber,
  OID.deltaCRLIndicator,
  OID.issuingDistributionPoint,
  OID.freshestCRL,
  OID.authorityInfoAccess,
]);
const KNOWN_ENTRY_EXTENSIONS = new Set<string>([
  OID.reasonCode,
  OID.invalidityDate,
  OID.certificateIssuer,
  OID.holdInstructionCode,
]);

// ---- per-CRL facts, computed once ----

interface CrlFacts {
  /** Why the CRL is unusable whatever the certificate, if it is. */
  problem?: CrlProblem;
  idp?: IssuingDistributionPoint;
  /** Exact serial (INTEGER content hex) → entries with the issuer they apply to. */
  index?: Map<string, { issuer: Name; entry: RevokedCertificate }[]>;
}

const FACTS = new WeakMap<CertificateList, CrlFacts>();

function facts(crl: CertificateList, requireCrlNumber: boolean): CrlFacts {
  let f = FACTS.get(crl);
  if (f) return f;
  f = {};
  for (const e of crl.extensions)
    if (e.critical && !KNOWN_CRL_EXTENSIONS.has(e.oid)) {
      f.problem = {
        code: 'crl-unhandled-critical-extension',
        message: `CRL has unhandled critical extension ${e.oid}`,
      };
      break;
    }
  if (!f.problem)
    for (const oid of crl.criticalEntryExtensions)
      if (!KNOWN_ENTRY_EXTENSIONS.has(oid)) {
        f.problem = {
          code: 'crl-unhandled-critical-extension',
          message: `CRL entry has unhandled critical extension ${oid}`,
        };
        break;
      }
  const num = crl.extension(OID.cRLNumber);
  if (!f.problem && requireCrlNumber && !num)
    f.problem = { code: 'crl-malformed', message: 'CRL lacks the cRLNumber extension (RFC 5280 §5.2.3)' };
  if (!f.problem && num?.critical)
    f.problem = { code: 'crl-malformed', message: 'cRLNumber must be non-critical (RFC 5280 §5.2.3)' };
  f.idp = crl.issuingDistributionPoint;
  if (!f.problem && f.idp) {
    const n = +f.idp.onlyContainsUserCerts + +f.idp.onlyContainsCACerts + +f.idp.onlyContainsAttributeCerts;
    if (n > 1)
      f.problem = {
        code: 'crl-malformed',
        message: 'issuingDistributionPoint asserts more than one onlyContains* flag (RFC 5280 §5.2.5)',
      };
  }
  FACTS.set(crl, f);
  return f;
}

/**
 * The entry for `cert` in `crl`, matched on the exact INTEGER content (255 and −1 differ — PKITS
 * 4.4.14) and, in indirect CRLs, on the issuer carried forward by certificateIssuer (§5.3.3).
 */
function findEntry(crl: CertificateList, f: CrlFacts, cert: Certificate): RevokedCertificate | undefined {
  // A direct CRL lists only its issuer's certificates: the CRL's own serial index answers
  // (exact INTEGER bytes) without creating an object per entry.
  if (f.idp?.indirectCRL !== true)
    return crl.issuer.equals(cert.issuer) ? crl.find(cert.serialNumber) : undefined;
  if (!f.index) {
    const m = new Map<string, { issuer: Name; entry: RevokedCertificate }[]>();
    const indirect = f.idp?.indirectCRL === true;
    let current = crl.issuer;
    for (const entry of crl.revokedCertificates) {
      if (indirect) {
        const ci = entry.certificateIssuer;
        if (ci) {
          const dn = ci.find((g) => g.type === 'directoryName');
          // A certificateIssuer without a directoryName cannot name an X.509 issuer: match nothing.
          current = dn && dn.type === 'directoryName' ? dn.value : NO_ISSUER;
        }
      }
      const k = toHex(entry.serialNumber);
      const list = m.get(k);
      if (list) list.push({ issuer: current, entry });
      else m.set(k, [{ issuer: current, entry }]);
    }
    f.index = m;
  }
  for (const x of f.index.get(toHex(cert.serialNumber)) ?? [])
    if (x.issuer.equals(cert.issuer)) return x.entry;
  return undefined;
}

const NO_ISSUER = Name.fromRdns([[{ type: OID.commonName, value: 'no directoryName in certificateIssuer' }]]);

// ---- names ----

function generalNameEquals(a: GeneralName, b: GeneralName): boolean {
  switch (a.type) {
    case 'directoryName':
      return b.type === 'directoryName' && a.value.equals(b.value);
    case 'iPAddress':
      return b.type === 'iPAddress' && bytesEqual(a.value, b.value);
    case 'otherName':
      return b.type === 'otherName' && a.typeId === b.typeId && bytesEqual(a.value, b.value);
    case 'x400Address':
    case 'ediPartyName':
      return b.type === a.type && bytesEqual(a.der, (b as { der: Uint8Array }).der);
    default:
      return b.type === a.type && a.value === (b as { value: string }).value;
  }
}

/** `base` with one more RDN appended (nameRelativeToCRLIssuer, RFC 5280 §4.2.1.13). */
function appendRdn(base: Name, rdn: readonly AttributeTypeAndValue[]): Name {
  const r = DerReader.from(base.der, 'Name');
  const inner = r.readSequence('Name');
  const content = base.der.subarray(inner.pos, inner.end);
  return Name.fromDer(
    encodeDer((w) =>
      w.sequence((w) => {
        w.raw(content);
        w.setOf((w) => {
          for (const a of rdn) w.sequence((w) => w.oid(a.type).raw(a.der));
        });
      }),
    ),
  );
}

function dpNameToNames(n: DistributionPointName, relativeTo: Name): GeneralName[] {
  if (n.fullName) return n.fullName;
  return [{ type: 'directoryName', value: appendRdn(relativeTo, n.nameRelativeToCRLIssuer!) }];
}

function anyMatch(a: readonly GeneralName[], b: readonly GeneralName[]): boolean {
  for (const x of a) for (const y of b) if (generalNameEquals(x, y)) return true;
  return false;
}

function directoryNames(g: readonly GeneralName[] | undefined): Name[] {
  const out: Name[] = [];
  for (const x of g ?? []) if (x.type === 'directoryName') out.push(x.value);
  return out;
}

/** RFC 5280 §6.3.3 (b): does `crl` (issuer and IDP) cover `cert` through `dp`? undefined = yes. */
function scopeProblem(
  crl: CertificateList,
  f: CrlFacts,
  cert: Certificate,
  dp: DistributionPoint | undefined,
): string | undefined {
  const idp = f.idp;
  if (dp?.cRLIssuer) {
    // (b)(1): an indirect CRL issued by the DP's cRLIssuer.
    if (!directoryNames(dp?.cRLIssuer).some((n) => n.equals(crl.issuer)))
      return 'CRL issuer is not the distribution point cRLIssuer';
    if (!idp?.indirectCRL) return 'CRL for a cRLIssuer distribution point is not an indirect CRL';
  } else if (!crl.issuer.equals(cert.issuer)) return 'CRL issuer is not the certificate issuer';
  if (idp) {
    if (idp.distributionPoint) {
      const idpNames = dpNameToNames(idp.distributionPoint, crl.issuer);
      // Without a DP name, the IDP name must match the cRLIssuer — for the implied DP of a
      // certificate without cRLDistributionPoints, the certificate issuer.
      let dpNames: GeneralName[];
      if (dp?.distributionPoint) {
        const base = directoryNames(dp.cRLIssuer)[0] ?? cert.issuer;
        dpNames = dpNameToNames(dp.distributionPoint, base);
      } else dpNames = dp?.cRLIssuer ?? [{ type: 'directoryName', value: cert.issuer }];
      if (!anyMatch(idpNames, dpNames))
        return 'issuingDistributionPoint name does not match the certificate distribution point';
    }
    const isCa = cert.basicConstraints?.cA === true;
    if (idp.onlyContainsUserCerts && isCa) return 'CRL covers only end-entity certificates';
    if (idp.onlyContainsCACerts && !isCa) return 'CRL covers only CA certificates';
    if (idp.onlyContainsAttributeCerts) return 'CRL covers only attribute certificates';
  }
  return undefined;
}

function freshness(crl: CertificateList, time: number, skew: number): CrlProblem | undefined {
  if (crl.thisUpdate > time + skew)
    return {
      code: 'crl-not-yet-valid',
      message: `CRL thisUpdate ${new Date(crl.thisUpdate).toISOString()} is after the validation time`,
    };
  if (crl.nextUpdate !== undefined && crl.nextUpdate < time - skew)
    return {
      code: 'crl-stale',
      message: `CRL nextUpdate ${new Date(crl.nextUpdate).toISOString()} is before the validation time`,
    };
  return undefined;
}

function sameIdp(a: CertificateList, b: CertificateList): boolean {
  const x = a.extension(OID.issuingDistributionPoint);
  const y = b.extension(OID.issuingDistributionPoint);
  if (!x || !y) return !x && !y;
  return bytesEqual(x.value, y.value);
}

// ---- signatures and signers ----

const SIG_CACHE = new WeakMap<CertificateList, Map<Uint8Array, boolean>>();

function* signatureVerifies(
  crl: CertificateList,
  signer: Certificate,
  crypto: CryptoProvider,
  chain?: readonly Certificate[],
): Steps<boolean> {
  let m = SIG_CACHE.get(crl);
  if (!m) {
    m = new Map();
    SIG_CACHE.set(crl, m);
  }
  const spki = (chain && inheritedSpki(chain, signer)) ?? signer.subjectPublicKeyInfo.der;
  const hit = m.get(spki);
  if (hit !== undefined) return hit;
  let ok = false;
  if (crl.signatureUnusedBits === 0)
    try {
      ok = yield* verifyStep(
        crypto,
        parseSignatureAlgorithm(crl.signatureAlgorithm),
        spki,
        crl.tbs,
        crl.signatureValue,
      );
    } catch {
      ok = false;
    }
  m.set(spki, ok);
  return ok;
}

/**
 * A path certificate's DSA key with its parameters inherited from above (RFC 5280 §6.1.4 (d)–(f),
 * PKITS 4.1.5), or undefined when the key carries its own (the usual case).
 */
function inheritedSpki(chain: readonly Certificate[], signer: Certificate): Uint8Array | undefined {
  if (!needsInheritedParams(signer)) return undefined;
  const at = chain.indexOf(signer);
  if (at < 0) return undefined;
  let params: Uint8Array | undefined;
  for (let k = chain.length - 1; k > at; k--) params = nextWorkingParams(chain[k]!, params);
  return spkiWithParams(signer, params);
}

/**
 * RFC 5280 §6.3.3 (f)(g): finds a key that signed `crl` and may: the certificate issuer (already
 * validated as part of the path), or another certificate with the CRL issuer's name, cRLSign, and
 * a valid path to the same anchor. Returns a problem when none qualifies.
 */
function* checkSigner(
  crl: CertificateList,
  target: CrlCheckTarget,
  env: CrlCheckEnv,
): Steps<CrlProblem | undefined> {
  const { issuer, chain, time } = target;
  const anchor = chain[chain.length - 1]!;
  let sawBadKu = false;
  if (crl.issuer.equals(issuer.subject)) {
    if (yield* signatureVerifies(crl, issuer, env.crypto, chain)) {
      // §4.2.1.3 / §6.3.3 (f): a keyUsage present without cRLSign forbids signing CRLs.
      if (issuer.keyUsage && !issuer.keyUsage.cRLSign) sawBadKu = true;
      else return undefined;
    }
  }
  const seen = new Set<Uint8Array>([issuer.der]);
  const pool = [...env.signerCandidates, ...chain];
  for (const c of pool) {
    if (seen.has(c.der)) continue;
    seen.add(c.der);
    if (!c.subject.equals(crl.issuer)) continue;
    if (!(yield* signatureVerifies(crl, c, env.crypto))) continue;
    if (c.keyUsage && !c.keyUsage.cRLSign) {
      sawBadKu = true;
      continue;
    }
    if (c === anchor || bytesEqual(c.der, anchor.der)) return undefined;
    const why = yield* step({
      sync: () => {
        if (!env.validateSignerSync)
          throw new RevocationError(
            'async-required',
            'validating a CRL signer path needs validateSignerSync',
          );
        return env.validateSignerSync(c, anchor, time);
      },
      async: () => env.validateSigner(c, anchor, time),
    });
    if (why === undefined) return undefined;
  }
  if (sawBadKu)
    return { code: 'crl-wrong-signer', message: 'the CRL signer key lacks cRLSign in its keyUsage' };
  return {
    code: 'crl-wrong-signer',
    message: `no valid signer for the CRL of ${crl.issuer.toString()} chaining to the same trust anchor`,
  };
}

// ---- the algorithm ----

interface Found {
  reason: CRLReason;
  date: number;
  invalidity?: number;
  crl: CertificateList;
}

interface Usable {
  crl: CertificateList;
  f: CrlFacts;
}

/** Checks `target.cert` against the CRLs of `env` (RFC 5280 §6.3.3). */
export function checkCrls(target: CrlCheckTarget, env: CrlCheckEnv): Promise<CrlStatus> {
  return runAsync(checkCrlsSteps(target, env));
}

/** `checkCrls` synchronously: the provider's synchronous `verify` (needs `supportsSync`). */
export function checkCrlsSync(target: CrlCheckTarget, env: CrlCheckEnv): CrlStatus {
  return runSync(checkCrlsSteps(target, env));
}

export function* checkCrlsSteps(target: CrlCheckTarget, env: CrlCheckEnv): Steps<CrlStatus> {
  const { cert, time } = target;
  const skew = target.clockSkewMs ?? 0;
  const problems: CrlProblem[] = [];
  const note = (p: CrlProblem) => {
    if (!problems.some((x) => x.code === p.code && x.message === p.message)) problems.push(p);
  };
  // `undefined` is the implied DP of a certificate without cRLDistributionPoints (§6.3.3).
  const dps: (DistributionPoint | undefined)[] = cert.cRLDistributionPoints?.length
    ? cert.cRLDistributionPoints
    : [undefined];
  const completes = env.crls.filter((c) => !c.isDelta);
  const deltas = env.useDeltas ? env.crls.filter((c) => c.isDelta) : [];

  let reasonsMask = 0;
  let status: Found | undefined;
  const signerOk = new Map<CertificateList, CrlProblem | undefined>();
  const validSigner = function* (crl: CertificateList): Steps<CrlProblem | undefined> {
    if (!signerOk.has(crl)) signerOk.set(crl, yield* checkSigner(crl, target, env));
    return signerOk.get(crl);
  };

  for (const dp of dps) {
    for (const crl of completes) {
      if (reasonsMask === ALL_REASONS || status) break;
      const f = facts(crl, env.requireCrlNumber);
      if (f.problem) {
        if (crl.issuer.equals(cert.issuer) || directoryNames(dp?.cRLIssuer).some((n) => n.equals(crl.issuer)))
          note(f.problem);
        continue;
      }
      const scope = scopeProblem(crl, f, cert, dp);
      if (scope) {
        // Only report scope problems for CRLs that at least come from the right issuer.
        if (crl.issuer.equals(cert.issuer) || directoryNames(dp?.cRLIssuer).some((n) => n.equals(crl.issuer)))
          note({ code: 'crl-scope', message: scope });
        continue;
      }
      const fresh = freshness(crl, time, skew);
      if (fresh) {
        note(fresh);
        continue;
      }
      // (c)(d) reasons
      let interim = ALL_REASONS;
      if (f.idp?.onlySomeReasons) interim &= reasonFlagsMask(f.idp.onlySomeReasons);
      if (dp?.reasons) interim &= reasonFlagsMask(dp.reasons);
      if ((interim & ~reasonsMask) === 0) continue;
      // (f)(g) signer
      const sp = yield* validSigner(crl);
      if (sp) {
        note(sp);
        continue;
      }
      // (e) delta
      let delta: Usable | undefined;
      const base = crl.cRLNumber;
      if (deltas.length && base !== undefined) {
        for (const d of deltas) {
          if (!d.issuer.equals(crl.issuer) || !sameIdp(d, crl)) continue;
          const df = facts(d, env.requireCrlNumber);
          if (df.problem) {
            note(df.problem);
            continue;
          }
          const baseNo = d.deltaCRLIndicator;
          const dNo = d.cRLNumber;
          if (baseNo === undefined || dNo === undefined || baseNo > base || dNo <= base) continue;
          const dfresh = freshness(d, time, skew);
          if (dfresh) {
            note(dfresh);
            continue;
          }
          const dsp = yield* validSigner(d);
          if (dsp) {
            note(dsp);
            continue;
          }
          if (!delta || (d.cRLNumber ?? 0n) > (delta.crl.cRLNumber ?? 0n)) delta = { crl: d, f: df };
        }
      }
      // (i)(j)(k)
      let st: Found | 'removeFromCRL' | undefined;
      if (delta) {
        const e = findEntry(delta.crl, delta.f, cert);
        if (e) {
          const reason = e.reasonCode ?? 'unspecified';
          st =
            reason === 'removeFromCRL'
              ? 'removeFromCRL'
              : { reason, date: e.revocationDate, invalidity: e.invalidityDate, crl: delta.crl };
        }
      }
      if (st === undefined) {
        const e = findEntry(crl, f, cert);
        if (e) {
          const reason = e.reasonCode ?? 'unspecified';
          st =
            reason === 'removeFromCRL'
              ? 'removeFromCRL'
              : { reason, date: e.revocationDate, invalidity: e.invalidityDate, crl };
        }
      }
      if (st && st !== 'removeFromCRL') status = st;
      reasonsMask |= interim;
    }
    if (reasonsMask === ALL_REASONS || status) break;
  }
  // A delta whose base is absent cannot be used alone (§5.2.4): say so when it is all we had.
  if (
    !status &&
    reasonsMask !== ALL_REASONS &&
    completes.length === 0 &&
    deltas.some((d) => d.issuer.equals(cert.issuer))
  )
    note({ code: 'delta-without-base', message: 'only a delta CRL is available; its base CRL is missing' });
  if (status)
    return {
      status: 'revoked',
      reason: status.reason,
      revocationDate: status.date,
      invalidityDate: status.invalidity,
      crl: status.crl,
    };
  if (reasonsMask === ALL_REASONS) return { status: 'good' };
  if (problems.length === 0)
    problems.push({
      code: 'status-unavailable',
      message: reasonsMask
        ? 'the CRLs do not cover every revocation reason'
        : 'no CRL covers the certificate',
    });
  return { status: 'undetermined', errors: problems };
}
