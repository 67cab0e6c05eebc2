import { type CertsOnly, parseCertsOnly } from './cms.js';
import { EstError } from './errors.js';
import {
  checkMediaType,
  DEFAULT_MAX_BODY_BYTES,
  decodeBase64Body,
  EST_MEDIA_TYPES,
  encodeBase64Body,
  parseMediaType,
} from './framing.js';

/**
 * multipart/mixed bodies (RFC 2046 §5.1) as RFC 7030 §4.4.2 uses them for the /serverkeygen
 * answer: one `application/pkcs8` part (the new private key) and one
 * `application/pkcs7-mime; smime-type=certs-only` part (the certificate), each base64.
 *
 *   --BOUNDARY CRLF  headers CRLF  CRLF  body  CRLF --BOUNDARY ... CRLF --BOUNDARY-- CRLF
 *
 * We write CRLF line ends and a random boundary. The parser is strict about structure (the
 * boundary from the Content-Type, a delimiter line per part, the close delimiter, header syntax)
 * and bounded (parts, header lines, total size); it tolerates bare LF line ends, as RFC 8951's
 * whitespace rule does for the base64 inside, and ignores preamble and epilogue (RFC 2046 §5.1.1).
 * The encrypted-key variant (`application/pkcs7-mime; smime-type=server-generated-key`) is not
 * supported: a part of that type is refused with `bad-content-type`.
 */
export interface MimePart {
  /** Header fields, names lower-cased (the last value wins for a repeated name). */
  headers: Map<string, string>;
  /** The body octets between the part's blank line and the next delimiter. */
  body: Uint8Array;
}

/** Bounds for `parseMultipartMixed`. */
export interface MultipartLimits {
  /** Most parts. Default 8 (RFC 7030 §4.4.2 answers have two). */
  maxParts: number;
  /** Most header lines in one part. Default 16. */
  maxHeaderLines: number;
  /** Most bytes in the whole body. Default 1 MiB. */
  maxBytes: number;
}

export const DEFAULT_MULTIPART_LIMITS: Readonly<MultipartLimits> = Object.freeze({
  maxParts: 8,
  maxHeaderLines: 16,
  maxBytes: DEFAULT_MAX_BODY_BYTES,
});

/** RFC 2046 §5.1.1 bchars, 1..70 of them, not ending in a space. */
const BOUNDARY = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;

/** A fresh boundary: 24 random bytes as hex, prefixed so it cannot collide with base64 text. */
export function randomBoundary(): string {
  const b = new Uint8Array(12);
  globalThis.crypto.getRandomValues(b);
  return `est-${Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')}`;
}

/** Encodes parts (header fields and text bodies) as multipart/mixed with CRLF line ends. */
export function encodeMultipartMixed(
  parts: readonly { headers: Readonly<Record<string, string>>; body: string }[],
  boundary = randomBoundary(),
): { contentType: string; body: string } {
  if (!BOUNDARY.test(boundary)) throw new EstError('bad-input', `invalid multipart boundary "${boundary}"`);
  let out = '';
  for (const p of parts) {
    if (p.body.includes(`--${boundary}`))
      throw new EstError('bad-input', 'a part body contains the boundary');
    out += `--${boundary}\r\n`;
    for (const [k, v] of Object.entries(p.headers)) {
      if (/[\r\n]/.test(k + v)) throw new EstError('bad-input', `header ${k} contains a line break`);
      out += `${k}: ${v}\r\n`;
    }
    out += `\r\n${p.body.replace(/\r?\n/g, '\r\n').replace(/\r\n$/, '')}\r\n`;
  }
  out += `--${boundary}--\r\n`;
  const quoted = /^[0-9A-Za-z'+_\-.]+$/.test(boundary) ? boundary : `"${boundary}"`;
  return { contentType: `multipart/mixed; boundary=${quoted}`, body: out };
}

/**
 * Splits a multipart/mixed body into its parts. `contentType` is the message's Content-Type
 * header (the boundary comes from it). Throws `EstError` (`bad-content-type`,
 * `malformed-multipart`, `too-many-items`, `too-large`).
 */
export function parseMultipartMixed(
  contentType: string | undefined,
  body: string | Uint8Array,
  limits: Partial<MultipartLimits> = {},
): MimePart[] {
  const lim = { ...DEFAULT_MULTIPART_LIMITS, ...limits };
  const mt = parseMediaType(contentType);
  if (mt?.type !== 'multipart/mixed')
    throw new EstError('bad-content-type', `Content-Type ${contentType ?? '(none)'} is not multipart/mixed`);
  const boundary = mt.params.get('boundary');
  if (boundary === undefined || !BOUNDARY.test(boundary))
    throw new EstError('malformed-multipart', 'missing or invalid boundary parameter');
  if (body.length > lim.maxBytes)
    throw new EstError('too-large', `multipart body exceeds ${lim.maxBytes} bytes`);
  const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
  const lines = splitLines(bytes);
  const dash = `--${boundary}`;
  // RFC 2046 §5.1.1: a delimiter line is "--" boundary plus optional linear white space.
  const isDelimiter = (l: string) => l.startsWith(dash) && /^[ \t]*$/.test(l.slice(dash.length));
  const isClose = (l: string) => l.startsWith(`${dash}--`) && /^[ \t]*$/.test(l.slice(dash.length + 2));

  let i = 0;
  while (i < lines.length && !isDelimiter(text(bytes, lines[i]!))) {
    if (isClose(text(bytes, lines[i]!)))
      throw new EstError('malformed-multipart', 'close delimiter before any part');
    i++; // preamble
  }
  if (i === lines.length) throw new EstError('malformed-multipart', 'no delimiter line for the boundary');
  const parts: MimePart[] = [];
  for (;;) {
    i++; // past the delimiter
    if (parts.length >= lim.maxParts) throw new EstError('too-many-items', `more than ${lim.maxParts} parts`);
    const headers = new Map<string, string>();
    let nHeaders = 0;
    for (; ; i++) {
      if (i >= lines.length)
        throw new EstError('malformed-multipart', 'part headers run to the end of the body');
      const l = text(bytes, lines[i]!);
      if (l === '') break;
      if (++nHeaders > lim.maxHeaderLines)
        throw new EstError('too-many-items', `more than ${lim.maxHeaderLines} header lines in a part`);
      const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/.exec(l);
      if (!m) throw new EstError('malformed-multipart', `part ${parts.length + 1}: bad header line`);
      headers.set(m[1]!.toLowerCase(), m[2]!);
    }
    i++; // past the blank line
    const start = i < lines.length ? lines[i]!.start : bytes.length;
    let end = -1;
    let closed = false;
    for (; i < lines.length; i++) {
      const l = text(bytes, lines[i]!);
      if (isClose(l) || isDelimiter(l)) {
        closed = isClose(l);
        // The line break before a delimiter belongs to the delimiter (RFC 2046 §5.1.1).
        end = i === 0 ? start : Math.max(start, lines[i - 1]!.contentEnd);
        break;
      }
    }
    if (end < 0) throw new EstError('malformed-multipart', 'the body ends without a close delimiter');
    parts.push({ headers, body: bytes.subarray(start, end) });
    if (closed) break;
  }
  return parts;
}

interface Line {
  start: number;
  /** End of the line's content (before CR LF / LF). */
  contentEnd: number;
}

/** Line positions; a line ends at LF, an immediately preceding CR is not content. */
function splitLines(b: Uint8Array): Line[] {
  const out: Line[] = [];
  let s = 0;
  for (let i = 0; i < b.length; i++)
    if (b[i] === 0x0a) {
      out.push({ start: s, contentEnd: i > s && b[i - 1] === 0x0d ? i - 1 : i });
      s = i + 1;
    }
  if (s < b.length) out.push({ start: s, contentEnd: b.length });
  return out;
}

/** Line text for structure checks: only ever compared to ASCII boundaries and headers. */
function text(b: Uint8Array, l: Line): string {
  const n = l.contentEnd - l.start;
  // Header and delimiter lines are short; a long line can only be body text.
  if (n > 1024) return '\u0000';
  return String.fromCharCode(...b.subarray(l.start, l.contentEnd));
}

// ---- the RFC 7030 §4.4.2 answer ----

/** What /serverkeygen returns: the new private key and the certificate for it. */
export interface ServerKeygenResponse {
  /** PKCS#8 PrivateKeyInfo DER (RFC 5958). Handle as a secret. */
  privateKey: Uint8Array;
  /** The certs-only DER of the certificate part. */
  certsOnly: Uint8Array;
}

/** Encodes a /serverkeygen answer: the key part first, then the certificate part (RFC 7030 §4.4.2). */
export function encodeServerKeygenResponse(
  r: ServerKeygenResponse,
  boundary?: string,
): { contentType: string; body: string } {
  return encodeMultipartMixed(
    [
      {
        headers: { 'Content-Type': EST_MEDIA_TYPES.pkcs8, 'Content-Transfer-Encoding': 'base64' },
        body: encodeBase64Body(r.privateKey),
      },
      {
        headers: { 'Content-Type': EST_MEDIA_TYPES.certsOnly, 'Content-Transfer-Encoding': 'base64' },
        body: encodeBase64Body(r.certsOnly),
      },
    ],
    boundary,
  );
}

/**
 * Decodes a /serverkeygen answer: exactly one key part and one certificate part, recognised by
 * their Content-Type (in either order), each base64. Returns the key and the parsed certificates.
 */
export function parseServerKeygenResponse(
  contentType: string | undefined,
  body: string | Uint8Array,
  limits: Partial<MultipartLimits> = {},
): ServerKeygenResponse & { parsed: CertsOnly } {
  const parts = parseMultipartMixed(contentType, body, limits);
  let key: Uint8Array | undefined;
  let certs: Uint8Array | undefined;
  for (const p of parts) {
    const ct = p.headers.get('content-type');
    const mt = parseMediaType(ct);
    if (mt?.type === 'application/pkcs8') {
      if (key) throw new EstError('malformed-multipart', 'two application/pkcs8 parts');
      key = decodeBase64Body(p.body);
    } else if (mt?.type === 'application/pkcs7-mime') {
      checkMediaType(ct, EST_MEDIA_TYPES.certsOnly);
      if (certs) throw new EstError('malformed-multipart', 'two certificate parts');
      certs = decodeBase64Body(p.body);
    } else throw new EstError('bad-content-type', `unexpected part of type ${ct ?? '(none)'}`);
  }
  if (!key || !certs)
    throw new EstError(
      'malformed-multipart',
      'a /serverkeygen answer needs a key part and a certificate part',
    );
  return { privateKey: key, certsOnly: certs, parsed: parseCertsOnly(certs) };
}
