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
  type Profile,
  type Purpose,
  profilePolicy,
  type RevocationChecker,
  type RevocationStatus,
  type ValidationPolicy,
} from './policy.js';

export { Budget, type BudgetLimits, DEFAULT_BUDGET } from './budget.js';
export {
  type Attempt,
  AttemptLog,
  buildPaths,
  type Candidate,
  SignatureCache,
  SignatureChecker,
} from './build.js';
export { CertificateCache } from './certificate-cache.js';
export { errorRank, isFatal, VerifyError, type VerifyErrorCode } from './errors.js';
export { collectNames, NameConstraintState } from './name-constraints.js';
export * from './names.js';
export * from './policy.js';
export { PolicyGraph } from './policy-tree.js';
export { type SignatureVerifier, type ValidateInput, validatePath } from './validate.js';

type CertInput = Certificate | Uint8Array | string;

/**
 * Inputs of `verifyPath`. Certificates may be given parsed, as DER, or as PEM text.
 * Unparseable intermediates and anchors are ignored (reported in `attempts`); an unparseable
 * leaf fails with `malformed-certificate`.
 */
export interface VerifyOptions {
  leaf: CertInput;
  intermediates?: readonly CertInput[];
  trustAnchors: readonly CertInput[];
  /** Validation time (default: now). */
  time?: number | Date;
  /** Clock-skew tolerance in ms (see `ValidationPolicy.clockSkewMs`); overrides the policy's (0 in every profile). */
  clockSkewMs?: number;
  /** Overrides the policy's purpose. */
  purpose?: Purpose;
  /** Reference identities the leaf must match (RFC 9525); at most one of each kind. */
  hostname?: string;
  ip?: string | Uint8Array;
  email?: string;
  /** A full policy, or a profile name (default `iot`). */
  policy?: ValidationPolicy | Profile;
  /** Overrides the policy's revocation checker. */
  revocation?: RevocationChecker;
  crypto?: CryptoProvider;
  /** Shared verified-signature cache (see SignatureCache). */
  signatureCache?: SignatureCache;
  /** Shared parsed-certificate cache for DER inputs (see CertificateCache). */
  certificateCache?: CertificateCache;
}

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

function prepare(opts: VerifyOptions): Prepared | VerifyResult {
  const log = new AttemptLog();
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
  let policy =
    typeof opts.policy === 'string' || opts.policy === undefined ? profilePolicy(opts.policy) : opts.policy;
  if (opts.purpose !== undefined) policy = { ...policy, purpose: opts.purpose };
  if (opts.clockSkewMs !== undefined) {
    if (!Number.isFinite(opts.clockSkewMs) || opts.clockSkewMs < 0)
      return failure(
        new VerifyError('invalid-input', 'clockSkewMs must be a non-negative number of ms'),
        log,
      );
    policy = { ...policy, clockSkewMs: opts.clockSkewMs };
  }
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
  opts: Pick<VerifyOptions, 'hostname' | 'ip' | 'email'>,
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

function buildInput(p: Prepared, budget: Budget, signatures: SignatureChecker) {
  return {
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

function success(c: Candidate): VerifyResult {
  return { ok: true, chain: [...c.chain, c.anchor], anchor: c.anchor, policySet: c.policySet };
}

/**
 * Finds and validates a path from `leaf` to one of `trustAnchors` (RFC 5280 §6, RFC 4158),
 * checks the reference identities (RFC 9525) and, when a checker is given, revocation.
 *
 *   const r = await verifyPath({ leaf, intermediates, trustAnchors: [root], purpose: 'clientAuth' });
 *   if (!r.ok) console.log(r.code, r.certIndex);
 */
export async function verifyPath(opts: VerifyOptions): Promise<VerifyResult> {
  const p = prepare(opts);
  if ('ok' in p) return p;
  const budget = new Budget(p.policy.budget);
  const signatures = new SignatureChecker(p.crypto, budget, p.cache);
  try {
    for (;;) {
      let restart = false;
      for (const c of buildPaths(buildInput(p, budget, signatures))) {
        const full = [...c.chain, c.anchor];
        if (signatures.deferred) {
          // Async-only crypto (WebCrypto): this path's signatures are checked now. A bad one is
          // memoised and the search starts over without it — bounded, since every restart
          // settles one more signature and the budget is shared across restarts.
          const bad = await signatures.settle(full);
          if (bad) {
            p.log.record(full, bad);
            restart = true;
            break;
          }
        }
        let failed: VerifyError | undefined;
        if (p.revocation)
          for (let i = 0; i < c.chain.length && !failed; i++) {
            const s = await p.revocation.check({
              cert: full[i]!,
              issuer: full[i + 1]!,
              chain: full,
              index: i,
              time: p.time,
              clockSkewMs: p.policy.clockSkewMs,
            });
            failed = revocationFailure(s, i, p);
          }
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

/**
 * `verifyPath` for synchronous callers (e.g. a TLS `checkServerIdentity`). The revocation checker
 * must answer synchronously: its `checkSync` is used when it has one (the revocation layer's
 * checker has, for given CRLs and stapled OCSP, and throws `async-required` for network sources).
 */
export function verifyPathSync(opts: VerifyOptions): VerifyResult {
  const p = prepare(opts);
  if ('ok' in p) return p;
  if (!p.crypto.supportsSync)
    return failure(
      new VerifyError('invalid-input', `crypto provider ${p.crypto.name} is asynchronous; use verifyPath`),
      p.log,
    );
  const budget = new Budget(p.policy.budget);
  const signatures = new SignatureChecker(p.crypto, budget, p.cache);
  try {
    for (const c of buildPaths(buildInput(p, budget, signatures))) {
      const full = [...c.chain, c.anchor];
      let failed: VerifyError | undefined;
      if (p.revocation)
        for (let i = 0; i < c.chain.length && !failed; i++) {
          const ctx = {
            cert: full[i]!,
            issuer: full[i + 1]!,
            chain: full,
            index: i,
            time: p.time,
            clockSkewMs: p.policy.clockSkewMs,
          };
          // checkSync throws its own typed error when it needs I/O (e.g. RevocationError 'async-required').
          const s = p.revocation.checkSync ? p.revocation.checkSync(ctx) : p.revocation.check(ctx);
          if (s instanceof Promise)
            throw new VerifyError('invalid-input', 'revocation checker is asynchronous; use verifyPath');
          failed = revocationFailure(s, i, p);
        }
      if (!failed) return success(c);
      p.log.record(full, failed);
    }
  } catch (e) {
    if (e instanceof VerifyError) return failure(e, p.log);
    throw e;
  }
  return noPath(p);
}
