import type { FastifyInstance } from 'fastify';
import { encodePem } from '../pem/pem.js';
import type { CrlPublisher } from '../revocation/crl-publisher.js';
import { RevocationError } from '../revocation/errors.js';

/**
 * CRLs over HTTP: `GET {prefix}/<issuer>.crl` (DER, `application/pkix-crl`, RFC 2585 §4.2) and
 * `GET {prefix}/<issuer>.pem` (PEM text). Headers let HTTP caches keep a CRL until shortly before
 * it is replaced: Last-Modified = thisUpdate, Expires = nextUpdate, ETag, and
 * `Cache-Control: max-age=<seconds until the publisher's next refresh>, public, no-transform, must-revalidate`.
 */
export interface CrlRoutesOptions {
  /** Where CRLs come from: a `CrlPublisher`, or any `CrlSource` (the Authority's store-backed CRLs). */
  publisher: CrlPublisher | CrlSource;
  /** Path prefix; default `/crl`. */
  prefix?: string;
}

/** What the routes need of a CRL. */
export interface CrlDocument {
  der: Uint8Array;
  thisUpdate: number;
  nextUpdate: number;
  /** A strong HTTP validator, quoted. */
  etag?: string;
}

/** The current CRL of an issuer id; `undefined` when there is no such issuer (→ 404). */
export interface CrlSource {
  get(issuerId: string): Promise<CrlDocument | undefined>;
}

export async function registerCrlRoutes(app: FastifyInstance, opts: CrlRoutesOptions): Promise<void> {
  const prefix = (opts.prefix ?? '/crl').replace(/\/+$/, '');
  app.get<{ Params: { file: string } }>(`${prefix}/:file`, async (req, reply) => {
    const file = req.params.file;
    const dot = file.lastIndexOf('.');
    const ext = dot < 0 ? '' : file.slice(dot + 1);
    if (ext !== 'crl' && ext !== 'pem') return reply.code(404).send();
    let crl: CrlDocument | undefined;
    try {
      crl = await opts.publisher.get(file.slice(0, dot));
    } catch (e) {
      if (e instanceof RevocationError && e.code === 'bad-configuration') return reply.code(404).send();
      throw e;
    }
    if (!crl) return reply.code(404).send();
    const now = Date.now();
    const maxAge = Math.max(
      0,
      Math.floor((Math.min(crl.nextUpdate, now + (crl.nextUpdate - crl.thisUpdate) / 2) - now) / 1000),
    );
    reply.header('last-modified', new Date(crl.thisUpdate).toUTCString());
    reply.header('expires', new Date(crl.nextUpdate).toUTCString());
    reply.header('cache-control', `max-age=${maxAge}, public, no-transform, must-revalidate`);
    if (crl.etag) {
      reply.header('etag', crl.etag);
      if (req.headers['if-none-match'] === crl.etag) return reply.code(304).send();
    }
    if (ext === 'pem') return reply.type('application/x-pem-file').send(encodePem('X509 CRL', crl.der));
    return reply
      .type('application/pkix-crl')
      .send(Buffer.from(crl.der.buffer, crl.der.byteOffset, crl.der.byteLength));
  });
}
