import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { BoundedMap } from '../cache/bounded-map.js';
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
 *
 * Fastify routes the request; the exchange itself is handled on the raw Node request/response
 * (`reply.hijack()` in onRequest): OCSP bodies are tiny and the answers pre-encoded, so fastify's
 * body parsing and reply pipeline would cost more than the work (the bench compares with cfssl).
 */
export interface OcspRoutesOptions {
  responder: OcspResponder;
  /** Path prefix; default `/ocsp`. */
  prefix?: string;
  /** Largest request body read, in bytes (default: the responder's 64 KiB request cap). */
  maxBodyBytes?: number;
  /**
   * Called for every answer sent (for metrics): its OCSP responseStatus (RFC 6960 §4.2.1) and
   * where it came from — `front` (this route's cache), `responder`, or `refused` (undecodable or
   * oversized before reaching the responder).
   */
  onAnswer?: (responseStatus: string, source: 'front' | 'responder' | 'refused') => void;
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
  const onAnswer = opts.onAnswer;
  // RFC 5019 §5: GET is for requests under 255 bytes; 4096 characters leaves room for URL-encoding
  // and larger nonces, and stays below Node's 16 KiB header limit (past which Node answers 431 itself).
  const maxPath = 4096;

  // Front cache keyed by the exact request (POST body / GET path): a repeated nonce-less request
  // skips decoding and lookup. Entries die with the responder's cache generation (a revocation)
  // or at half their validity, like the responder's own cache.
  const front = new BoundedMap<string, FrontEntry>(FRONT_CACHE_SIZE);
  const lookup = (key: string): FrontEntry | undefined => {
    const e = front.get(key);
    if (!e) return undefined;
    if (e.generation !== responder.generation || Date.now() >= e.refreshAt) {
      front.delete(key);
      return undefined;
    }
    return e;
  };
  const entryOf = (r: OcspResult, generation: number): FrontEntry => ({
    generation,
    refreshAt: r.thisUpdate! + (r.nextUpdate! - r.thisUpdate!) / 2,
    result: r,
    body: Buffer.from(r.der.buffer, r.der.byteOffset, r.der.byteLength),
    lastModified: new Date(r.producedAt!).toUTCString(),
    expires: new Date(r.nextUpdate!).toUTCString(),
  });

  const sendEntry = (req: IncomingMessage, res: ServerResponse, e: FrontEntry) => {
    const maxAge = Math.max(0, Math.floor((e.result.nextUpdate! - Date.now()) / 1000));
    const headers: Record<string, string | number> = {
      'content-type': CONTENT_TYPE,
      'last-modified': e.lastModified,
      expires: e.expires,
      'cache-control': `max-age=${maxAge}, public, no-transform, must-revalidate`,
    };
    if (e.result.etag) {
      headers.etag = e.result.etag;
      if (req.headers['if-none-match'] === e.result.etag) {
        res.writeHead(304, headers);
        res.end();
        return;
      }
    }
    headers['content-length'] = e.body.length;
    res.writeHead(200, headers);
    res.end(e.body);
  };
  const sendUncached = (res: ServerResponse, body: Buffer) => {
    res.writeHead(200, {
      'content-type': CONTENT_TYPE,
      'cache-control': 'no-store',
      'content-length': body.length,
    });
    res.end(body);
  };
  const answer = async (req: IncomingMessage, res: ServerResponse, key: string, der: Uint8Array) => {
    const generation = responder.generation;
    const r = await responder.respond(der);
    onAnswer?.(r.responseStatus, 'responder');
    if (r.cacheable) {
      const e = entryOf(r, generation);
      if (key.length <= 1024) {
        front.set(key, e);
      }
      sendEntry(req, res, e);
    } else sendUncached(res, Buffer.from(r.der.buffer, r.der.byteOffset, r.der.byteLength));
  };
  const refuse = (res: ServerResponse) => {
    onAnswer?.('malformedRequest', 'refused');
    sendUncached(res, MALFORMED);
  };
  const fail = (res: ServerResponse) => {
    if (!res.headersSent) {
      res.writeHead(500, { 'content-length': 0 });
      res.end();
    } else res.destroy();
  };

  const handlePost = (req: IncomingMessage, res: ServerResponse) => {
    const declared = Number(req.headers['content-length']);
    if (declared > maxBody) {
      // Answer without reading the body, then drop the connection (it still carries the body).
      res.setHeader('connection', 'close');
      refuse(res);
      req.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > maxBody) {
        over = true;
        res.setHeader('connection', 'close');
        refuse(res);
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (over) return;
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      const key = body.toString('latin1');
      const hit = lookup(key);
      if (hit) {
        onAnswer?.(hit.result.responseStatus, 'front');
        return sendEntry(req, res, hit);
      }
      answer(req, res, key, body).catch(() => fail(res));
    });
    req.on('error', () => res.destroy());
  };

  const handleGet = (req: IncomingMessage, res: ServerResponse) => {
    const raw = req.url ?? '';
    const q = raw.indexOf('?');
    const enc = raw.slice(prefix.length + 1, q < 0 ? raw.length : q);
    if (enc.length === 0 || enc.length > maxPath) return refuse(res);
    const hit = lookup(enc);
    if (hit) {
      onAnswer?.(hit.result.responseStatus, 'front');
      return sendEntry(req, res, hit);
    }
    const der = decodeGetPath(enc);
    if (!der) return refuse(res);
    answer(req, res, enc, der).catch(() => fail(res));
  };

  app.route({
    method: 'POST',
    url: prefix.length ? prefix : '/',
    onRequest: (request, reply, done) => {
      reply.hijack();
      handlePost(request.raw, reply.raw);
      done();
    },
    handler: async () => undefined,
  });
  app.route({
    method: 'GET',
    url: `${prefix}/*`,
    onRequest: (request, reply, done) => {
      reply.hijack();
      handleGet(request.raw, reply.raw);
      done();
    },
    handler: async () => undefined,
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
