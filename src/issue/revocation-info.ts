import { OID } from '../der/oid-names.js';
import { makeExtension } from '../x509/encode.js';
import { encodeAuthorityInfoAccess } from '../x509/extensions/authority-info-access.js';
import { encodeCRLDistributionPoints } from '../x509/extensions/crl-distribution-points.js';
import type { AuthorityInfoAccess, CRLDistributionPoints } from '../x509/extensions/types.js';
import { IssueError } from './errors.js';
import type { TypedExtension } from './profiles.js';

/**
 * Where relying parties find revocation information for what an issuer signs:
 *   cRLDistributionPoints (RFC 5280 §4.2.1.13) — one DistributionPoint whose fullName lists the
 *     URIs; several names in one fullName are alternative locations of the same CRL;
 *   authorityInfoAccess (RFC 5280 §4.2.2.1) — id-ad-ocsp and id-ad-caIssuers URIs, OCSP first.
 * Both are encoded non-critical: §4.2.2.1 MUST, §4.2.1.13 SHOULD. The linter checks the URIs
 * (lint.ts `uri-not-allowed`); here we only refuse what cannot be encoded at all.
 */
export interface AuthorityInfoAccessUrls {
  /** OCSP responder URLs (id-ad-ocsp, RFC 6960 §3.1). */
  ocsp?: readonly string[];
  /** URLs of the issuer's certificate (id-ad-caIssuers; DER or certs-only CMS over HTTP). */
  caIssuers?: readonly string[];
}

/** The URIs an issuer puts into every certificate it signs (see Issuer.fromCertificate). */
export interface RevocationInfo {
  crlDistributionPoints?: readonly string[];
  authorityInfoAccess?: AuthorityInfoAccessUrls;
}

function uriNames(urls: readonly string[], what: string) {
  if (!Array.isArray(urls)) throw new IssueError('bad-input', `${what} must be a list of URLs`);
  return urls.map((value) => {
    if (typeof value !== 'string') throw new IssueError('bad-input', `${what}: a URL must be a string`);
    return { type: 'uniformResourceIdentifier' as const, value };
  });
}

function encode<T>(oid: string, value: T, enc: (v: T) => Uint8Array, what: string): TypedExtension<T> {
  try {
    return { ext: makeExtension(oid, false, enc(value)), value };
  } catch (e) {
    // IA5String URIs: non-ASCII text cannot be encoded.
    throw new IssueError('bad-input', `cannot encode ${what}: ${(e as Error).message}`, { cause: e });
  }
}

export function crlDistributionPointsExtension(
  urls: readonly string[],
): TypedExtension<CRLDistributionPoints> {
  const fullName = uriNames(urls, 'cRLDistributionPoints');
  if (fullName.length === 0)
    throw new IssueError('bad-input', 'cRLDistributionPoints needs at least one URL (RFC 5280 §4.2.1.13)');
  return encode(
    OID.cRLDistributionPoints,
    [{ distributionPoint: { fullName } }],
    encodeCRLDistributionPoints,
    'cRLDistributionPoints',
  );
}

export function authorityInfoAccessExtension(
  a: AuthorityInfoAccessUrls,
): TypedExtension<AuthorityInfoAccess> {
  const value: AuthorityInfoAccess = [];
  for (const accessLocation of uriNames(a.ocsp ?? [], 'authorityInfoAccess ocsp'))
    value.push({ accessMethod: OID.ocsp, accessLocation });
  for (const accessLocation of uriNames(a.caIssuers ?? [], 'authorityInfoAccess caIssuers'))
    value.push({ accessMethod: OID.caIssuers, accessLocation });
  if (value.length === 0)
    throw new IssueError(
      'bad-input',
      'authorityInfoAccess needs at least one ocsp or caIssuers URL (RFC 5280 §4.2.2.1)',
    );
  return encode(OID.authorityInfoAccess, value, encodeAuthorityInfoAccess, 'authorityInfoAccess');
}

// Verdicts per URI string: issuance repeats the same few URIs at the signing rate.
const URI_VERDICT = new Map<string, string | undefined>();

/**
 * Why `uri` may not be a CRL / AIA location, or undefined when it may: an absolute http or https
 * URI with a host, or an ldap URI naming an entry (RFC 5280 §4.2.1.13: the ldap URI MUST include
 * a <dn>). Nothing outside printable ASCII, no spaces (RFC 3986 §2).
 */
export function revocationUriProblem(uri: string): string | undefined {
  if (URI_VERDICT.has(uri)) return URI_VERDICT.get(uri);
  const why = uriProblem(uri);
  if (URI_VERDICT.size < 256) URI_VERDICT.set(uri, why);
  return why;
}

// Parsed by hand rather than with WHATWG `URL`: that parser repairs input ("http:///x" gets host
// "x", leading spaces are trimmed), and bare JavaScript engines running the portable core lack it.
function uriProblem(uri: string): string | undefined {
  if (uri.length === 0) return 'the URI is empty';
  for (let i = 0; i < uri.length; i++) {
    const c = uri.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return `"${uri}" contains a space or a non-printable character`;
  }
  const colon = uri.indexOf(':');
  if (colon <= 0) return `"${uri}" is not an absolute URI`;
  const scheme = uri.slice(0, colon).toLowerCase();
  if (scheme !== 'http' && scheme !== 'https' && scheme !== 'ldap')
    return `"${uri}": scheme ${scheme} is not http, https or ldap`;
  // RFC 3986 §3.2: authority = "//" host [":" port]; it ends at "/", "?" or "#".
  if (!uri.startsWith('//', colon + 1)) return `"${uri}" has no "//" authority`;
  const from = colon + 3;
  let end = from;
  while (end < uri.length && uri[end] !== '/' && uri[end] !== '?' && uri[end] !== '#') end++;
  const authority = uri.slice(from, end);
  if (authority.includes('@')) return `"${uri}" carries user information`;
  if (scheme === 'ldap') {
    // RFC 5280 §4.2.1.13 / RFC 4516: ldap://[host]/<dn>[?attributes]; the dn MUST be present.
    const q = uri.indexOf('?', end);
    const dn = uri.slice(end + 1, q < 0 ? uri.length : q);
    return uri[end] === '/' && dn.length > 0 ? undefined : `"${uri}" names no LDAP entry (dn)`;
  }
  const port = authority.lastIndexOf(':');
  const host = port >= 0 && !authority.endsWith(']') ? authority.slice(0, port) : authority;
  if (host.length === 0) return `"${uri}" has no host`;
  if (port >= 0 && host !== authority) {
    const p = authority.slice(port + 1);
    if (p.length === 0 || p.length > 5 || !/^[0-9]+$/.test(p) || Number(p) > 65535)
      return `"${uri}" has a bad port`;
  }
  return undefined;
}
