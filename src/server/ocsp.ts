import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { base64Decode } from '../pem/base64.js';
import { DEFAULT_REQUEST_LIMITS } from '../revocation/ocsp/request.js';
import type { OcspResponder, OcspResult } from '../revocation/responder.js';

/**
 * OCSP over HTTP (RFC 6960 Appendix A, RFC 5019 §5–§6):
 *   POST {prefix}          body = DER OCSPRequest (Content-Type application/ocsp-request)
 *   GET  {prefix}/{b64}    b64 = base64 (standard or base64url) of the DER request, URL-encoded
 * Both answer `application/ocsp-response`. Cacheable answers (successful, no nonce) carry the
 * RFC 5019 §6.2 headers: Last-Modified (producedAt), Expires (nextUpdate), ETag, and
 * `Cache-Control: max-age=<seconds to nextUpdate>, public, no-transform, must-revalidate`;
 * `If-None-Match` gets a 304. Error statuses and nonce responses are `no-store`.
 * Oversized or undecodable requests are answered with an OCSP `malformedRequest` (HTTP 200, as
 * OCSP errors are protocol answers, not transport failures) without reaching the signer.
 */
export interface OcspRoutesOptions {
  responder: OcspResponder;
  /** Path prefix; default `/ocsp`. */
  prefix?: string;
  /** Largest request body read, in bytes (default: the responder's 64 KiB request cap). */
  maxBodyBytes?: number;
}

interface FrontEntry {
  generation: number;
  refreshAt: number;
  result: OcspResult;
  body: Buffer;
  lastModified: string;
  expires: string;
}

/** Distinct requests remembered in front of the responder (each ~1 KB). */
const FRONT_CACHE_SIZE = 50_000;

const MALFORMED = Buffer.from([0x30, 0x03, 0x0a, 0x01, 0x01]);
const CONTENT_TYPE = 'application/ocsp-response';

export async function registerOcspRoutes(app: FastifyInstance, opts: OcspRoutesOptions): Promise<void> {
  const prefix = (opts.prefix ?? '/ocsp').replace(/\/+$/, '');
  const maxBody = opts.maxBodyBytes ?? DEFAULT_REQUEST_LIMITS.maxBytes;
  const responder = opts.responder;
  // RFC 5019 §5: GET is for requests under 255 bytes; 4096 characters leaves room for URL-encoding
  // and larger nonces, and stays below Node's 16 KiB header limit (past which Node answers 431 itself).
  const maxPath = 4096;

  await app.register(async (scope) => {
    // Encapsulated: these parsers apply to the OCSP routes only.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: maxBody }, (_req, body, done) =>
      done(null, body),
    );
    scope.setErrorHandler((err: { statusCode?: number }, _req, reply) => {
      if (err.statusCode && err.statusCode < 500) return sendBytes(reply, MALFORMED, false);
      return reply.code(500).send();
    });

    // Front cache keyed by the exact request (POST body / GET path): a repeated nonce-less request
    // skips decoding and lookup. Entries die with the responder's cache generation (a revocation)
    // or at half their validity, like the responder's own cache.
    const front = new Map<string, FrontEntry>();
    const lookup = (key: string): FrontEntry | undefined => {
      const e = front.get(key);
      if (!e) return undefined;
      if (e.generation !== responder.generation || Date.now() >= e.refreshAt) {
        front.delete(key);
        return undefined;
      }
      return e;
    };
    const remember = (key: string, r: OcspResult) => {
      if (!r.cacheable || key.length > 1024) return;
      if (front.size >= FRONT_CACHE_SIZE) front.delete(front.keys().next().value!);
      front.set(key, {
        generation: responder.generation,
        refreshAt: r.thisUpdate! + (r.nextUpdate! - r.thisUpdate!) / 2,
        result: r,
        body: Buffer.from(r.der.buffer, r.der.byteOffset, r.der.byteLength),
        lastModified: new Date(r.producedAt!).toUTCString(),
        expires: new Date(r.nextUpdate!).toUTCString(),
      });
    };
    const answerCached = (reply: FastifyReply, req: FastifyRequest, e: FrontEntry) => {
      const maxAge = Math.max(0, Math.floor((e.result.nextUpdate! - Date.now()) / 1000));
      reply.header('last-modified', e.lastModified);
      reply.header('expires', e.expires);
      reply.header('cache-control', `max-age=${maxAge}, public, no-transform, must-revalidate`);
      if (e.result.etag) reply.header('etag', e.result.etag);
      if (e.result.etag && req.headers['if-none-match'] === e.result.etag) return reply.code(304).send();
      reply.header('content-type', CONTENT_TYPE);
      return reply.send(e.body);
    };

    const answer = (reply: FastifyReply, req: FastifyRequest, r: OcspResult) => {
      if (r.cacheable && r.etag && req.headers['if-none-match'] === r.etag) {
        reply.code(304);
        setCacheHeaders(reply, r);
        return reply.send();
      }
      if (r.cacheable) setCacheHeaders(reply, r);
      return sendBytes(reply, Buffer.from(r.der.buffer, r.der.byteOffset, r.der.byteLength), r.cacheable);
    };

    scope.post(prefix.length ? prefix : '/', async (req, reply) => {
      const body = req.body;
      if (!Buffer.isBuffer(body)) return sendBytes(reply, MALFORMED, false);
      const key = body.toString('latin1');
      const hit = lookup(key);
      if (hit) return answerCached(reply, req, hit);
      const r = await responder.respond(body);
      remember(key, r);
      return answer(reply, req, r);
    });

    scope.get(`${prefix}/*`, async (req, reply) => {
      const raw = req.url;
      const q = raw.indexOf('?');
      const enc = raw.slice(prefix.length + 1, q < 0 ? raw.length : q);
      if (enc.length === 0 || enc.length > maxPath) return sendBytes(reply, MALFORMED, false);
      const hit = lookup(enc);
      if (hit) return answerCached(reply, req, hit);
      const der = decodeGetPath(enc);
      if (!der) return sendBytes(reply, MALFORMED, false);
      const r = await responder.respond(der);
      remember(enc, r);
      return answer(reply, req, r);
    });
  });
}

/** URL-decodes and base64-decodes a GET request path (standard or url-safe alphabet, padding optional). */
export function decodeGetPath(enc: string): Uint8Array | undefined {
  let s: string;
  try {
    s = enc.includes('%') ? decodeURIComponent(enc) : enc;
  } catch {
    return undefined;
  }
  // base64url → standard alphabet; tolerate missing padding (RFC 4648 §5 makes it optional there).
  if (s.includes('-') || s.includes('_')) s = s.replaceAll('-', '+').replaceAll('_', '/');
  const rem = s.length % 4;
  if (rem === 1) return undefined;
  if (rem) s += '='.repeat(4 - rem);
  try {
    return base64Decode(s);
  } catch {
    return undefined;
  }
}

function setCacheHeaders(reply: FastifyReply, r: OcspResult): void {
  const now = Date.now();
  const maxAge = Math.max(0, Math.floor((r.nextUpdate! - now) / 1000));
  reply.header('last-modified', new Date(r.producedAt!).toUTCString());
  reply.header('expires', new Date(r.nextUpdate!).toUTCString());
  reply.header('cache-control', `max-age=${maxAge}, public, no-transform, must-revalidate`);
  if (r.etag) reply.header('etag', r.etag);
}

function sendBytes(reply: FastifyReply, body: Buffer, cacheable: boolean): FastifyReply {
  reply.header('content-type', CONTENT_TYPE);
  if (!cacheable) reply.header('cache-control', 'no-store');
  return reply.send(body);
}
