/**
 * Shared by scripts/conformance.ts and test/verify/conformance-smoke.test.ts: loads x509-limbo
 * and NIST PKITS and runs one case through `verifyPath`.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getPublicSuffix } from 'tldts';
import type { CryptoProvider } from '../src/crypto/provider.js';
import '../src/crypto/index.js';
import { createRevocationChecker } from '../src/revocation/checker.js';
import {
  type KeyUsageName,
  type PolicyOverrides,
  profilePolicy,
  RFC5280_CERTIFICATE_PROFILE_RULES,
  type ValidationProfile,
  verifyPath,
} from '../src/verify/index.js';
import { parseCertificate } from '../src/x509/certificate.js';

export type Verdict = 'pass' | 'fail' | 'skip' | 'divergence';

export interface CaseResult {
  id: string;
  verdict: Verdict;
  expected: 'valid' | 'invalid';
  got?: string;
  reason?: string;
  profile?: string;
  ms: number;
}

/** PSL test for wildcard SANs (ICANN and private sections, as CA/B BR §3.2.2.6 asks). */
export function isPublicSuffix(domain: string): boolean {
  return getPublicSuffix(domain, { allowPrivateDomains: true }) === domain;
}

/**
 * The conformance floor after an `--update-floor` run: each counter becomes max(floor, measured),
 * so an update after a failing or partial (`--suite`) run never lowers a figure, and counters the
 * run did not measure are kept.
 */
export function raiseFloor(
  floor: Readonly<Record<string, number>>,
  measured: Readonly<Record<string, number>>,
): Record<string, number> {
  const out: Record<string, number> = { ...floor };
  for (const [k, v] of Object.entries(measured)) out[k] = Math.max(floor[k] ?? 0, v);
  return out;
}

// ---- what a rejection means -------------------------------------------------------------------

/**
 * FAILURE-expected families where the reason matters, and the verify codes that are that reason.
 * A case of the family passes "for the tested reason" only when the rejection carries one of
 * these codes; any other code (a hostname mismatch, an unknown issuer…) rejected it for
 * something else. Families are matched on x509-limbo ids (`bettertls::nameconstraints::…`,
 * `rfc5280::nc::…`) and NIST PKITS ids (`4.13.x` name constraints, `4.8`–`4.12` policies).
 */
export const REASON_FAMILIES: readonly { name: string; match: RegExp; codes: readonly string[] }[] = [
  {
    name: 'name constraints',
    match: /^(bettertls::nameconstraints|rfc5280::nc|webpki::nc|cve)::|^4\.13\./,
    codes: ['name-constraint-violation'],
  },
  { name: 'EKU', match: /::eku::|::ca-as-leaf$/, codes: ['eku'] },
  {
    name: 'basic constraints',
    match:
      /basic-?constraints|without-ca-bit|inconsistent-ca-extensions|ica-ku-keycertsign|^4\.6\.[1-4](\.|$)/i,
    codes: ['not-a-ca', 'key-usage', 'profile-violation'],
  },
  { name: 'pathLen', match: /^pathlen::|^4\.6\.([5-9]|1[0-7])(\.|$)/, codes: ['path-too-long'] },
  { name: 'policies', match: /^4\.(8|9|10|11|12)\./, codes: ['policy-violation'] },
];

/** The verify code of an `invalid (code at i: …)` verdict, or undefined. */
export function rejectionCode(got: string | undefined): string | undefined {
  return got?.match(/^invalid \(([a-z-]+) at /)?.[1];
}

export interface ReasonFigures {
  family: string;
  /** FAILURE-expected cases of the family. */
  cases: number;
  /** Of those, rejected (passes). */
  rejected: number;
  /** Of those, rejected with one of the family's codes. */
  forReason: number;
  /** Rejections for other reasons, by code. */
  other: Record<string, number>;
}

/** Reason-checked figures per family, over results of FAILURE-expected cases. */
export function reasonFigures(results: readonly CaseResult[]): ReasonFigures[] {
  return REASON_FAMILIES.map((f) => {
    const mine = results.filter((r) => r.expected === 'invalid' && f.match.test(r.id));
    const fig: ReasonFigures = { family: f.name, cases: mine.length, rejected: 0, forReason: 0, other: {} };
    for (const r of mine) {
      if (r.verdict !== 'pass') continue;
      fig.rejected++;
      const code = rejectionCode(r.got) ?? 'other';
      if (f.codes.includes(code)) fig.forReason++;
      else fig.other[code] = (fig.other[code] ?? 0) + 1;
    }
    return fig;
  });
}

// ---- x509-limbo -------------------------------------------------------------------------------

export interface LimboCase {
  id: string;
  conflicts_with?: string[];
  features?: string[] | null;
  description: string;
  validation_kind: 'SERVER' | 'CLIENT';
  trusted_certs: string[];
  untrusted_intermediates: string[];
  peer_certificate: string;
  validation_time: string | null;
  signature_algorithms?: string[] | null;
  key_usage?: string[] | null;
  extended_key_usage?: string[] | null;
  expected_result: 'SUCCESS' | 'FAILURE';
  expected_peer_name?: { kind: 'DNS' | 'IP' | 'RFC822'; value: string } | null;
  max_chain_depth?: number | null;
  crls?: string[];
}

export function loadLimbo(path: string): LimboCase[] {
  return JSON.parse(readFileSync(path, 'utf8')).testcases;
}

/** The profile a limbo case was written for. */
export function limboProfile(id: string): ValidationProfile {
  if (id.startsWith('webpki::')) return 'webpki';
  if (id.startsWith('rfc5280::')) return 'rfc5280';
  return 'iot';
}

export async function runLimboCase(
  c: LimboCase,
  mode: 'own' | 'default',
  crypto?: CryptoProvider,
): Promise<CaseResult> {
  const expected = c.expected_result === 'SUCCESS' ? 'valid' : 'invalid';
  const profile: ValidationProfile = mode === 'own' ? limboProfile(c.id) : 'iot';
  const base = { id: c.id, expected, profile } as const;
  const t0 = performance.now();
  const eku = c.extended_key_usage ?? [];
  const purpose = eku.length > 0 ? eku[0]! : c.validation_kind === 'CLIENT' ? 'clientAuth' : 'serverAuth';
  const overrides: PolicyOverrides = { purpose, isPublicSuffix };
  // x509-limbo's rfc5280:: cases test RFC 5280's certificate profile (§4: what a CA must not
  // issue) and the trust anchor's own constraints (RFC 5937: an expired root, a root's
  // nameConstraints) as well as §6.1. The rfc5280 profile is §6.1 alone, so these cases switch
  // both on, by name.
  if (profile === 'rfc5280') {
    overrides.rules = RFC5280_CERTIFICATE_PROFILE_RULES;
    overrides.trustAnchorConstraints = 'enforce';
  }
  if (c.max_chain_depth !== null && c.max_chain_depth !== undefined)
    overrides.maxIntermediates = c.max_chain_depth;
  // limbo names bits as X.509 does (contentCommitment for bit 1): accepted as they are.
  if (c.key_usage?.length) overrides.leafKeyUsage = c.key_usage as KeyUsageName[];
  // Revocation (issue 5): the case's CRLs, every certificate below the anchor, hard-fail.
  if (c.crls?.length) overrides.revocation = createRevocationChecker({ crls: c.crls, crypto });
  const policy = profilePolicy(profile, overrides);
  const peer = c.validation_kind === 'SERVER' ? c.expected_peer_name : undefined;
  let got: string;
  try {
    const r = await verifyPath({
      leaf: c.peer_certificate,
      intermediates: c.untrusted_intermediates,
      trustAnchors: c.trusted_certs,
      time: c.validation_time ? Date.parse(c.validation_time) : Date.now(),
      policy,
      hostname: peer?.kind === 'DNS' ? peer.value : undefined,
      ip: peer?.kind === 'IP' ? peer.value : undefined,
      email: peer?.kind === 'RFC822' ? peer.value : undefined,
      crypto,
    });
    got = r.ok ? 'valid' : `invalid (${r.code} at ${r.certIndex}: ${r.message})`;
    if (eku.length > 1 && r.ok) {
      // Every requested EKU must be allowed: re-run for the others.
      for (const p of eku.slice(1)) {
        const r2 = await verifyPath({
          leaf: c.peer_certificate,
          intermediates: c.untrusted_intermediates,
          trustAnchors: c.trusted_certs,
          time: c.validation_time ? Date.parse(c.validation_time) : Date.now(),
          policy: { ...policy, purpose: p },
          crypto,
        });
        if (!r2.ok) {
          got = `invalid (${r2.code} at ${r2.certIndex}: ${r2.message})`;
          break;
        }
      }
    }
  } catch (e) {
    got = `exception: ${(e as Error).stack ?? e}`;
  }
  const ms = Math.round(performance.now() - t0);
  const ok = got.startsWith(expected);
  return { ...base, verdict: ok ? 'pass' : 'fail', got, ms };
}

// ---- NIST PKITS -------------------------------------------------------------------------------

export interface PkitsRun {
  id: string;
  section: string;
  section_name?: string;
  name: string;
  path: string[];
  extra_certs: string[];
  crls: string[];
  initial_inputs: {
    initial_policy_set?: string[];
    initial_explicit_policy?: boolean;
    initial_policy_mapping_inhibit?: boolean;
    initial_any_policy_inhibit?: boolean;
  };
  expected: 'valid' | 'invalid';
  expected_user_constrained_policy_set?: string[];
  features: string[];
}

export interface PkitsManifest {
  defaults: {
    initial_policy_set: string[];
    initial_explicit_policy: boolean;
    initial_policy_mapping_inhibit: boolean;
    initial_any_policy_inhibit: boolean;
  };
  tests: PkitsRun[];
}

export function loadPkits(dir: string): { manifest: PkitsManifest; dir: string } {
  return { manifest: JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')), dir };
}

/**
 * PKITS tests RFC 5280 §6.1 and runs under the plain `rfc5280` profile, which is exactly that: no
 * override. (Its CA certificates with non-critical basicConstraints (4.6.4) and policyConstraints
 * (4.8.6, 4.10.x, 4.12.x) break §4.2.1.9/§4.2.1.11's MUSTs for issuers, which §6.1 does not check.)
 */
/** PKITS validates at 2021-01-01 (README). */
export const PKITS_TIME = Date.parse('2021-01-01T00:00:00Z');

export async function runPkitsCase(
  t: PkitsRun,
  dir: string,
  m: PkitsManifest,
  crypto?: CryptoProvider,
): Promise<CaseResult> {
  const base = { id: t.id, expected: t.expected, profile: 'rfc5280' } as const;
  const t0 = performance.now();
  const load = (f: string) => parseCertificate(new Uint8Array(readFileSync(join(dir, 'certs', f))));
  const ii = t.initial_inputs;
  const policy = profilePolicy('rfc5280', {
    purpose: 'any',
    initialPolicySet: ii.initial_policy_set ?? m.defaults.initial_policy_set,
    initialExplicitPolicy: ii.initial_explicit_policy ?? m.defaults.initial_explicit_policy,
    initialPolicyMappingInhibit:
      ii.initial_policy_mapping_inhibit ?? m.defaults.initial_policy_mapping_inhibit,
    initialAnyPolicyInhibit: ii.initial_any_policy_inhibit ?? m.defaults.initial_any_policy_inhibit,
  });
  let got: string;
  try {
    const certs = t.path.map(load);
    // Revocation (issue 5): the run's CRLs for every certificate of the path; CRL signers that
    // are not in the path (separate CRL keys, indirect CRL issuers) come from extra_certs.
    const revocation = t.crls.length
      ? createRevocationChecker({
          crls: t.crls.map((f) => new Uint8Array(readFileSync(join(dir, 'crls', f)))),
          crlSigners: t.extra_certs.map(load),
          signerPolicy: policy,
          crypto,
        })
      : undefined;
    const r = await verifyPath({
      leaf: certs[certs.length - 1]!,
      intermediates: certs.slice(1, -1),
      trustAnchors: [certs[0]!],
      time: PKITS_TIME,
      policy,
      revocation,
      crypto,
    });
    if (r.ok) {
      got = 'valid';
      const want = t.expected_user_constrained_policy_set;
      if (want && want.length > 0) {
        const have = [...r.policySet].sort().join(',');
        if (have !== [...want].sort().join(','))
          got = `valid but user-constrained policy set {${have}} ≠ {${want.join(',')}}`;
      }
    } else got = `invalid (${r.code} at ${r.certIndex}: ${r.message})`;
  } catch (e) {
    got = `exception: ${(e as Error).stack ?? e}`;
  }
  const ms = Math.round(performance.now() - t0);
  return {
    ...base,
    verdict: got === t.expected || got.startsWith(`${t.expected} (`) ? 'pass' : 'fail',
    got,
    ms,
  };
}
