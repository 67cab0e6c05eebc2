import type { GeneralSubtree, NameConstraints } from '../x509/extensions/types.js';
import type { GeneralName } from '../x509/general-name.js';
import { Name, type RelativeDistinguishedName } from '../x509/name.js';
import type { Budget } from './budget.js';
import { VerifyError } from './errors.js';
import { type Mailbox, type PresentedDns, parseMailbox, parsePresentedDns, parseUriHost } from './names.js';

/**
 * RFC 5280 §4.2.1.10 / §6.1.3 (b)–(c) / §6.1.4 (g): name constraints.
 *
 * Instead of intersecting permitted subtrees into one state (§6.1.4 (g)(1)), we keep each CA's
 * permitted set separately and require a name to satisfy every set that constrains its form —
 * the same result, without computing intersections of subtrees. Excluded subtrees are a union.
 *
 * Forms processed: dNSName, rfc822Name, uniformResourceIdentifier (host), iPAddress,
 * directoryName. For any other form (otherName, x400Address, ediPartyName, registeredID), a
 * constraint of that form plus a name of that form in a later certificate rejects the path:
 * §4.2.1.10 lets an application that cannot process a critical constraint reject instead.
 *
 * Choices (each stricter than some peers; see conformance/divergences.json for evidence):
 * - A dNSName constraint with a leading dot (`.example.com`) is malformed under RFC 5280, which
 *   only gives URI and email constraints that form. `leadingDotDns: 'subdomains'` accepts it
 *   the way OpenSSL and Go do (subdomains only).
 * - Malformed constraints (bad IP mask, wildcard DNS, two '@' in a mailbox, minimum ≠ 0 or
 *   maximum present, which RFC 5280 says MUST NOT appear) reject the path.
 * - A name that cannot be parsed (`.example.com` as a dNSName, a CIDR range as an iPAddress,
 *   `a@b@c` as a mailbox) violates any constraint of its form instead of slipping through.
 * - A wildcard dNSName `*.S` stands for every one-label extension of S: it is permitted only if
 *   all of them are, and excluded if any of them is (CVE-2025-61727).
 */

export type DnsLeadingDot = 'reject' | 'subdomains';

interface DnsConstraint {
  value: string; // lower-cased, no leading dot
  subdomainsOnly: boolean;
  any: boolean; // empty constraint: the whole namespace
}
type EmailConstraint =
  | { kind: 'mailbox'; mailbox: Mailbox }
  | { kind: 'host'; host: string }
  | { kind: 'domain'; domain: string };
type UriConstraint = { host: string; subdomainsOnly: boolean };
interface IpConstraint {
  address: Uint8Array;
  mask: Uint8Array;
}

const FORMS = ['dns', 'email', 'uri', 'ip', 'dn', 'other'] as const;
type Form = (typeof FORMS)[number];

/** One CA's subtrees, grouped by form and validated once. */
interface SubtreeSet {
  dns: DnsConstraint[];
  email: EmailConstraint[];
  uri: UriConstraint[];
  ip: IpConstraint[];
  dn: string[][]; // per-RDN comparison keys
  other: GeneralName[];
  size: number;
}

function emptySet(): SubtreeSet {
  return { dns: [], email: [], uri: [], ip: [], dn: [], other: [], size: 0 };
}

const EMPTY_DER = new Uint8Array(0);
/** RFC 5280 §7.1 key of one RDN (reuses Name's normalisation). */
export function rdnKey(rdn: RelativeDistinguishedName): string {
  return new Name(EMPTY_DER, [rdn]).key;
}

function malformed(what: string, certIndex: number): VerifyError {
  return new VerifyError('name-constraint-violation', `malformed name constraint: ${what}`, certIndex);
}

function isLdhLabelSeq(s: string): boolean {
  return parsePresentedDns(s)?.wildcard === false;
}

function parseDnsConstraint(v: string, leadingDot: DnsLeadingDot, certIndex: number): DnsConstraint {
  if (v.length === 0) return { value: '', subdomainsOnly: false, any: true };
  let s = v;
  let subdomainsOnly = false;
  if (s.charCodeAt(0) === 0x2e) {
    if (leadingDot === 'reject') throw malformed(`dNSName "${v}" has a leading period`, certIndex);
    s = s.slice(1);
    subdomainsOnly = true;
  }
  if (s.endsWith('.') || !isLdhLabelSeq(s)) throw malformed(`dNSName "${v}"`, certIndex);
  return { value: s.toLowerCase(), subdomainsOnly, any: false };
}

function parseEmailConstraint(v: string, certIndex: number): EmailConstraint {
  if (v.includes('@')) {
    const mailbox = parseMailbox(v);
    if (!mailbox) throw malformed(`rfc822Name "${v}"`, certIndex);
    return { kind: 'mailbox', mailbox };
  }
  if (v.startsWith('.')) {
    if (!isLdhLabelSeq(v.slice(1))) throw malformed(`rfc822Name "${v}"`, certIndex);
    return { kind: 'domain', domain: v.slice(1).toLowerCase() };
  }
  if (!isLdhLabelSeq(v)) throw malformed(`rfc822Name "${v}"`, certIndex);
  return { kind: 'host', host: v.toLowerCase() };
}

function parseUriConstraint(v: string, certIndex: number): UriConstraint {
  const subdomainsOnly = v.startsWith('.');
  const host = subdomainsOnly ? v.slice(1) : v;
  if (!isLdhLabelSeq(host)) throw malformed(`uniformResourceIdentifier "${v}"`, certIndex);
  return { host: host.toLowerCase(), subdomainsOnly };
}

function parseIpConstraint(v: Uint8Array, certIndex: number): IpConstraint {
  if (v.length !== 8 && v.length !== 32) throw malformed(`iPAddress of ${v.length} bytes`, certIndex);
  const n = v.length / 2;
  const address = v.subarray(0, n);
  const mask = v.subarray(n);
  // RFC 4632 §3.1: a mask is a run of ones followed by zeros.
  let zero = false;
  for (let i = 0; i < n; i++) {
    const m = mask[i]!;
    if (zero) {
      if (m !== 0) throw malformed('iPAddress mask is not contiguous', certIndex);
    } else if (m !== 0xff) {
      // m must be of the form 1…10…0
      if (((~m & 0xff) + 1) & ~m & 0xff) throw malformed('iPAddress mask is not contiguous', certIndex);
      zero = true;
    }
  }
  return { address, mask };
}

function addSubtrees(
  set: SubtreeSet,
  subtrees: readonly GeneralSubtree[],
  leadingDot: DnsLeadingDot,
  certIndex: number,
) {
  for (const st of subtrees) {
    // RFC 5280 §4.2.1.10: minimum MUST be zero and maximum MUST be absent.
    if (st.minimum !== 0 || st.maximum !== undefined)
      throw malformed('minimum/maximum in a GeneralSubtree', certIndex);
    const b = st.base;
    switch (b.type) {
      case 'dNSName':
        set.dns.push(parseDnsConstraint(b.value, leadingDot, certIndex));
        break;
      case 'rfc822Name':
        set.email.push(parseEmailConstraint(b.value, certIndex));
        break;
      case 'uniformResourceIdentifier':
        set.uri.push(parseUriConstraint(b.value, certIndex));
        break;
      case 'iPAddress':
        set.ip.push(parseIpConstraint(b.value, certIndex));
        break;
      case 'directoryName':
        set.dn.push(b.value.rdns.map(rdnKey));
        break;
      default:
        set.other.push(b);
    }
    set.size++;
  }
}

// ---- matching (each returns whether `name` lies within the subtree) ----

function dnsWithin(name: string, c: DnsConstraint): boolean {
  if (c.any) return true;
  if (name.length === c.value.length) return !c.subdomainsOnly && name === c.value;
  return (
    name.length > c.value.length &&
    name.endsWith(c.value) &&
    name.charCodeAt(name.length - c.value.length - 1) === 0x2e
  );
}

/** Does the set named by a presented dNSName lie entirely within the subtree? */
function dnsAllWithin(p: PresentedDns, c: DnsConstraint): boolean {
  if (!p.wildcard) return dnsWithin(p.name, c);
  // Every X.S lies within c iff S lies within c, or c is S itself with subdomainsOnly.
  if (c.subdomainsOnly && p.suffix === c.value) return true;
  return dnsWithin(p.suffix, c);
}

/** Does the set named by a presented dNSName intersect the subtree? */
function dnsSomeWithin(p: PresentedDns, c: DnsConstraint): boolean {
  if (!p.wildcard) return dnsWithin(p.name, c);
  if (dnsAllWithin(p, c)) return true;
  // c = L.S for one label L: the name L.S itself is among those the wildcard stands for.
  const v = c.value;
  if (c.subdomainsOnly) return false; // subtree of L.S minus L.S has ≥ |S|+2 labels
  const dot = v.indexOf('.');
  return dot > 0 && v.slice(dot + 1) === p.suffix;
}

/**
 * URI and email host constraints (RFC 5280 §4.2.1.10): without a leading period the constraint
 * names one host exactly; with one, every host below the domain (but not the domain itself).
 */
function domainWithin(domain: string, host: string, subdomainsOnly: boolean): boolean {
  if (!subdomainsOnly) return domain === host;
  return (
    domain.length > host.length &&
    domain.endsWith(host) &&
    domain.charCodeAt(domain.length - host.length - 1) === 0x2e
  );
}

function emailWithin(m: Mailbox, c: EmailConstraint): boolean {
  switch (c.kind) {
    case 'mailbox':
      return m.local === c.mailbox.local && m.domain === c.mailbox.domain;
    case 'host':
      return m.domain === c.host;
    case 'domain':
      return domainWithin(m.domain, c.domain, true);
  }
}

function ipWithin(a: Uint8Array, c: IpConstraint): boolean {
  if (a.length !== c.address.length) return false;
  for (let i = 0; i < a.length; i++) if ((a[i]! & c.mask[i]!) !== (c.address[i]! & c.mask[i]!)) return false;
  return true;
}

function dnWithin(rdns: readonly string[], prefix: readonly string[]): boolean {
  if (prefix.length > rdns.length) return false;
  for (let i = 0; i < prefix.length; i++) if (rdns[i] !== prefix[i]) return false;
  return true;
}

/** The names of one certificate that constraints apply to, pre-parsed. */
export interface ConstrainedNames {
  dns: { raw: string; parsed: PresentedDns | undefined }[];
  email: { raw: string; parsed: Mailbox | undefined }[];
  uri: { raw: string; host: string | undefined }[];
  ip: Uint8Array[];
  dn: { text: string; keys: string[] }[];
  other: GeneralName[];
}

export interface SubjectNameOptions {
  /** Treat a subject commonName that reads as a DNS name or IP address as one (web PKI habit). */
  commonNameAsDns: boolean;
}

/**
 * Collects the names of a certificate that name constraints apply to: the SAN entries, the
 * subject (when non-empty) as a directoryName, emailAddress attributes when there is no SAN
 * (RFC 5280 §4.2.1.10), and optionally a DNS-like or IP-like subject commonName.
 */
export function collectNames(
  subject: Name,
  subjectAltName: readonly GeneralName[] | undefined,
  opts: SubjectNameOptions,
  parseIp: (s: string) => Uint8Array | undefined,
): ConstrainedNames {
  const out: ConstrainedNames = { dns: [], email: [], uri: [], ip: [], dn: [], other: [] };
  const addGeneral = (g: GeneralName) => {
    switch (g.type) {
      case 'dNSName':
        out.dns.push({ raw: g.value, parsed: parsePresentedDns(g.value) });
        break;
      case 'rfc822Name':
        out.email.push({ raw: g.value, parsed: parseMailbox(g.value) });
        break;
      case 'uniformResourceIdentifier': {
        const h = parseUriHost(g.value);
        out.uri.push({ raw: g.value, host: h?.kind === 'dns' ? h.name : undefined });
        break;
      }
      case 'iPAddress':
        out.ip.push(g.value);
        break;
      case 'directoryName':
        out.dn.push({ text: g.value.toString(), keys: g.value.rdns.map(rdnKey) });
        break;
      default:
        out.other.push(g);
    }
  };
  if (subjectAltName) for (const g of subjectAltName) addGeneral(g);
  if (!subject.isEmpty) {
    out.dn.push({ text: subject.toString(), keys: subject.rdns.map(rdnKey) });
    if (!subjectAltName)
      for (const e of subject.get('1.2.840.113549.1.9.1'))
        out.email.push({ raw: e, parsed: parseMailbox(e) });
    if (opts.commonNameAsDns) {
      for (const cn of subject.get('2.5.4.3')) {
        const ip = parseIp(cn);
        if (ip) out.ip.push(ip);
        else {
          const p = parsePresentedDns(cn);
          // Only names that look like host names (at least one dot) are treated as such.
          if (p && (p.wildcard || p.name.includes('.'))) out.dns.push({ raw: cn, parsed: p });
        }
      }
    }
  }
  return out;
}

const OTHER_TYPES = new Set(['otherName', 'x400Address', 'ediPartyName', 'registeredID']);

/** Accumulated constraints along a path (RFC 5280 §6.1.2 (b)–(c) state). */
export class NameConstraintState {
  private readonly permitted: SubtreeSet[] = [];
  private readonly excluded: SubtreeSet = emptySet();

  constructor(private readonly leadingDot: DnsLeadingDot = 'reject') {}

  get isEmpty(): boolean {
    return this.permitted.length === 0 && this.excluded.size === 0;
  }

  /** RFC 5280 §6.1.4 (g): adds one CA's constraints; throws on malformed constraints. */
  add(nc: NameConstraints, certIndex: number): void {
    if (nc.permittedSubtrees?.length) {
      const set = emptySet();
      addSubtrees(set, nc.permittedSubtrees, this.leadingDot, certIndex);
      this.permitted.push(set);
    }
    if (nc.excludedSubtrees?.length)
      addSubtrees(this.excluded, nc.excludedSubtrees, this.leadingDot, certIndex);
  }

  /** RFC 5280 §6.1.3 (b)–(c): checks a certificate's names; throws `name-constraint-violation`. */
  check(names: ConstrainedNames, budget: Budget, certIndex: number): void {
    if (this.isEmpty) return;
    const sets = [...this.permitted, this.excluded];
    let work = 0;
    for (const s of sets) {
      work +=
        names.dns.length * s.dns.length +
        names.email.length * s.email.length +
        names.uri.length * s.uri.length;
      work +=
        names.ip.length * s.ip.length + names.dn.length * s.dn.length + names.other.length * s.other.length;
    }
    budget.consumeNameConstraints(work, certIndex);

    const violation = (what: string) =>
      new VerifyError('name-constraint-violation', `${what} violates a name constraint`, certIndex);
    const hasForm = (form: Form) => sets.some((s) => s[form].length > 0);

    // dNSName
    if (names.dns.length && hasForm('dns'))
      for (const n of names.dns) {
        const p = n.parsed;
        if (!p) throw violation(`malformed dNSName "${n.raw}"`);
        for (const c of this.excluded.dns) if (dnsSomeWithin(p, c)) throw violation(`dNSName "${n.raw}"`);
        for (const s of this.permitted)
          if (s.dns.length && !s.dns.some((c) => dnsAllWithin(p, c))) throw violation(`dNSName "${n.raw}"`);
      }
    // rfc822Name
    if (names.email.length && hasForm('email'))
      for (const n of names.email) {
        const m = n.parsed;
        if (!m) throw violation(`malformed rfc822Name "${n.raw}"`);
        for (const c of this.excluded.email) if (emailWithin(m, c)) throw violation(`rfc822Name "${n.raw}"`);
        for (const s of this.permitted)
          if (s.email.length && !s.email.some((c) => emailWithin(m, c)))
            throw violation(`rfc822Name "${n.raw}"`);
      }
    // uniformResourceIdentifier: the host must be a domain name (§4.2.1.10)
    if (names.uri.length && hasForm('uri'))
      for (const n of names.uri) {
        const h = n.host;
        if (h === undefined) throw violation(`URI "${n.raw}" without a host name`);
        for (const c of this.excluded.uri)
          if (domainWithin(h, c.host, c.subdomainsOnly)) throw violation(`URI "${n.raw}"`);
        for (const s of this.permitted)
          if (s.uri.length && !s.uri.some((c) => domainWithin(h, c.host, c.subdomainsOnly)))
            throw violation(`URI "${n.raw}"`);
      }
    // iPAddress
    if (names.ip.length && hasForm('ip'))
      for (const a of names.ip) {
        if (a.length !== 4 && a.length !== 16) throw violation('malformed iPAddress');
        for (const c of this.excluded.ip) if (ipWithin(a, c)) throw violation('iPAddress');
        for (const s of this.permitted)
          if (s.ip.length && !s.ip.some((c) => ipWithin(a, c))) throw violation('iPAddress');
      }
    // directoryName
    if (names.dn.length && hasForm('dn'))
      for (const n of names.dn) {
        for (const c of this.excluded.dn)
          if (dnWithin(n.keys, c)) throw violation(`directoryName "${n.text}"`);
        for (const s of this.permitted)
          if (s.dn.length && !s.dn.some((c) => dnWithin(n.keys, c)))
            throw violation(`directoryName "${n.text}"`);
      }
    // Forms we do not process: reject when constrained and present (§4.2.1.10).
    if (names.other.length && hasForm('other'))
      for (const n of names.other) {
        if (!OTHER_TYPES.has(n.type)) continue;
        if (sets.some((s) => s.other.some((c) => c.type === n.type)))
          throw violation(`${n.type} name (a form whose constraints we cannot process)`);
      }
  }
}
