import { defaultProvider } from '../crypto/default-provider.js';
import type { CryptoProvider } from '../crypto/provider.js';
import { bytesEqual } from '../der/bytes.js';
import { type Certificate, parseCertificate } from '../x509/certificate.js';
import { Budget } from './budget.js';
import {
  type Attempt,
  AttemptLog,
  buildPaths,
  type Candidate,
  type SignatureCache,
  SignatureChecker,
} from './build.js';
import type { CertificateCache } from './certificate-cache.js';
import { VerifyError, type VerifyErrorCode } from './errors.js';
import {
  matchDnsPresented,
  matchEmail,
  normalizeDnsReference,
  parseIpAddress,
  parsePresentedDns,
} from './names.js';
import {
  applyOverrides,
  type KeyUsageName,
  type PolicyOverrides,
  type Purpose,
  profilePolicy,
  type RevocationChecker,
  type RevocationContext,
  type RevocationStatus,
  type SignatureAlgorithmName,
  type TrustAnchorConstraints,
  type ValidationPolicy,
  type ValidationProfile,
} from './policy.js';
import { runAsync, runSync, type Steps, step } from './steps.js';

/** A certificate given parsed, as DER, or as PEM text. */
export type CertInput = Certificate | Uint8Array | string;

/**
 * Inputs of `verifyPath` that every call may give. Certificates may be given parsed, as DER, or
 * as PEM text. Unparseable intermediates and anchors are ignored (reported in `attempts`); an
 * unparseable leaf fails with `malformed-certificate`.
 *
 * The knobs below `revocation` override the policy's (profile's) value for this call; left out
 * (or `undefined`), the policy's value stands.
 */
export interface VerifyInputs {
  leaf: CertInput;
  intermediates?: readonly CertInput[];
  trustAnchors: readonly CertInput[];
  /** Validation time (default: the policy's `time`, else now). */
  time?: number | Date;
  /** Reference identities the leaf must match (RFC 9525); at most one of each kind. */
  hostname?: string;
  ip?: string | Uint8Array;
  email?: string;
  /** Revocation checking (e.g. `createRevocationChecker` from fleetpki/revocation); overrides the policy's. */
  revocation?: RevocationChecker;
  crypto?: CryptoProvider;
  /** Shared verified-signature cache (see SignatureCache). */
  signatureCache?: SignatureCache;
  /** Shared parsed-certificate cache for DER inputs (see CertificateCache). */
  certificateCache?: CertificateCache;

  /** Clock-skew tolerance in ms, applied to certificate validity and handed to the revocation checker (default 0). */
  clockSkewMs?: number;
  /** Most intermediates allowed (self-issued ones not counted); the profiles allow 8. */
  maxIntermediates?: number;
  /** Bits the leaf's keyUsage must assert when it has one (`contentCommitment` = `nonRepudiation`). */
  leafKeyUsage?: readonly KeyUsageName[];
  /** Allowed signature algorithms (`SIGNATURE_ALGORITHM_NAMES`), or `'any'` the provider verifies. */
  signatureAlgorithms?: readonly SignatureAlgorithmName[] | 'any';
  /** Public-suffix test for wildcard SANs (e.g. from a PSL package); the core has no list of its own. */
  isPublicSuffix?: (domain: string) => boolean;
  /** What is checked of the trust anchor (see `TrustAnchorConstraints`). */
  trustAnchorConstraints?: TrustAnchorConstraints;
}

/**
 * Options of `verifyPath`: the inputs, a policy, and the purpose.
 *
 * **The `iot` profile (the default) has no default purpose**: give `purpose: 'clientAuth'` for a
 * device's certificate, `'serverAuth'` for a broker's or server's. `rfc5280` and `webpki` default
 * to `serverAuth`; a full `ValidationPolicy` carries its own (which `purpose` overrides).
 */
export type VerifyOptions = VerifyInputs &
  (
    | {
        /** The default profile, `iot`: `purpose` is required. */
        policy?: 'iot';
        /** What the leaf must be good for: `clientAuth` (devices), `serverAuth` (brokers, servers), `any` or an EKU OID. */
        purpose: Purpose;
      }
    | {
        /** Another profile, or a full policy (`profilePolicy(...)`). */
        policy: Exclude<ValidationProfile, 'iot'> | ValidationPolicy;
        /** Overrides the policy's purpose (`serverAuth` in `rfc5280` and `webpki`). */
        purpose?: Purpose;
      }
  );

/** `verifyPath`'s answer: the validated chain, or the most specific failure (see `errorRank`). */
export type VerifyResult =
  | {
      ok: true;
      /** Leaf first, the trust anchor last. */
      chain: Certificate[];
      anchor: Certificate;
      /** RFC 5280 §6.1.6 user-constrained policy set (`[anyPolicy]` when unconstrained). */
      policySet: string[];
    }
  | {
      ok: false;
      code: VerifyErrorCode;
      message: string;
      /** Index of the certificate at fault in the path tried (leaf = 0), -1 if none. */
      certIndex: number;
      attempts: Attempt[];
    };

interface Prepared {
  leaf: Certificate;
  intermediates: Certificate[];
  anchors: Certificate[];
  policy: ValidationPolicy;
  time: number;
  crypto: CryptoProvider;
  revocation?: RevocationChecker;
  cache?: SignatureCache;
  log: AttemptLog;
}

function toCert(c: CertInput, cache?: CertificateCache): Certificate {
  if (c instanceof Uint8Array) return cache ? cache.get(c) : parseCertificate(c);
  return typeof c === 'string' ? parseCertificate(c) : c;
}

function failure(e: VerifyError, log: AttemptLog): VerifyResult {
  return { ok: false, code: e.code, message: e.message, certIndex: e.certIndex, attempts: log.attempts };
}

/** The call's knobs as policy overrides, or undefined when it gives none (the common case). */
function callOverrides(opts: VerifyOptions): PolicyOverrides | undefined {
  const o: PolicyOverrides = {
    purpose: opts.purpose,
    clockSkewMs: opts.clockSkewMs,
    maxIntermediates: opts.maxIntermediates,
    leafKeyUsage: opts.leafKeyUsage,
    signatureAlgorithms: opts.signatureAlgorithms,
    isPublicSuffix: opts.isPublicSuffix,
    trustAnchorConstraints: opts.trustAnchorConstraints,
  };
  for (const v of Object.values(o)) if (v !== undefined) return o;
  return undefined;
}

function resolvePolicy(opts: VerifyOptions): ValidationPolicy {
  const p = opts.policy;
  const base = typeof p === 'string' || p === undefined ? profilePolicy(p) : p;
  const o = callOverrides(opts);
  const policy = o ? applyOverrides(base, o) : base;
  if (policy.purpose === undefined)
    throw new VerifyError(
      'invalid-input',
      `the ${policy.profile} profile has no default purpose: pass purpose 'clientAuth' (a device) or 'serverAuth' (a broker or server)`,
    );
  return policy;
}

function prepare(opts: VerifyOptions): Prepared | VerifyResult {
  const log = new AttemptLog();
  let policy: ValidationPolicy;
  try {
    policy = resolvePolicy(opts);
  } catch (e) {
    if (e instanceof VerifyError) return failure(e, log);
    throw e;
  }
  let leaf: Certificate;
  try {
    leaf = toCert(opts.leaf, opts.certificateCache);
  } catch (e) {
    return failure(new VerifyError('malformed-certificate', `leaf: ${(e as Error).message}`, 0), log);
  }
  const parseAll = (list: readonly CertInput[], what: string) => {
    const out: Certificate[] = [];
    for (const c of list) {
      try {
        out.push(toCert(c, opts.certificateCache));
      } catch (e) {
        log.attempts.push({
          path: [],
          code: 'malformed-certificate',
          message: `${what}: ${(e as Error).message}`,
          certIndex: -1,
        });
      }
    }
    return out;
  };
  const anchors = parseAll(opts.trustAnchors, 'trust anchor');
  const intermediates = parseAll(opts.intermediates ?? [], 'intermediate');
  const t = opts.time ?? policy.time ?? Date.now();
  const ms = t instanceof Date ? t.getTime() : t;
  if (!Number.isFinite(ms)) return failure(new VerifyError('invalid-input', 'invalid validation time'), log);
  // RFC 5280 certificate times have one-second resolution: compare on whole seconds.
  const time = Math.floor(ms / 1000) * 1000;
  const crypto = opts.crypto ?? defaultProvider();

  const mismatch = checkReferenceIdentity(leaf, opts, policy);
  if (mismatch) return failure(mismatch, log);
  return {
    leaf,
    intermediates,
    anchors,
    policy,
    time,
    crypto,
    revocation: opts.revocation ?? policy.revocation,
    cache: opts.signatureCache,
    log,
  };
}

/** RFC 9525 §6: the leaf's SAN must match every reference identity given. No CN fallback. */
export function checkReferenceIdentity(
  leaf: Certificate,
  opts: Pick<VerifyInputs, 'hostname' | 'ip' | 'email'>,
  policy: Pick<ValidationPolicy, 'isPublicSuffix'>,
): VerifyError | undefined {
  const san = leaf.subjectAltName ?? [];
  if (opts.hostname !== undefined) {
    const ref = normalizeDnsReference(opts.hostname);
    if (ref === undefined)
      return new VerifyError('invalid-input', `"${opts.hostname}" is not a valid DNS name`, 0);
    const ok = san.some((g) => {
      if (g.type !== 'dNSName') return false;
      const p = parsePresentedDns(g.value);
      if (!p) return false;
      // CA/B BR §3.2.2.6: a wildcard over a public suffix is never acceptable.
      if (p.wildcard && policy.isPublicSuffix?.(p.suffix)) return false;
      return matchDnsPresented(p, ref);
    });
    if (!ok) return new VerifyError('hostname-mismatch', `certificate is not valid for ${opts.hostname}`, 0);
  }
  if (opts.ip !== undefined) {
    const ip = typeof opts.ip === 'string' ? parseIpAddress(opts.ip) : opts.ip;
    if (!ip || (ip.length !== 4 && ip.length !== 16))
      return new VerifyError('invalid-input', `"${String(opts.ip)}" is not a valid IP address`, 0);
    if (!san.some((g) => g.type === 'iPAddress' && bytesEqual(g.value, ip)))
      return new VerifyError('hostname-mismatch', `certificate is not valid for IP ${String(opts.ip)}`, 0);
  }
  if (opts.email !== undefined) {
    if (!san.some((g) => g.type === 'rfc822Name' && matchEmail(g.value, opts.email!)))
      return new VerifyError('hostname-mismatch', `certificate is not valid for ${opts.email}`, 0);
  }
  return undefined;
}

function noPath(p: Prepared): VerifyResult {
  const e = p.log.best ?? new VerifyError('unknown-issuer', 'no path to a trust anchor', 0);
  return failure(e, p.log);
}

function revocationFailure(s: RevocationStatus, index: number, p: Prepared): VerifyError | undefined {
  if (s.status === 'revoked')
    return new VerifyError('revoked', `certificate revoked${s.reason ? ` (${s.reason})` : ''}`, index, {
      reason: s.reason,
      revocationDate: s.revocationDate,
    });
  if (s.status === 'unknown' && p.policy.revocationUnknown === 'deny')
    return new VerifyError('revocation-unknown', `revocation status unknown: ${s.why}`, index);
  return undefined;
}

/**
 * The revocation status of each certificate below the anchor (leaf first), as a step: the
 * checker's `checkSync` (or a synchronous `check`) when run synchronously, `check` otherwise.
 */
function* revocationSteps(p: Prepared, full: Certificate[], below: number): Steps<VerifyError | undefined> {
  const rc = p.revocation;
  if (!rc) return undefined;
  for (let i = 0; i < below; i++) {
    const ctx: RevocationContext = {
      cert: full[i]!,
      issuer: full[i + 1]!,
      chain: full,
      index: i,
      time: p.time,
      clockSkewMs: p.policy.clockSkewMs,
    };
    const s = yield* step<RevocationStatus>({
      // checkSync throws its own typed error when it needs I/O (e.g. RevocationError 'async-required').
      sync: () => {
        const r = rc.checkSync ? rc.checkSync(ctx) : rc.check(ctx);
        if (r instanceof Promise) {
          r.catch(() => undefined);
          throw new VerifyError('invalid-input', 'revocation checker is asynchronous; use verifyPath');
        }
        return r;
      },
      async: async () => rc.check(ctx),
    });
    const failed = revocationFailure(s, i, p);
    if (failed) return failed;
  }
  return undefined;
}

/** Path search, validation and revocation: one code path for `verifyPath` and `verifyPathSync`. */
function* verifySteps(p: Prepared): Steps<VerifyResult> {
  const budget = new Budget(p.policy.budget);
  const signatures = new SignatureChecker(p.crypto, budget, p.cache);
  const input = {
    leaf: p.leaf,
    intermediates: p.intermediates,
    anchors: p.anchors,
    policy: p.policy,
    time: p.time,
    crypto: p.crypto,
    budget,
    signatures,
    log: p.log,
  };
  try {
    for (;;) {
      let restart = false;
      for (const c of buildPaths(input)) {
        const full = [...c.chain, c.anchor];
        if (signatures.deferred) {
          // Async-only crypto (WebCrypto): this path's signatures are checked now. A bad one is
          // memoised and the search starts over without it — bounded, since every restart
          // settles one more signature and the budget is shared across restarts.
          const bad = yield* step<VerifyError | undefined>({
            sync: () => {
              throw new VerifyError(
                'invalid-input',
                `crypto provider ${p.crypto.name} is asynchronous; use verifyPath`,
              );
            },
            async: () => signatures.settle(full),
          });
          if (bad) {
            p.log.record(full, bad);
            restart = true;
            break;
          }
        }
        const failed = yield* revocationSteps(p, full, c.chain.length);
        if (!failed) return success(c);
        p.log.record(full, failed);
      }
      if (!restart) return noPath(p);
    }
  } catch (e) {
    if (e instanceof VerifyError) return failure(e, p.log);
    throw e;
  }
}

function success(c: Candidate): VerifyResult {
  return { ok: true, chain: [...c.chain, c.anchor], anchor: c.anchor, policySet: c.policySet };
}

/**
 * Finds and validates a path from `leaf` to one of `trustAnchors` (RFC 5280 §6, RFC 4158),
 * checks the reference identities (RFC 9525) and, when a checker is given, revocation.
 * Never throws for bad certificates or options: they are `{ ok: false, code }` results; an
 * exception means a bug or a revocation checker's own typed error.
 *
 *   const r = await verifyPath({ leaf, intermediates, trustAnchors: [root], purpose: 'clientAuth' });
 *   if (!r.ok) console.log(r.code, r.certIndex);
 */
export async function verifyPath(opts: VerifyOptions): Promise<VerifyResult> {
  const p = prepare(opts);
  if ('ok' in p) return p;
  return runAsync(verifySteps(p));
}

/**
 * `verifyPath` for synchronous callers (e.g. a TLS `checkServerIdentity`): the same search and
 * checks, answered synchronously. The crypto provider must verify synchronously (`supportsSync`),
 * and the revocation checker must answer synchronously: its `checkSync` is used when it has one
 * (the revocation layer's checker has, for given CRLs and stapled OCSP, and throws
 * `async-required` for network sources).
 */
export function verifyPathSync(opts: VerifyOptions): VerifyResult {
  const p = prepare(opts);
  if ('ok' in p) return p;
  if (!p.crypto.supportsSync)
    return failure(
      new VerifyError('invalid-input', `crypto provider ${p.crypto.name} is asynchronous; use verifyPath`),
      p.log,
    );
  return runSync(verifySteps(p));
}
