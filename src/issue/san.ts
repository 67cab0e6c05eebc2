import type { GeneralName } from '../x509/general-name.js';
import { IssueError } from './errors.js';

/**
 * subjectAltName entries from text, as the CLI takes them: `dns:host.example`, `ip:192.0.2.1`,
 * `ip:2001:db8::1`, `uri:https://x/y`, `email:a@b.example` (prefix case-insensitive; `DNS:`,
 * `IP:`, `URI:`, `email:` as OpenSSL prints them work too). Bad input → IssueError('bad-input').
 * Only the syntax needed to encode is checked here (IA5 alphabet, address forms); name policy
 * (which DNS names a device may claim) belongs to the CA's profile rules.
 */
export function parseGeneralName(text: string): GeneralName {
  const i = text.indexOf(':');
  if (i <= 0)
    throw new IssueError(
      'bad-input',
      `subjectAltName "${text}" needs a type prefix (dns:, ip:, uri:, email:)`,
    );
  const kind = text.slice(0, i).trim().toLowerCase();
  const value = text.slice(i + 1).trim();
  if (value.length === 0) throw new IssueError('bad-input', `subjectAltName "${text}" has an empty value`);
  switch (kind) {
    case 'dns':
      checkIa5(value, text);
      if (
        !/^(\*\.)?[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})?(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})?)*\.?$/.test(value)
      )
        throw new IssueError('bad-input', `"${value}" is not a DNS name`);
      return { type: 'dNSName', value };
    case 'ip':
    case 'ip address': {
      const b = parseIp(value);
      if (!b) throw new IssueError('bad-input', `"${value}" is not an IPv4 or IPv6 address`);
      return { type: 'iPAddress', value: b };
    }
    case 'uri':
      checkIa5(value, text);
      // RFC 5280 §4.2.1.6: a URI must include a scheme and a scheme-specific part.
      if (!/^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$/.test(value))
        throw new IssueError('bad-input', `"${value}" is not an absolute URI`);
      return { type: 'uniformResourceIdentifier', value };
    case 'email':
    case 'rfc822':
      checkIa5(value, text);
      if (!/^[^@\s]+@[^@\s]+$/.test(value))
        throw new IssueError('bad-input', `"${value}" is not an email address`);
      return { type: 'rfc822Name', value };
    default:
      throw new IssueError('bad-input', `unknown subjectAltName type "${kind}" (dns, ip, uri, email)`);
  }
}

/** A comma-separated list (`dns:a,dns:b,ip:127.0.0.1`) or an array of entries. */
export function parseGeneralNames(input: string | readonly string[]): GeneralName[] {
  const out: GeneralName[] = [];
  if (typeof input === 'string') {
    let start = 0;
    for (;;) {
      let end = input.indexOf(',', start);
      if (end < 0) end = input.length;
      const g = scanGeneralName(input, start, end);
      if (g) out.push(g);
      else {
        const s = input.slice(start, end).trim();
        if (s) out.push(parseGeneralName(s));
      }
      if (end === input.length) break;
      start = end + 1;
    }
  } else
    for (const item of input) {
      const s = item.trim();
      if (s) out.push(scanGeneralName(s, 0, s.length) ?? parseGeneralName(s));
    }
  if (out.length === 0) throw new IssueError('bad-input', 'empty subjectAltName list');
  return out;
}

const isBlank = (c: number) => c === 0x20 || (c >= 0x09 && c <= 0x0d);
const isLabelChar = (c: number) =>
  (c >= 0x61 && c <= 0x7a) ||
  (c >= 0x41 && c <= 0x5a) ||
  (c >= 0x30 && c <= 0x39) ||
  c === 0x5f ||
  c === 0x2d;

/**
 * The common entries — a valid `dns:` or `uri:` in plain ASCII — read in place, with one slice
 * for the value: a CA parses these for every certificate it issues. Anything else (other types,
 * an error, unusual blanks) returns undefined for `parseGeneralName`, which gives the same result
 * or the precise error (the tests compare the two).
 */
function scanGeneralName(t: string, a: number, b: number): GeneralName | undefined {
  while (a < b && isBlank(t.charCodeAt(a))) a++;
  while (b > a && isBlank(t.charCodeAt(b - 1))) b--;
  if (b - a < 5) return undefined;
  const c0 = t.charCodeAt(a) | 0x20;
  const c1 = t.charCodeAt(a + 1) | 0x20;
  const c2 = t.charCodeAt(a + 2) | 0x20;
  if (t.charCodeAt(a + 3) !== 0x3a) return undefined; // ':' right after a three-letter type
  const v = a + 4;
  if (c0 === 0x64 && c1 === 0x6e && c2 === 0x73) {
    // dns: the language of parseGeneralName's expression — an optional "*.", labels of 1..63
    // of [A-Za-z0-9_-] not starting with '-', an optional final '.'.
    let i = v;
    if (t.charCodeAt(i) === 0x2a && t.charCodeAt(i + 1) === 0x2e) i += 2;
    for (;;) {
      const l = i;
      if (i >= b) return undefined;
      if (t.charCodeAt(i) === 0x2d || !isLabelChar(t.charCodeAt(i))) return undefined;
      i++;
      while (i < b && isLabelChar(t.charCodeAt(i))) i++;
      if (i - l > 63) return undefined;
      if (i === b) break;
      if (t.charCodeAt(i) !== 0x2e) return undefined;
      i++;
      if (i === b) break;
    }
    return { type: 'dNSName', value: t.slice(v, b) };
  }
  if (c0 === 0x75 && c1 === 0x72 && c2 === 0x69) {
    // uri: scheme ":" and at least one more printable, non-blank ASCII character.
    let i = v;
    const s0 = t.charCodeAt(i) | 0x20;
    if (s0 < 0x61 || s0 > 0x7a) return undefined;
    i++;
    for (; i < b; i++) {
      const c = t.charCodeAt(i);
      if (c === 0x3a) break;
      if (
        !((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a) &&
        !(c >= 0x30 && c <= 0x39) &&
        c !== 0x2b &&
        c !== 0x2e &&
        c !== 0x2d
      )
        return undefined;
    }
    if (i + 1 >= b) return undefined;
    for (i++; i < b; i++) {
      const c = t.charCodeAt(i);
      if (c <= 0x20 || c > 0x7e) return undefined;
    }
    return { type: 'uniformResourceIdentifier', value: t.slice(v, b) };
  }
  return undefined;
}

function checkIa5(v: string, text: string): void {
  for (let i = 0; i < v.length; i++)
    if (v.charCodeAt(i) > 0x7e || v.charCodeAt(i) < 0x20)
      throw new IssueError('bad-input', `subjectAltName "${text}" must be ASCII (IA5String)`);
}

/** IPv4 dotted quad or IPv6 (RFC 4291 §2.2 text forms, incl. "::" and an embedded IPv4 tail). */
export function parseIp(s: string): Uint8Array | undefined {
  if (s.includes(':')) return parseIpv6(s);
  return parseIpv4(s);
}

function parseIpv4(s: string): Uint8Array | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

function parseIpv6(s: string): Uint8Array | undefined {
  const dbl = s.indexOf('::');
  if (dbl !== s.lastIndexOf('::')) return undefined;
  const groups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    const items = part.split(':');
    for (let i = 0; i < items.length; i++) {
      const g = items[i]!;
      if (i === items.length - 1 && g.includes('.')) {
        const v4 = parseIpv4(g);
        if (!v4) return undefined;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
        out.push(Number.parseInt(g, 16));
      }
    }
    return out;
  };
  let words: number[];
  if (dbl >= 0) {
    const head = groups(s.slice(0, dbl));
    const tail = groups(s.slice(dbl + 2));
    if (!head || !tail || head.length + tail.length > 7) return undefined;
    words = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    const all = groups(s);
    if (all?.length !== 8) return undefined;
    words = all;
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = words[i]! >> 8;
    out[2 * i + 1] = words[i]! & 0xff;
  }
  return out;
}
