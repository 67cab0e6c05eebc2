/**
 * Reference-identity matching for end-entity certificates (RFC 9525, RFC 5280 §4.2.1.6).
 *
 * Pure functions over strings and bytes; nothing here touches certificates directly, so the
 * grammar can be table-tested on its own.
 *
 * - DNS: ASCII only (IDNA A-labels, compared case-insensitively; U-labels are rejected, callers
 *   convert with their IDNA library first). A presented wildcard is accepted only as the whole
 *   left-most label followed by at least two labels (`*.example.com`), never partial (`f*o.`),
 *   never inside an A-label, and it matches exactly one non-empty label (RFC 9525 §6.3).
 *   One trailing dot (absolute form) is ignored on either side.
 * - IP: text → bytes (strict RFC 3986 IPv4 dotted-decimal without leading zeros; IPv6 with `::`
 *   and an embedded IPv4 tail; no zone ids), compared byte for byte with iPAddress SANs.
 * - Email: mailbox syntax (dot-atom or quoted local part); local part exact, domain
 *   case-insensitive (RFC 5280 §4.2.1.6, §7.5).
 * - URI: the host of an authority-bearing URI.
 *
 * Deviation: we never fall back to the subject CN (RFC 9525 §6.2.1 permits; the CA/B Forum and
 * every modern client forbid it). Callers that need CN matching must do it themselves.
 */

const MAX_DNS_LENGTH = 253; // RFC 1035 §3.1: 255 octets on the wire = 253 text characters
const MAX_LABEL_LENGTH = 63; // RFC 1035 §2.3.4

function isLdh(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x2d;
}

function lowerAscii(s: string): string {
  // toLowerCase is locale-independent in JS but also folds non-ASCII; callers only pass ASCII.
  return s.toLowerCase();
}

function stripTrailingDot(s: string): string {
  return s.length > 1 && s.charCodeAt(s.length - 1) === 0x2e ? s.slice(0, -1) : s;
}

/** True when `label` is a valid LDH label (RFC 1123 §2.1: may start with a digit). */
function isLdhLabel(s: string, start: number, end: number): boolean {
  const n = end - start;
  if (n < 1 || n > MAX_LABEL_LENGTH) return false;
  if (s.charCodeAt(start) === 0x2d || s.charCodeAt(end - 1) === 0x2d) return false;
  for (let i = start; i < end; i++) if (!isLdh(s.charCodeAt(i))) return false;
  return true;
}

/** Checks "preferred name syntax" (RFC 1034 §3.5 as amended by RFC 1123 §2.1), no trailing dot. */
function isLdhName(s: string): boolean {
  if (s.length === 0 || s.length > MAX_DNS_LENGTH) return false;
  let start = 0;
  for (let i = 0; i <= s.length; i++) {
    if (i === s.length || s.charCodeAt(i) === 0x2e) {
      if (!isLdhLabel(s, start, i)) return false;
      start = i + 1;
    }
  }
  return true;
}

/** The last label is all digits: the name reads as an IPv4 address and is not a host name. */
function hasNumericTld(s: string): boolean {
  const dot = s.lastIndexOf('.');
  for (let i = dot + 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/**
 * A DNS reference identifier as a client would ask for it: LDH labels, optional single trailing
 * dot, not an IPv4 literal. Returns the lower-cased name without trailing dot, or undefined.
 */
export function normalizeDnsReference(name: string): string | undefined {
  const s = stripTrailingDot(name);
  if (!isLdhName(s) || hasNumericTld(s)) return undefined;
  return lowerAscii(s);
}

/** A presented dNSName: LDH name, or `*.` followed by at least two LDH labels. */
export type PresentedDns = { wildcard: false; name: string } | { wildcard: true; suffix: string };

/**
 * Parses a dNSName from a certificate for matching. Lower-cases; returns undefined for anything
 * that is neither a valid host name nor a valid left-most wildcard pattern.
 */
export function parsePresentedDns(value: string): PresentedDns | undefined {
  const s = stripTrailingDot(value);
  if (s.length > 2 && s.charCodeAt(0) === 0x2a && s.charCodeAt(1) === 0x2e) {
    const suffix = s.slice(2);
    // RFC 9525 §6.3 / CA/B BR 3.2.2.6: `*.tld` would span a registry; require two labels.
    if (!isLdhName(suffix) || suffix.indexOf('.') < 0) return undefined;
    return { wildcard: true, suffix: lowerAscii(suffix) };
  }
  if (!isLdhName(s)) return undefined;
  return { wildcard: false, name: lowerAscii(s) };
}

/**
 * RFC 9525 §6.3: does the presented dNSName match the (already normalised) reference?
 * Wildcards match exactly one left-most label of the reference.
 */
export function matchDnsPresented(presented: PresentedDns, reference: string): boolean {
  if (!presented.wildcard) return presented.name === reference;
  const dot = reference.indexOf('.');
  if (dot <= 0) return false;
  return reference.slice(dot + 1) === presented.suffix;
}

/** Convenience: matches one raw dNSName against one raw reference name. */
export function matchDnsName(presented: string, reference: string): boolean {
  const ref = normalizeDnsReference(reference);
  const p = parsePresentedDns(presented);
  return ref !== undefined && p !== undefined && matchDnsPresented(p, ref);
}

// ---------------------------------------------------------------------------------------------
// IP addresses

/** RFC 3986 §3.2.2 dec-octet ×4: no leading zeros, no hex or octal forms. */
export function parseIpv4(s: string): Uint8Array | undefined {
  const out = new Uint8Array(4);
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (digits === 0 || part > 3) return undefined;
      out[part++] = value;
      value = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && value === 0) return undefined; // leading zero
      value = value * 10 + (c - 0x30);
      if (++digits > 3 || value > 255) return undefined;
    } else return undefined;
  }
  return part === 4 ? out : undefined;
}

/** RFC 4291 §2.2 text forms: full, `::`-compressed, and with an IPv4 tail. No zone ids. */
export function parseIpv6(s: string): Uint8Array | undefined {
  if (s.length < 2 || s.length > 45) return undefined;
  const out = new Uint8Array(16);
  let gap = -1; // byte index where '::' was
  let n = 0; // bytes written
  let i = 0;
  if (s.startsWith('::')) {
    gap = 0;
    i = 2;
    if (i === s.length) return out;
  } else if (s.charCodeAt(0) === 0x3a) return undefined;
  while (i < s.length) {
    if (n >= 16) return undefined;
    // An IPv4 tail: digits followed by '.' before the next ':'.
    let j = i;
    let v = 0;
    while (j < s.length && j - i < 5) {
      const c = s.charCodeAt(j);
      const d =
        c >= 0x30 && c <= 0x39
          ? c - 0x30
          : c >= 0x61 && c <= 0x66
            ? c - 0x57
            : c >= 0x41 && c <= 0x46
              ? c - 0x37
              : -1;
      if (d < 0) break;
      v = v * 16 + d;
      j++;
    }
    if (j < s.length && s.charCodeAt(j) === 0x2e) {
      if (n > 12) return undefined;
      const v4 = parseIpv4(s.slice(i));
      if (!v4) return undefined;
      out.set(v4, n);
      n += 4;
      i = s.length;
      break;
    }
    if (j === i || j - i > 4) return undefined;
    out[n++] = v >> 8;
    out[n++] = v & 0xff;
    i = j;
    if (i === s.length) break;
    if (s.charCodeAt(i) !== 0x3a) return undefined;
    i++;
    if (i < s.length && s.charCodeAt(i) === 0x3a) {
      if (gap >= 0) return undefined; // at most one '::'
      gap = n;
      i++;
      if (i === s.length) break;
    } else if (i === s.length) return undefined; // trailing single ':'
  }
  if (gap < 0) return n === 16 ? out : undefined;
  if (n === 16) return undefined; // '::' must stand for at least one group
  const tail = out.slice(gap, n);
  out.fill(0, gap);
  out.set(tail, 16 - tail.length);
  return out;
}

/** IPv4 or IPv6 text → 4 or 16 bytes; undefined if malformed. */
export function parseIpAddress(s: string): Uint8Array | undefined {
  return s.includes(':') ? parseIpv6(s) : parseIpv4(s);
}

/** RFC 5952 §4 canonical text of a 4- or 16-byte address (lower case, longest zero run as `::`). */
export function formatIpAddress(b: Uint8Array): string {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  if (b.length !== 16) throw new RangeError('IP address must be 4 or 16 bytes');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i]! << 8) | b[i + 1]!);
  let bestStart = -1;
  let bestLen = 1; // RFC 5952 §4.2.2: a single zero group is not compressed
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (g: number[]) => g.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}

export function ipEquals(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Email addresses

// RFC 5322 §3.2.3 atext (besides ALPHA / DIGIT).
const ATEXT_SPECIALS = "!#$%&'*+-/=?^_`{|}~";

function isAtext(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x30 && c <= 0x39) ||
    (c < 0x80 && ATEXT_SPECIALS.includes(String.fromCharCode(c)))
  );
}

/** Mailbox parts; `domain` lower-cased. */
export interface Mailbox {
  local: string;
  domain: string;
}

/**
 * RFC 5321 §4.1.2 Mailbox = Local-part "@" Domain, with Local-part a dot-atom or a quoted
 * string. Domain must be an LDH host name (address literals are not supported). Returns
 * undefined when malformed (e.g. two unquoted '@').
 */
export function parseMailbox(s: string): Mailbox | undefined {
  if (s.length === 0 || s.length > 320) return undefined;
  let i = 0;
  if (s.charCodeAt(0) === 0x22) {
    i = 1;
    for (;;) {
      if (i >= s.length) return undefined;
      const c = s.charCodeAt(i);
      if (c === 0x5c) {
        const n = s.charCodeAt(i + 1);
        if (!(n >= 0x20 && n <= 0x7e)) return undefined;
        i += 2;
      } else if (c === 0x22) {
        i++;
        break;
      } else if (c >= 0x20 && c <= 0x7e) i++;
      else return undefined;
    }
  } else {
    let prevDot = true;
    for (; i < s.length && s.charCodeAt(i) !== 0x40; i++) {
      const c = s.charCodeAt(i);
      if (c === 0x2e) {
        if (prevDot) return undefined;
        prevDot = true;
      } else if (isAtext(c)) prevDot = false;
      else return undefined;
    }
    if (prevDot) return undefined; // empty or trailing dot
  }
  if (s.charCodeAt(i) !== 0x40) return undefined;
  const local = s.slice(0, i);
  const domain = s.slice(i + 1);
  if (!isLdhName(domain)) return undefined;
  return { local, domain: lowerAscii(domain) };
}

/** RFC 5280 §7.5: local part compared exactly, domain case-insensitively. */
export function matchEmail(presented: string, reference: string): boolean {
  const p = parseMailbox(presented);
  const r = parseMailbox(reference);
  return p !== undefined && r !== undefined && p.local === r.local && p.domain === r.domain;
}

// ---------------------------------------------------------------------------------------------
// URIs

/** The host of a URI. */
export type UriHost = { kind: 'dns'; name: string } | { kind: 'ip'; address: Uint8Array };

/**
 * RFC 3986 §3: scheme ":" "//" [userinfo "@"] host [":" port] ... → host. Returns undefined
 * for URIs without an authority (e.g. `urn:`), with an empty or malformed host.
 */
export function parseUriHost(uri: string): UriHost | undefined {
  const colon = uri.indexOf(':');
  if (colon <= 0) return undefined;
  for (let i = 0; i < colon; i++) {
    const c = uri.charCodeAt(i);
    const ok =
      (c >= 0x61 && c <= 0x7a) ||
      (c >= 0x41 && c <= 0x5a) ||
      (i > 0 && ((c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e));
    if (!ok) return undefined;
  }
  if (uri.charCodeAt(colon + 1) !== 0x2f || uri.charCodeAt(colon + 2) !== 0x2f) return undefined;
  let end = colon + 3;
  while (end < uri.length) {
    const c = uri.charCodeAt(end);
    if (c === 0x2f || c === 0x3f || c === 0x23) break;
    end++;
  }
  let authority = uri.slice(colon + 3, end);
  const at = authority.lastIndexOf('@');
  if (at >= 0) authority = authority.slice(at + 1);
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    if (close < 0) return undefined;
    const rest = authority.slice(close + 1);
    if (rest !== '' && !/^:[0-9]*$/.test(rest)) return undefined;
    const address = parseIpv6(authority.slice(1, close));
    return address ? { kind: 'ip', address } : undefined;
  }
  const pc = authority.indexOf(':');
  if (pc >= 0) {
    if (!/^[0-9]*$/.test(authority.slice(pc + 1))) return undefined;
    authority = authority.slice(0, pc);
  }
  const v4 = parseIpv4(authority);
  if (v4) return { kind: 'ip', address: v4 };
  const name = normalizeDnsReference(authority);
  return name === undefined ? undefined : { kind: 'dns', name };
}
