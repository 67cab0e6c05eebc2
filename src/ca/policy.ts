import { getPublicSuffix } from 'tldts';
import { OID } from '../der/oid-names.js';
import { parseIp } from '../issue/san.js';
import { Budget } from '../verify/budget.js';
import { VerifyError } from '../verify/errors.js';
import { collectNames, NameConstraintState } from '../verify/name-constraints.js';
import { parsePresentedDns } from '../verify/names.js';
import type { Certificate } from '../x509/certificate.js';
import { type GeneralName, ipToString } from '../x509/general-name.js';
import { attributeShortName, type Name } from '../x509/name.js';
import type { SubjectPublicKeyInfo } from '../x509/spki.js';
import { CaError, type CaErrorCode } from './errors.js';
import { checkKeyAllowed } from './key-check.js';
import { type CaProfile, RULE_SECTIONS, type SanType, SUBJECT_ATTRIBUTES } from './profiles.js';

/**
 * The policy stage of issuance: a request (subject, key, SAN) checked against its profile and its
 * issuing CA, before anything is built or signed. Each `Validator` checks one rule and throws a
 * `CaError` naming the rule and its RFC section; `POLICY_VALIDATORS` runs them in a fixed order.
 */

/** What the policy stage sees: the request as the certificate would carry it. */
export interface PolicyInput {
  profile: CaProfile;
  subject: Name;
  spki: SubjectPublicKeyInfo;
  sans: readonly GeneralName[];
  /** The issuing CA's certificate. */
  issuer: Certificate;
  /** The issuing CA's chain above it, up to and including the root. */
  issuerChain: readonly Certificate[];
}

/** One rule of the issuance policy. */
export interface Validator {
  /** The rule's name (a key of RULE_SECTIONS). */
  readonly rule: string;
  check(input: PolicyInput): void;
}

/** Longest subject attribute or SAN value tested against a pattern (bounds regex work on hostile input). */
const MAX_VALUE_LENGTH = 1024;

const regexCache = new Map<string, RegExp>();
function fullMatch(pattern: string, value: string): boolean {
  let re = regexCache.get(pattern);
  if (!re) {
    re = new RegExp(`^(?:${pattern})$`, 'u');
    if (regexCache.size < 1024) regexCache.set(pattern, re);
  }
  return value.length <= MAX_VALUE_LENGTH && re.test(value);
}

function refuse(
  code: CaErrorCode,
  rule: string,
  message: string,
  extra: Record<string, unknown> = {},
): CaError {
  return new CaError(code, message, { rule, section: RULE_SECTIONS[rule], ...extra });
}

const SHORT_BY_OID = new Map(Object.entries(SUBJECT_ATTRIBUTES).map(([k, v]) => [v, k]));

/** RFC 5280 §4.2.1.6 text of a SAN entry for patterns: `dns` lower-cased, `ip` printed. */
export function sanText(g: GeneralName): { type: SanType | undefined; value: string } {
  switch (g.type) {
    case 'dNSName':
      return { type: 'dns', value: g.value.toLowerCase() };
    case 'iPAddress':
      return { type: 'ip', value: ipToString(g.value) };
    case 'uniformResourceIdentifier':
      return { type: 'uri', value: g.value };
    case 'rfc822Name':
      return { type: 'email', value: g.value };
    default:
      return { type: undefined, value: g.type };
  }
}

/** `dns:…`, `ip:…`, `uri:…`, `email:…` — the store's form of SAN entries. */
export function sanEntry(g: GeneralName): string {
  const t = sanText(g);
  return t.type ? `${t.type}:${t.value}` : `${g.type}:`;
}

/** RFC 5280 §4.1.2.7: a key type and size the profile allows. */
export const keyValidator: Validator = {
  rule: 'keyType',
  check: (i) => checkKeyAllowed(i.spki, i.profile),
};

/** RFC 5280 §4.1.2.6: the subject's attributes, counts and patterns. */
export const subjectValidator: Validator = {
  rule: 'subject',
  check({ subject, profile }) {
    if (subject.isEmpty) {
      if (profile.rules.emptySubject === 'forbid')
        throw refuse('subject-not-allowed', 'emptySubject', `profile ${profile.name} needs a subject`);
      return;
    }
    const counts = new Map<string, number>();
    for (const rdn of subject.rdns) {
      if (rdn.length !== 1)
        throw refuse('subject-not-allowed', 'subject', 'multi-valued RDNs are not allowed');
      const a = rdn[0]!;
      const short = SHORT_BY_OID.get(a.type);
      const r = short ? profile.subject[short] : undefined;
      if (!short || !r)
        throw refuse(
          'subject-not-allowed',
          'subject',
          `subject attribute ${attributeShortName(a.type)} is not allowed by profile ${profile.name}`,
          { attribute: attributeShortName(a.type) },
        );
      const n = (counts.get(short) ?? 0) + 1;
      counts.set(short, n);
      if (n > r.maxCount)
        throw refuse(
          'subject-not-allowed',
          'subject',
          `too many ${short} attributes (at most ${r.maxCount})`,
          {
            attribute: short,
          },
        );
      if (r.pattern !== undefined && !fullMatch(r.pattern, a.value))
        throw refuse(
          'subject-not-allowed',
          'subject',
          `subject ${short}="${a.value.slice(0, 80)}" does not match the profile's pattern`,
          { attribute: short, pattern: r.pattern },
        );
    }
    for (const [short, r] of Object.entries(profile.subject))
      if (r.required && !counts.has(short))
        throw refuse(
          'subject-not-allowed',
          'subject',
          `subject ${short} is required by profile ${profile.name}`,
          {
            attribute: short,
          },
        );
  },
};

/** RFC 5280 §6.1: no subject equal to a CA name of the issuing chain. */
export const subjectNotIssuerValidator: Validator = {
  rule: 'subjectNotIssuer',
  check({ subject, issuer, issuerChain }) {
    for (const ca of [issuer, ...issuerChain])
      if (!subject.isEmpty && subject.equals(ca.subject))
        throw refuse(
          'subject-equals-issuer',
          'subjectNotIssuer',
          `the subject ${subject.toString()} is the name of a CA in the issuing chain`,
        );
  },
};

/** RFC 5280 §4.2.1.6, RFC 9525 §6.3: SAN types, patterns, count, presence. */
export const sanValidator: Validator = {
  rule: 'san',
  check({ sans, profile }) {
    if (sans.length === 0) {
      if (profile.san.required)
        throw refuse('san-required', 'sanRequired', `profile ${profile.name} requires a subjectAltName`);
      return;
    }
    if (sans.length > profile.san.maxEntries)
      throw refuse(
        'san-not-allowed',
        'san',
        `${sans.length} subjectAltName entries; profile ${profile.name} allows ${profile.san.maxEntries}`,
      );
    const seen = new Set<string>();
    for (const g of sans) {
      const t = sanText(g);
      const patterns = t.type ? profile.san.allow[t.type] : [];
      if (patterns.length === 0)
        throw refuse(
          'san-not-allowed',
          'san',
          `subjectAltName type ${g.type} is not allowed by profile ${profile.name}`,
        );
      const key = `${t.type}:${t.value}`;
      if (seen.has(key)) throw refuse('san-not-allowed', 'san', `subjectAltName ${key} appears twice`);
      seen.add(key);
      if (g.type === 'dNSName' && g.value.startsWith('*.')) continue; // wildcardValidator decides
      if (!patterns.some((p) => fullMatch(p, t.value)))
        throw refuse(
          'san-not-allowed',
          'san',
          `subjectAltName ${key.slice(0, 120)} is not allowed by profile ${profile.name}`,
          {
            entry: key.slice(0, 256),
          },
        );
    }
  },
};

/** True for `com`, `co.uk`, `github.io`, and any single label (the public suffix list's `*` rule). */
export function isPublicSuffix(domain: string): boolean {
  return getPublicSuffix(domain, { allowPrivateDomains: true }) === domain;
}

/** CA/B BR §3.2.2.6: wildcards only where allowed, never over a public suffix. */
export const wildcardValidator: Validator = {
  rule: 'wildcards',
  check({ sans, profile }) {
    for (const g of sans) {
      if (g.type !== 'dNSName' || !g.value.includes('*')) continue;
      const p = parsePresentedDns(g.value.toLowerCase());
      // RFC 9525 §6.3: only a whole left-most label may be `*`.
      if (!p?.wildcard)
        throw refuse('san-not-allowed', 'wildcards', `"${g.value}" is not a valid wildcard name`);
      if (isPublicSuffix(p.suffix))
        throw refuse('san-not-allowed', 'wildcards', `wildcard "${g.value}" covers a public suffix`);
      if (profile.rules.wildcards === 'forbid')
        throw refuse('san-not-allowed', 'wildcards', `profile ${profile.name} does not allow wildcard names`);
      const rest = p.suffix;
      if (!profile.san.allow.dns.some((pat) => fullMatch(pat, `*.${rest}`) || fullMatch(pat, `x.${rest}`)))
        throw refuse(
          'san-not-allowed',
          'san',
          `subjectAltName dns:${g.value} is not allowed by profile ${profile.name}`,
        );
    }
  },
};

/** URI schemes never issued, whatever a profile says: they run code or read local files in browsers and dashboards. */
const FORBIDDEN_SCHEMES = new Set(['javascript', 'data', 'vbscript', 'file']);

/** RFC 3986 §3.1: URI SANs with an allowed scheme; never script or file schemes. */
export const uriSchemeValidator: Validator = {
  rule: 'uriSchemes',
  check({ sans, profile }) {
    for (const g of sans) {
      if (g.type !== 'uniformResourceIdentifier') continue;
      const m = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(g.value);
      const scheme = m?.[1]?.toLowerCase();
      if (!scheme || FORBIDDEN_SCHEMES.has(scheme) || !profile.rules.uriSchemes.includes(scheme))
        throw refuse(
          'san-not-allowed',
          'uriSchemes',
          `URI scheme "${scheme ?? '(none)'}" is not allowed (allowed: ${profile.rules.uriSchemes.join(', ')})`,
        );
      if (/[\s\u0000-\u001f\u007f]/.test(g.value))
        throw refuse('san-not-allowed', 'uriSchemes', 'URI contains whitespace or control characters');
    }
  },
};

/** CA/B BR §7.1.4.3: a DNS- or IP-like CN must be in the SAN. */
export const commonNameInSanValidator: Validator = {
  rule: 'commonNameInSan',
  check({ subject, sans, profile }) {
    if (profile.rules.commonNameInSan === 'off') return;
    for (const cn of subject.get(OID.commonName)) {
      const ip = parseIp(cn);
      const dns = !ip && cn.includes('.') && parsePresentedDns(cn.toLowerCase()) !== undefined;
      if (!ip && !dns) continue;
      const found = sans.some((g) =>
        ip
          ? g.type === 'iPAddress' && ipToString(g.value) === ipToString(ip)
          : g.type === 'dNSName' && g.value.toLowerCase() === cn.toLowerCase(),
      );
      if (!found)
        throw refuse(
          'subject-not-allowed',
          'commonNameInSan',
          `the commonName "${cn.slice(0, 80)}" reads as a ${ip ? 'IP address' : 'DNS name'} but is not in the subjectAltName`,
        );
    }
  },
};

/** RFC 5280 §4.2.1.10: inside the issuing chain's name constraints. */
export const nameConstraintsValidator: Validator = {
  rule: 'nameConstraints',
  check({ subject, sans, issuer, issuerChain }) {
    const chain = [...issuerChain].reverse().concat(issuer); // root first
    const state = new NameConstraintState('reject');
    try {
      chain.forEach((ca, i) => {
        const nc = ca.nameConstraints;
        if (nc) state.add(nc, i);
      });
      if (state.isEmpty) return;
      const names = collectNames(subject, sans.length ? sans : undefined, { commonNameAsDns: true }, parseIp);
      state.check(names, new Budget(), chain.length);
    } catch (e) {
      if (e instanceof VerifyError)
        throw refuse('name-constraint-violation', 'nameConstraints', `${e.message} of the issuing CA chain`);
      throw e;
    }
  },
};

/** Every rule, in the order they run (the most specific refusal first: a CA's name before a pattern). */
export const POLICY_VALIDATORS: readonly Validator[] = [
  keyValidator,
  subjectNotIssuerValidator,
  subjectValidator,
  sanValidator,
  wildcardValidator,
  uriSchemeValidator,
  commonNameInSanValidator,
  nameConstraintsValidator,
];

/** Runs every validator; the first refusal is thrown. */
export function checkPolicy(input: PolicyInput, validators: readonly Validator[] = POLICY_VALIDATORS): void {
  for (const v of validators) v.check(input);
}
