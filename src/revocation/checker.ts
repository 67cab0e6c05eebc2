import { defaultProvider } from '../crypto/default-provider.js';
import type { CryptoProvider } from '../crypto/provider.js';
import { OID } from '../der/oid-names.js';
import { type VerifyOptions, verifyPath, verifyPathSync } from '../verify/index.js';
import {
  profilePolicy,
  type RevocationChecker,
  type RevocationContext,
  type ValidationPolicy,
} from '../verify/policy.js';
import type { Certificate } from '../x509/certificate.js';
import { type CertificateList, parseCrl } from '../x509/crl.js';
import type { CRLReason } from '../x509/extensions/types.js';
import { type CrlProblem, checkCrlsSteps } from './crl-check.js';
import { RevocationError, type RevocationErrorCode } from './errors.js';
import { type FetchFn, httpRequest } from './http.js';
import { buildOcspRequest, ocspUrls, sendOcspRequest } from './ocsp/client.js';
import { parseOcspResponse } from './ocsp/response.js';
import { checkOcspResponseSteps, type OcspCertStatus } from './ocsp-check.js';
import { asyncOnly, runAsync, runSync, type Steps, step } from './steps.js';

/**
 * `RevocationPolicy` and the `RevocationChecker` that `verifyPath` calls for each certificate of
 * a candidate path (leaf first). Sources are tried in the policy's order until one gives a
 * definite answer (good or revoked):
 *   - `stapled`: OCSP responses handed in (e.g. from a TLS handshake), matched by CertID;
 *   - `ocsp`:    a live query to the certificate's AIA OCSP responder;
 *   - `crl`:     the CRLs handed in (complete and delta), RFC 5280 §6.3.3 (crl-check.ts);
 *   - `crldp`:   CRLs fetched from the certificate's cRLDistributionPoints / freshestCRL URIs
 *                (cached per URL until their nextUpdate), then processed as `crl`.
 * When none can answer: `hard-fail` reports `unknown` (verifyPath turns that into
 * `revocation-unknown` unless its policy says `revocationUnknown: 'allow'`); `soft-fail` reports
 * `good` with the reasons attached, as browsers do for unreachable responders.
 *
 * A delegated OCSP responder without id-pkix-ocsp-nocheck is itself checked through the CRL
 * sources (RFC 6960 §4.2.2.2.1; `checkResponder`).
 *
 * Without `sources`, the checker uses what it was given: CRLs → `crl`, stapled responses →
 * `stapled`, nothing → the network (`ocsp`, `crldp`); see `defaultSources`.
 *
 * Synchronous use (`checkSync`, which `verifyPathSync` calls): only with local sources
 * (`stapled`, `crl`) and a synchronous provider; the checks are written once as steps
 * (steps.ts) and run either way.
 *
 *   const revocation = createRevocationChecker({ crls: [rootCrl, intCrl] });   // sources: ['crl']
 *   const r = await verifyPath({ leaf, intermediates, trustAnchors, revocation });
 *   const s = verifyPathSync({ leaf, intermediates, trustAnchors, revocation });
 *   const online = createRevocationChecker();                                   // ['ocsp', 'crldp']
 */
export interface RevocationPolicy {
  /** Which certificates are checked: the leaf only, or every certificate below the anchor. Default `chain`. */
  scope: 'leaf' | 'chain';
  /**
   * Sources, in order. Default: what the caller handed in — `stapled` when `stapled` responses are
   * given, `crl` when `crls` are given (in that order) — and, only when neither is given, the
   * network: `['ocsp', 'crldp']` (the certificate's own AIA and CRL distribution points). Name the
   * sources to combine local data with the network (`['crl', 'ocsp', 'crldp']`). See `defaultSources`.
   */
  sources: readonly RevocationSource[];
  /** What an undeterminable status means. Default `hard-fail`. */
  unavailable: 'hard-fail' | 'soft-fail';
  /** CRLs at hand (DER, PEM or parsed), complete and delta. */
  crls: readonly (CertificateList | Uint8Array | string)[];
  /** Certificates that may sign CRLs without being in the path (separate CRL keys, indirect CRL issuers). */
  crlSigners: readonly Certificate[];
  /** Stapled OCSP responses (DER). */
  stapled: readonly Uint8Array[];
  /** Use delta CRLs (RFC 5280 §6.3.2 use-deltas). Default true. */
  useDeltas: boolean;
  /** RFC 5280 §5.2.3: reject CRLs without a (non-critical) cRLNumber. Default true. */
  requireCrlNumber: boolean;
  /** Policy for validating a CRL signer's own path (RFC 5280 §6.3.3 (f)); default rfc5280, any purpose. */
  signerPolicy?: ValidationPolicy;
  /**
   * How far the relying party's clock may be off, in ms, when judging CRL thisUpdate/nextUpdate
   * and OCSP producedAt/thisUpdate/nextUpdate (and a delegated responder's validity). Default: the
   * validation's own (`verifyPath`'s `clockSkewMs`, handed over in the `RevocationContext`), which
   * is 0 in every profile. fleetpki's publisher and responder backdate what they sign instead
   * (backdate.ts), so a slow relying party needs no tolerance for them.
   */
  clockSkewMs?: number;
  ocsp: {
    /** Send a nonce and require it back. Default true. */
    nonce: boolean;
    method: 'auto' | 'GET' | 'POST';
    timeoutMs: number;
    maxResponseBytes: number;
  };
  crldp: { timeoutMs: number; maxResponseBytes: number };
  fetch?: FetchFn;
  crypto?: CryptoProvider;
}

/** Where a revocation answer may come from (see `RevocationPolicy.sources`). */
export type RevocationSource = 'stapled' | 'ocsp' | 'crl' | 'crldp';

/** Defaults; each cites why. */
const DEFAULTS: RevocationPolicy = {
  scope: 'chain',
  // With no data handed in (see defaultSources).
  sources: ['ocsp', 'crldp'],
  unavailable: 'hard-fail',
  crls: [],
  crlSigners: [],
  stapled: [],
  useDeltas: true,
  requireCrlNumber: true,
  ocsp: {
    nonce: true,
    method: 'auto',
    // 5 s: beyond this an interactive client has usually given up (Firefox uses 2 s soft / 10 s hard).
    timeoutMs: 5000,
    // OCSP responses with a responder certificate are ~1-3 KB; 256 KiB is generous.
    maxResponseBytes: 256 * 1024,
  },
  // A 1M-entry CRL is ~40 MB; 64 MiB leaves room while bounding memory.
  crldp: { timeoutMs: 15_000, maxResponseBytes: 64 * 1024 * 1024 },
};
export const DEFAULT_REVOCATION_POLICY: Readonly<RevocationPolicy> = Object.freeze(DEFAULTS);

/** A revocation answer with the reasons behind it (structurally a verify `RevocationStatus`). */
export type RevocationResult =
  | { status: 'good'; source?: RevocationSource; softFail?: RevocationProblem[] }
  | {
      status: 'revoked';
      reason: CRLReason;
      revocationDate: number;
      invalidityDate?: number;
      source: RevocationSource;
    }
  | { status: 'unknown'; why: string; code: RevocationErrorCode; problems: RevocationProblem[] };

export interface RevocationProblem {
  source: RevocationSource;
  code: RevocationErrorCode;
  message: string;
}

export function revocationPolicy(overrides: Partial<RevocationPolicy> = {}): RevocationPolicy {
  // An override given as `undefined` means "not set": it must not erase the default.
  const set = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  return {
    ...DEFAULT_REVOCATION_POLICY,
    sources: defaultSources(overrides),
    ...set,
    ocsp: { ...DEFAULT_REVOCATION_POLICY.ocsp, ...(overrides.ocsp ?? {}) },
    crldp: { ...DEFAULT_REVOCATION_POLICY.crldp, ...(overrides.crldp ?? {}) },
  };
}

/**
 * The sources used when a policy names none: the local data given (`stapled` responses, then
 * `crls`), or, when there is none, the network (`ocsp`, then `crldp`). A caller who hands in CRLs
 * means "check against these"; reaching out to the network is what it gets only when it gave
 * nothing to check against.
 */
export function defaultSources(
  given: Pick<Partial<RevocationPolicy>, 'stapled' | 'crls'>,
): readonly RevocationSource[] {
  const local: RevocationSource[] = [];
  if (given.stapled?.length) local.push('stapled');
  if (given.crls?.length) local.push('crl');
  return local.length > 0 ? local : DEFAULTS.sources;
}

/** Most useful first, when several sources failed. */
const PROBLEM_RANK: Partial<Record<RevocationErrorCode, number>> = {
  'crl-wrong-signer': 90,
  'crl-bad-signature': 90,
  'unauthorized-responder': 90,
  'bad-response-signature': 90,
  'nonce-mismatch': 85,
  'missing-nonce': 85,
  'cert-id-mismatch': 85,
  'crl-scope': 80,
  'crl-stale': 75,
  'stale-response': 75,
  'crl-not-yet-valid': 75,
  'response-from-future': 75,
  'crl-unhandled-critical-extension': 70,
  'crl-malformed': 70,
  'delta-without-base': 65,
};

/** Max nesting of CRL-signer path validations (a CRL signer whose CRL signer needs a path…). */
const MAX_SIGNER_DEPTH = 3;

export class PolicyRevocationChecker implements RevocationChecker {
  readonly policy: RevocationPolicy;
  private readonly crypto: CryptoProvider;
  private readonly crls: CertificateList[];
  private readonly fetched = new Map<string, { crl?: CertificateList; until: number }>();

  constructor(
    policy: Partial<RevocationPolicy> = {},
    private readonly depth = 0,
    /** CRL signers whose paths are being validated by an outer frame (DER), to stop self-reference. */
    private readonly inProgress: readonly Uint8Array[] = [],
  ) {
    this.policy = revocationPolicy(policy);
    this.crypto = this.policy.crypto ?? defaultProvider();
    this.crls = this.policy.crls.map((c) =>
      typeof c === 'string' || c instanceof Uint8Array ? parseCrl(c) : c,
    );
  }

  check(ctx: RevocationContext): Promise<RevocationResult> {
    return this.checkCertificate(ctx);
  }

  /**
   * The status of `ctx.cert` without I/O: for policies whose sources are only `stapled` and `crl`
   * (given CRLs and stapled OCSP responses), with a provider that `supportsSync`. `verifyPathSync`
   * calls this. Throws `RevocationError('async-required')` when the policy has a network source
   * (`ocsp`, `crldp`) or the provider is asynchronous-only — use `check` / `verifyPath` then.
   */
  checkSync(ctx: RevocationContext): RevocationResult {
    const network = this.policy.sources.filter((s) => s === 'ocsp' || s === 'crldp');
    if (network.length > 0)
      throw new RevocationError(
        'async-required',
        `revocation sources ${network.join(', ')} need the network: use verifyPath (async), or sources ['stapled', 'crl'] for verifyPathSync`,
      );
    if (!this.crypto.supportsSync)
      throw new RevocationError(
        'async-required',
        `crypto provider ${this.crypto.name} is asynchronous: use verifyPath (async)`,
      );
    return runSync(this.checkSteps(ctx));
  }

  /** The status of `ctx.cert`, with typed reasons. */
  checkCertificate(ctx: RevocationContext): Promise<RevocationResult> {
    return runAsync(this.checkSteps(ctx));
  }

  /** The clock-skew tolerance for this check: the policy's, else the validation's, else 0. */
  private skew(ctx: RevocationContext): number {
    return this.policy.clockSkewMs ?? ctx.clockSkewMs ?? 0;
  }

  private *checkSteps(ctx: RevocationContext): Steps<RevocationResult> {
    if (this.policy.scope === 'leaf' && ctx.index > 0) return { status: 'good' };
    const problems: RevocationProblem[] = [];
    for (const source of this.policy.sources) {
      let r: RevocationResult | undefined;
      try {
        r = yield* this.fromSource(source, ctx, problems);
      } catch (e) {
        if (!(e instanceof RevocationError) || e.code === 'async-required') throw e;
        problems.push({ source, code: e.code, message: e.message });
        continue;
      }
      if (r) return r;
    }
    return this.undetermined(problems);
  }

  private undetermined(problems: RevocationProblem[]): RevocationResult {
    if (this.policy.unavailable === 'soft-fail') return { status: 'good', softFail: problems };
    problems.sort((a, b) => (PROBLEM_RANK[b.code] ?? 0) - (PROBLEM_RANK[a.code] ?? 0));
    const top = problems[0] ?? {
      source: 'crl',
      code: 'status-unavailable' as const,
      message: 'no revocation source configured',
    };
    return { status: 'unknown', code: top.code, why: `${top.code}: ${top.message}`, problems };
  }

  private *fromSource(
    source: RevocationSource,
    ctx: RevocationContext,
    problems: RevocationProblem[],
  ): Steps<RevocationResult | undefined> {
    switch (source) {
      case 'stapled': {
        for (const der of this.policy.stapled) {
          const resp = parseOcspResponse(der);
          const applies = resp.basic?.responses.some(
            (s) => s.certId.serialNumber.length && bytesEq(s.certId.serialNumber, ctx.cert.serialNumber),
          );
          if (!applies) continue;
          const st = yield* checkOcspResponseSteps(resp, ctx.cert, ctx.issuer, {
            crypto: this.crypto,
            time: ctx.time,
            clockSkewMs: this.skew(ctx),
          });
          yield* this.checkResponder(st.delegatedResponder, ctx);
          const r = fromOcsp(st.status, 'stapled');
          if (r) return r;
          problems.push({
            source,
            code: 'status-unavailable',
            message: 'stapled OCSP response says unknown',
          });
        }
        return undefined;
      }
      case 'ocsp': {
        const urls = ocspUrls(ctx.cert);
        if (urls.length === 0) return undefined;
        const o = this.policy.ocsp;
        const req = yield* step(
          asyncOnly('an OCSP request', () =>
            buildOcspRequest(ctx.cert, ctx.issuer, { nonce: o.nonce, crypto: this.crypto }),
          ),
        );
        const method = o.method === 'auto' ? (!req.nonce && req.der.length < 255 ? 'GET' : 'POST') : o.method;
        for (const url of urls) {
          try {
            const der = yield* step(
              asyncOnly(`OCSP ${url}`, () =>
                sendOcspRequest(url, req.der, {
                  method,
                  timeoutMs: o.timeoutMs,
                  maxResponseBytes: o.maxResponseBytes,
                  fetch: this.policy.fetch,
                }),
              ),
            );
            const st = yield* checkOcspResponseSteps(der, ctx.cert, ctx.issuer, {
              crypto: this.crypto,
              time: ctx.time,
              clockSkewMs: this.skew(ctx),
              nonce: req.nonce,
            });
            yield* this.checkResponder(st.delegatedResponder, ctx);
            const r = fromOcsp(st.status, 'ocsp');
            if (r) return r;
            problems.push({ source, code: 'status-unavailable', message: `${url} says unknown` });
          } catch (e) {
            if (!(e instanceof RevocationError) || e.code === 'async-required') throw e;
            problems.push({ source, code: e.code, message: e.message });
          }
        }
        return undefined;
      }
      case 'crl':
        return yield* this.fromCrls(this.crls, ctx, problems, 'crl');
      case 'crldp': {
        const urls = crlUrls(ctx.cert);
        if (urls.length === 0) return undefined;
        const got: CertificateList[] = [];
        for (const url of urls) {
          const c = yield* this.fetchCrlStep(url, ctx.time, problems);
          if (c) got.push(c);
        }
        // Delta CRLs named by the complete CRLs' freshestCRL.
        if (this.policy.useDeltas)
          for (const c of [...got])
            for (const url of dpUrls(c.freshestCRL)) {
              const d = yield* this.fetchCrlStep(url, ctx.time, problems);
              if (d) got.push(d);
            }
        if (got.length === 0) return undefined;
        return yield* this.fromCrls([...this.crls, ...got], ctx, problems, 'crldp');
      }
    }
  }

  /**
   * RFC 6960 §4.2.2.2.1: a delegated responder certificate without id-pkix-ocsp-nocheck is itself
   * checked for revocation — through the CRL sources of the policy (`crl`, `crldp`; asking OCSP
   * about the OCSP responder could loop). Revoked → `bad-responder-certificate`; undeterminable →
   * the same under `hard-fail`, accepted under `soft-fail`. With nocheck nothing is asked.
   */
  private *checkResponder(responder: Certificate | undefined, ctx: RevocationContext): Steps<void> {
    if (!responder || responder.extension(OID.ocspNoCheck)) return;
    const rctx: RevocationContext = {
      cert: responder,
      issuer: ctx.issuer,
      chain: [responder, ...ctx.chain.slice(ctx.index + 1)],
      index: 0,
      time: ctx.time,
      clockSkewMs: ctx.clockSkewMs,
    };
    const problems: RevocationProblem[] = [];
    for (const source of this.policy.sources) {
      if (source !== 'crl' && source !== 'crldp') continue;
      let r: RevocationResult | undefined;
      try {
        r = yield* this.fromSource(source, rctx, problems);
      } catch (e) {
        if (!(e instanceof RevocationError) || e.code === 'async-required') throw e;
        problems.push({ source, code: e.code, message: e.message });
        continue;
      }
      if (r?.status === 'revoked')
        throw new RevocationError(
          'bad-responder-certificate',
          `the OCSP responder certificate ${responder.subject.toString()} is revoked (${r.reason})`,
        );
      if (r?.status === 'good') return;
    }
    if (this.policy.unavailable === 'soft-fail') return;
    const why = problems.map((p) => `${p.code}: ${p.message}`).join('; ') || 'no CRL source configured';
    throw new RevocationError(
      'bad-responder-certificate',
      `the revocation status of the OCSP responder certificate ${responder.subject.toString()} (no id-pkix-ocsp-nocheck) cannot be established: ${why}`,
    );
  }

  private *fromCrls(
    crls: readonly CertificateList[],
    ctx: RevocationContext,
    problems: RevocationProblem[],
    source: RevocationSource,
  ): Steps<RevocationResult | undefined> {
    if (crls.length === 0) return undefined;
    const st = yield* checkCrlsSteps(
      { cert: ctx.cert, issuer: ctx.issuer, chain: ctx.chain, time: ctx.time, clockSkewMs: this.skew(ctx) },
      {
        crypto: this.crypto,
        crls,
        signerCandidates: this.policy.crlSigners,
        useDeltas: this.policy.useDeltas,
        requireCrlNumber: this.policy.requireCrlNumber,
        validateSigner: (signer, anchor, time) => runAsync(this.validateSigner(signer, anchor, time, ctx)),
        validateSignerSync: (signer, anchor, time) => runSync(this.validateSigner(signer, anchor, time, ctx)),
      },
    );
    if (st.status === 'good') return { status: 'good', source };
    if (st.status === 'revoked')
      return {
        status: 'revoked',
        reason: st.reason,
        revocationDate: st.revocationDate,
        invalidityDate: st.invalidityDate,
        source,
      };
    for (const p of st.errors) problems.push({ source, ...(p as CrlProblem) });
    return undefined;
  }

  /** RFC 5280 §6.3.3 (f): the CRL signer's path must reach the same anchor, and be unrevoked. */
  private *validateSigner(
    signer: Certificate,
    anchor: Certificate,
    time: number,
    ctx: RevocationContext,
  ): Steps<string | undefined> {
    // An indirect CRL may cover its own signer (PKITS 4.14.30): the outer frame is validating that
    // signer's path already, and the CRL's signature under its key was just verified.
    if (this.inProgress.some((d) => bytesEq(d, signer.der))) return undefined;
    if (this.depth >= MAX_SIGNER_DEPTH) return 'CRL signer paths nested too deeply';
    const inner = new PolicyRevocationChecker({ ...this.policy, scope: 'chain' }, this.depth + 1, [
      ...this.inProgress,
      signer.der,
    ]);
    const policy = this.policy.signerPolicy ?? profilePolicy('rfc5280', { purpose: 'any' });
    const opts: VerifyOptions = {
      leaf: signer,
      intermediates: [...ctx.chain.slice(0, -1), ...this.policy.crlSigners],
      trustAnchors: [anchor],
      time,
      clockSkewMs: this.skew(ctx),
      policy: { ...policy, purpose: 'any', leafKeyUsage: undefined },
      revocation: inner,
      crypto: this.crypto,
    };
    const r = yield* step({ sync: () => verifyPathSync(opts), async: () => verifyPath(opts) });
    return r.ok ? undefined : `${r.code}: ${r.message}`;
  }

  private fetchCrlStep(
    url: string,
    time: number,
    problems: RevocationProblem[],
  ): Steps<CertificateList | undefined> {
    return step(asyncOnly(`fetching the CRL ${url}`, () => this.fetchCrl(url, time, problems)));
  }

  private async fetchCrl(
    url: string,
    time: number,
    problems: RevocationProblem[],
  ): Promise<CertificateList | undefined> {
    const hit = this.fetched.get(url);
    if (hit && time < hit.until) return hit.crl;
    try {
      const der = await httpRequest(
        url,
        { method: 'GET' },
        {
          fetch: this.policy.fetch,
          timeoutMs: this.policy.crldp.timeoutMs,
          maxBytes: this.policy.crldp.maxResponseBytes,
        },
      );
      let crl: CertificateList;
      try {
        crl = parseCrl(der);
      } catch (e) {
        throw new RevocationError('crl-malformed', `${url}: ${(e as Error).message}`, { cause: e });
      }
      this.fetched.set(url, { crl, until: crl.nextUpdate ?? time + 3600_000 });
      return crl;
    } catch (e) {
      if (!(e instanceof RevocationError)) throw e;
      problems.push({ source: 'crldp', code: e.code, message: e.message });
      return undefined;
    }
  }
}

function fromOcsp(st: OcspCertStatus, source: RevocationSource): RevocationResult | undefined {
  if (st.status === 'good') return { status: 'good', source };
  if (st.status === 'revoked')
    return {
      status: 'revoked',
      reason: st.reason ?? 'unspecified',
      revocationDate: st.revocationTime,
      source,
    };
  return undefined;
}

function bytesEq(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function dpUrls(
  dps:
    | readonly { distributionPoint?: { fullName?: readonly { type: string; value?: unknown }[] } }[]
    | undefined,
): string[] {
  const out: string[] = [];
  for (const dp of dps ?? [])
    for (const g of dp.distributionPoint?.fullName ?? [])
      if (
        g.type === 'uniformResourceIdentifier' &&
        typeof g.value === 'string' &&
        /^https?:\/\//.test(g.value)
      )
        out.push(g.value);
  return out;
}

/** HTTP(S) URIs of a certificate's cRLDistributionPoints (LDAP and others are ignored). */
export function crlUrls(cert: Certificate): string[] {
  return dpUrls(cert.decoded(OID.cRLDistributionPoints));
}

/** A checker for `verifyPath({ revocation })` from a policy (see `RevocationPolicy`). */
export function createRevocationChecker(policy: Partial<RevocationPolicy> = {}): PolicyRevocationChecker {
  return new PolicyRevocationChecker(policy);
}
