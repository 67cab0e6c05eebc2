import type { FastifyInstance } from 'fastify';
import type { Authority } from '../../ca/authority.js';
import { CaError } from '../../ca/errors.js';
import type { Health } from '../api/schemas.js';
import { PUBLIC } from '../auth/registry.js';
import { type CrlSource, registerCrlRoutes } from '../crl.js';
import type { ServiceMetrics } from '../metrics.js';
import { registerOcspRoutes } from '../ocsp.js';

/**
 * The public endpoints — the only routes served without a credential. This list is the allow-list:
 * a route is public because it is registered here (in a scope that marks every route it holds
 * `auth: 'public'`), and a test checks that the service's public routes are exactly these.
 *
 * | route | what |
 * |---|---|
 * | `GET /healthz` | liveness and the store kind (`Health`) |
 * | `GET /metrics` | Prometheus text |
 * | `GET /ca/chain.pem` | the default issuing CA then the root (RFC 8555 §9.1 PEM chain) |
 * | `GET /ca/root.pem` | the root certificate alone |
 * | `GET /ca/:issuer/chain.pem` | an issuer's chain, itself first |
 * | `GET /crl/:issuer.crl`, `.pem` | the issuer's latest CRL (DER, RFC 2585 §4.2; or PEM) |
 * | `POST /ocsp`, `GET /ocsp/:b64` | OCSP (RFC 6960 Appendix A, RFC 5019 caching headers) |
 */
export const PUBLIC_ROUTES: readonly string[] = [
  'GET /healthz',
  'GET /metrics',
  'GET /ca/chain.pem',
  'GET /ca/root.pem',
  'GET /ca/:issuer/chain.pem',
  'GET /crl/:file',
  'POST /ocsp',
  'GET /ocsp/*',
];

export interface PublicRoutesOptions {
  authority: Authority;
  metrics: ServiceMetrics;
  version: string;
  startedAt: number;
  /** True once shutdown began (`/healthz` then answers 503 `closing`, so load balancers drain). */
  closing: () => boolean;
}

const PEM_CHAIN = 'application/pem-certificate-chain';

export async function registerPublicRoutes(app: FastifyInstance, o: PublicRoutesOptions): Promise<void> {
  await app.register(async (scope) => {
    scope.addHook('onRoute', (r) => {
      r.config = { ...(r.config ?? {}), auth: PUBLIC };
    });
    const ca = o.authority;

    scope.get('/healthz', async (_req, reply) => {
      const closing = o.closing();
      const body: Health = {
        status: closing ? 'closing' : 'ok',
        store: ca.store.kind,
        uptime: Math.round((Date.now() - o.startedAt) / 1000),
        version: o.version,
      };
      reply.header('cache-control', 'no-store');
      return reply.code(closing ? 503 : 200).send(body);
    });

    scope.get('/metrics', async (_req, reply) => {
      const text = await o.metrics.registry.metrics();
      reply.header('cache-control', 'no-store');
      return reply.type(o.metrics.registry.contentType).send(text);
    });

    scope.get('/ca/chain.pem', async (_req, reply) => reply.type(PEM_CHAIN).send(ca.chainPem()));
    scope.get('/ca/root.pem', async (_req, reply) =>
      reply.type(PEM_CHAIN).send(ca.rootCertificate().toPem()),
    );
    scope.get<{ Params: { issuer: string } }>('/ca/:issuer/chain.pem', async (req, reply) => {
      const id = req.params.issuer;
      if (!ca.issuers().some((i) => i.id === id))
        throw new CaError('not-found', `no issuer ${id.slice(0, 64)}`);
      return reply.type(PEM_CHAIN).send(ca.chainPem(id));
    });

    await registerCrlRoutes(scope, { publisher: authorityCrls(ca) });

    scope.addHook('onRequest', async (req) => {
      if (req.url.startsWith('/ocsp')) o.metrics.ocspRequests.inc({ method: req.method });
    });
    await registerOcspRoutes(scope, {
      responder: await ca.ocspResponder(),
      onAnswer: (status, source) => o.metrics.ocspAnswer(status, source),
    });
  });
}

/** The Authority's CRLs (the latest any instance published; published now if none is current). */
export function authorityCrls(ca: Authority): CrlSource {
  return {
    async get(issuerId) {
      if (!ca.issuers().some((i) => i.id === issuerId && i.status !== 'retired')) return undefined;
      const c = await ca.crl(issuerId);
      // A CRL number names one CRL of an issuer (RFC 5280 §5.2.3): a validator shared by instances.
      return {
        der: c.der,
        thisUpdate: c.thisUpdate,
        nextUpdate: c.nextUpdate,
        etag: `"${issuerId}-${c.crlNumber}"`,
      };
    },
  };
}
