import { Base64Error, base64Decode, base64Encode } from '../pem/base64.js';
import { EstError } from './errors.js';

/**
 * EST transfer framing (RFC 7030 §4 as clarified by RFC 8951 §3.2): every request and response
 * body is base64 (RFC 4648 §4) of DER. A Content-Transfer-Encoding header, if any, is ignored
 * (RFC 8951 §3.2.2: HTTP is binary-clean, the header is meaningless there); whitespace and line
 * breaks — LF or CRLF — inside the base64 are ignored. We write 64-character lines ending in LF,
 * which `base64 -d`, `openssl base64 -d` and PEM tooling all read (coreutils rejects CRLF without
 * `-i`, RECIPES §9).
 */

/** Media types of RFC 7030 §4 (and RFC 8951), as sent in Content-Type. */
export const EST_MEDIA_TYPES = {
  /** /cacerts, /simpleenroll, /simplereenroll answers and the certificate part of /serverkeygen. */
  certsOnly: 'application/pkcs7-mime; smime-type=certs-only',
  /** The body of /simpleenroll, /simplereenroll and /serverkeygen requests. */
  pkcs10: 'application/pkcs10',
  /** The /csrattrs answer. */
  csrattrs: 'application/csrattrs',
  /** The private-key part of a /serverkeygen answer. */
  pkcs8: 'application/pkcs8',
} as const;

/** Default bound on a decoded EST body: 1 MiB is far above any chain or CSR. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** base64 of `der` in lines of `lineLength` characters, each ending with `eol`. */
export function encodeBase64Body(
  der: Uint8Array,
  opts: { lineLength?: number; eol?: '\n' | '\r\n' } = {},
): string {
  const n = opts.lineLength ?? 64;
  const eol = opts.eol ?? '\n';
  const text = base64Encode(der);
  let out = '';
  for (let i = 0; i < text.length; i += n) out += text.slice(i, i + n) + eol;
  return out;
}

/**
 * The DER inside a base64 EST body. Whitespace (space, tab, CR, LF) is skipped; any other
 * character outside the base64 alphabet, bad padding, or an empty body is `bad-base64`; more than
 * `maxBytes` of text is `too-large` (checked before decoding).
 */
export function decodeBase64Body(body: string | Uint8Array, opts: { maxBytes?: number } = {}): Uint8Array {
  const max = opts.maxBytes ?? DEFAULT_MAX_BODY_BYTES;
  // base64 grows 4/3 plus line breaks: bound the text before decoding it.
  const textMax = Math.ceil((max * 4) / 3) + Math.ceil(max / 24) + 16;
  if (body.length > textMax)
    throw new EstError('too-large', `body of ${body.length} bytes exceeds the bound`);
  const text = typeof body === 'string' ? body : latin1(body);
  let der: Uint8Array;
  try {
    der = base64Decode(text);
  } catch (e) {
    if (e instanceof Base64Error) throw new EstError('bad-base64', `body is not base64: ${e.message}`);
    throw e;
  }
  if (der.length === 0) throw new EstError('bad-base64', 'empty body');
  if (der.length > max) throw new EstError('too-large', `decoded body of ${der.length} bytes exceeds ${max}`);
  return der;
}

function latin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192));
  return s;
}

/** A parsed media type: lower-case `type/subtype` and parameters (names lower-cased, values unquoted). */
export interface MediaType {
  type: string;
  params: Map<string, string>;
}

/** Most parameters read from one Content-Type header. */
const MAX_MEDIA_PARAMS = 16;

/**
 * Parses a Content-Type value (RFC 9110 §8.3.1: type "/" subtype *( OWS ";" OWS parameter )).
 * Returns undefined for anything that does not have that shape.
 */
export function parseMediaType(value: string | undefined): MediaType | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+\/[!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*(.*)$/s.exec(value);
  if (!m) return undefined;
  const params = new Map<string, string>();
  let rest = m[2]!;
  const param = /^;\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)=("(?:[^"\\]|\\.)*"|[!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*/s;
  while (rest.length > 0) {
    if (/^;\s*$/.test(rest)) break;
    const p = param.exec(rest);
    if (!p || params.size >= MAX_MEDIA_PARAMS) return undefined;
    const raw = p[2]!;
    params.set(p[1]!.toLowerCase(), raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/gs, '$1') : raw);
    rest = rest.slice(p[0].length);
  }
  return { type: m[1]!.toLowerCase(), params };
}

/**
 * Checks a Content-Type against an EST media type: same `type/subtype` and, when both name a
 * `smime-type`, the same one (case-insensitive). Throws `bad-content-type`. A missing smime-type
 * is tolerated: some servers send bare `application/pkcs7-mime`, and the body's shape is checked
 * strictly by the CMS decoder anyway.
 */
export function checkMediaType(value: string | undefined, expected: string): MediaType {
  const got = parseMediaType(value);
  const want = parseMediaType(expected)!;
  const smime = want.params.get('smime-type');
  if (
    !got ||
    got.type !== want.type ||
    (smime !== undefined &&
      got.params.has('smime-type') &&
      got.params.get('smime-type')!.toLowerCase() !== smime)
  )
    throw new EstError('bad-content-type', `Content-Type ${value ?? '(none)'} where ${expected} is expected`);
  return got;
}
