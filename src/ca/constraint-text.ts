import { parseIp } from '../issue/san.js';
import type { GeneralSubtree, NameConstraints } from '../x509/extensions/types.js';
import type { GeneralName } from '../x509/general-name.js';
import { Name } from '../x509/name.js';

/**
 * Name-constraint subtrees from config text (RFC 5280 §4.2.1.10 forms):
 *   `dns:fleet.example`         the domain and every subdomain (no leading period: RFC 5280 gives
 *                               dNSName constraints none, and verifiers disagree on its meaning)
 *   `email:example.com`, `email:.example.com`, `email:ops@example.com`
 *   `uri:.example.com`, `uri:host.example.com`   (hosts, not URIs)
 *   `ip:10.0.0.0/8`, `ip:2001:db8::/32`          (address and prefix length)
 *   `dn:O=Acme,C=DE`                             (subtree of a directory name)
 * Returns undefined with the reason in `why` for anything else.
 */
export function parseSubtreeText(text: string): { base: GeneralName } | { why: string } {
  const i = text.indexOf(':');
  if (i <= 0) return { why: `"${text}" needs a type prefix (dns:, email:, uri:, ip:, dn:)` };
  const kind = text.slice(0, i).toLowerCase();
  const v = text.slice(i + 1);
  const label = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;
  const isDomain = (d: string) => d.length > 0 && d.length <= 253 && d.split('.').every((l) => label.test(l));
  switch (kind) {
    case 'dns':
      if (!isDomain(v)) return { why: `"${v}" is not a domain name (no leading period, no wildcard)` };
      return { base: { type: 'dNSName', value: v.toLowerCase() } };
    case 'email': {
      const at = v.lastIndexOf('@');
      const domain = at >= 0 ? v.slice(at + 1) : v.replace(/^\./, '');
      if (!isDomain(domain) || (at >= 0 && !/^[^@\s]+$/.test(v.slice(0, at))))
        return { why: `"${v}" is not a mailbox, host or .domain` };
      return { base: { type: 'rfc822Name', value: v } };
    }
    case 'uri':
      if (!isDomain(v.replace(/^\./, ''))) return { why: `"${v}" is not a host or .domain` };
      return { base: { type: 'uniformResourceIdentifier', value: v.toLowerCase() } };
    case 'ip': {
      const slash = v.lastIndexOf('/');
      if (slash < 0) return { why: `"${v}" needs a prefix length (10.0.0.0/8)` };
      const addr = parseIp(v.slice(0, slash));
      const bitsText = v.slice(slash + 1);
      const bits = Number(bitsText);
      if (!addr || !/^[0-9]{1,3}$/.test(bitsText) || bits > addr.length * 8)
        return { why: `"${v}" is not an address/prefix-length` };
      const mask = new Uint8Array(addr.length);
      for (let b = 0; b < bits; b++) mask[b >> 3]! |= 0x80 >> (b & 7);
      const value = new Uint8Array(addr.length * 2);
      for (let k = 0; k < addr.length; k++) value[k] = addr[k]! & mask[k]!;
      value.set(mask, addr.length);
      return { base: { type: 'iPAddress', value } };
    }
    case 'dn':
      try {
        return { base: { type: 'directoryName', value: Name.parse(v) } };
      } catch (e) {
        return { why: `"${v}" is not an RFC 4514 name: ${(e as Error).message}` };
      }
    default:
      return { why: `unknown constraint type "${kind}" (dns, email, uri, ip, dn)` };
  }
}

/** NameConstraints from text lists; throws Error(reason) on the first bad entry. */
export function nameConstraintsFromText(c: {
  permitted: readonly string[];
  excluded: readonly string[];
}): NameConstraints {
  const tree = (list: readonly string[]): GeneralSubtree[] =>
    list.map((t) => {
      const r = parseSubtreeText(t);
      if ('why' in r) throw new Error(r.why);
      return { base: r.base, minimum: 0 };
    });
  const out: NameConstraints = {};
  if (c.permitted.length) out.permittedSubtrees = tree(c.permitted);
  if (c.excluded.length) out.excludedSubtrees = tree(c.excluded);
  return out;
}
