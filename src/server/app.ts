import { randomBytes } from 'node:crypto';
import type { Server as HttpsServer } from 'node:https';
import { performance } from 'node:perf_hooks';
import type { SecureContextOptions } from 'node:tls';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
  type RouteOptions,
} from 'fastify';
import type { Logger } from 'pino';
import type { Authority } from '../ca/authority.js';
import { mtlsServerOptions } from '../mtls/server.js';
import { registerApiRoutes } from './api/routes.js';
import { BearerAuthenticator } from './auth/bearer.js';
import { ClientCertificateAuthenticator } from './auth/client-certificate.js';
import { ADMIN, AuthRegistry } from './auth/registry.js';
import { ServerError, toProblem } from './errors.js';
import type { ServiceMetrics } from './metrics.js';
import { registerPublicRoutes } from './routes/public.js';

/**
 * The service's HTTPS application: fastify with the public routes (routes/public.ts), the admin
 * API under `/api/v1` (api/routes.ts), default-deny authentication (auth/), problem+json errors
 * (errors.ts), body and time limits, and extension points for what other parts mount (EST under
 * `/.well-known/est/`, the dashboard's assets).
 *
 * TLS: the service's own certificate (service-tls.ts); every client is asked for a certificate
 * and none is required (mtls/ `mtlsServerOptions`: OpenSSL verifies nothing, our validation
 * decides per route — see auth/client-certificate.ts). HTTPS only.
 */
export interface ServiceAppOptions {
  authority: Authority;
  metrics: ServiceMetrics;
  logger: Logger;
  /** Our certificate chain (leaf first) and key, PEM. */
  tls: { cert: string; key: string };
  /** Credential sets; default: `admin` = client certificate (profile `admin`) or bearer token. */
  auth?: AuthRegistry;
  /** Largest request body in bytes (default 64 KiB: a CSR is a few KiB). */
  bodyLimit?: number;
  /** A request must be received within this (default 30 s: slow-loris). */
  requestTimeoutMs?: number;
  /** A handler must answer within this (default 30 s; `timeout` problem, work goes on). */
  handlerTimeoutMs?: number;
  /** Idle keep-alive connections are closed after this (default 5 s). */
  keepAliveTimeoutMs?: number;
  version: string;
  /** More routes (EST, dashboard): registered after the built-in ones, with the same hooks. */
  extensions?: readonly ((app: FastifyInstance, ctx: { auth: AuthRegistry }) => Promise<void>)[];
}

export interface ServiceApp {
  app: FastifyInstance;
  auth: AuthRegistry;
  /** Marks the service closing (`/healthz` 503) before `app.close()`. */
  beginClose(): void;
  /** Replaces the TLS certificate for new connections (renewal). */
  setCertificate(tls: { cert: string; key: string }): void;
  /** Every route with the credential set it needs (`public`, `admin`, …). */
  routes(): { method: string; url: string; auth: string }[];
}

export const DEFAULT_BODY_LIMIT = 64 * 1024;

/** TLS settings shared by the first context and renewals. */
function secureOptions(tls: { cert: string; key: string }): SecureContextOptions & {
  requestCert: boolean;
  rejectUnauthorized: boolean;
} {
  const o = mtlsServerOptions({
    tls: { cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' },
    // Judged per route by ClientCertificateAuthenticator; here only the TLS options are needed.
    clientAuth: { trustAnchors: [firstCert(tls.cert)], revocation: 'none' },
    clientCertificate: 'optional',
  });
  return o as SecureContextOptions & { requestCert: boolean; rejectUnauthorized: boolean };
}

function firstCert(pem: string): string {
  const end = pem.indexOf('-----END CERTIFICATE-----');
  return end < 0 ? pem : pem.slice(0, end + 25);
}

/**
 * Request ids: 64 random bits each (they appear in problem answers, so they reveal nothing about
 * the traffic), drawn 512 at a time — one CSPRNG call per 512 requests instead of one per request
 * (~10 µs → ~0.3 µs of CPU per id under load).
 */
function requestIds(): () => string {
  let pool = Buffer.alloc(0);
  let at = 0;
  return () => {
    if (at >= pool.length) {
      pool = randomBytes(4096);
      at = 0;
    }
    const id = pool.toString('hex', at, at + 8);
    at += 8;
    return id;
  };
}

/**
 * Handlers must answer within `ms` (a hung store or PKCS#11 token): a request still unanswered
 * then gets the `timeout` problem (503) and its handler's later answer is dropped. One sweep per
 * second over the requests in flight does it — fastify's own `handlerTimeout` gives each request
 * an AbortController and a timer and aborts it when the response closes (an AbortError with a
 * stack trace per request), which cost about 25 µs of CPU per request here.
 */
function watchHandlerDeadline(app: FastifyInstance, ms: number): void {
  if (!(ms > 0)) return;
  const inFlight = new Map<FastifyRequest, { reply: FastifyReply; deadline: number }>();
  app.addHook('onRequest', (req, reply, done) => {
    inFlight.set(req, { reply, deadline: performance.now() + ms });
    done();
  });
  app.addHook('onResponse', (req, _reply, done) => {
    inFlight.delete(req);
    done();
  });
  const sweep = setInterval(
    () => {
      const now = performance.now();
      for (const [req, { reply, deadline }] of inFlight) {
        const raw = reply.raw;
        if (raw.writableEnded || raw.destroyed)
          inFlight.delete(req); // answered, or the client left
        else if (now >= deadline) {
          inFlight.delete(req);
          if (raw.headersSent) raw.destroy();
          else reply.send(new ServerError('timeout', `the handler did not answer within ${ms} ms`));
        }
      }
    },
    Math.min(1000, Math.max(10, ms / 4)),
  );
  sweep.unref();
  app.addHook('onClose', (_app, done) => {
    clearInterval(sweep);
    done();
  });
}

export async function buildServiceApp(o: ServiceAppOptions): Promise<ServiceApp> {
  const started = Date.now();
  let closing = false;
  const log = o.logger;
  // Typed as the default instance: the https server and pino logger differ only in their types.
  const app = Fastify({
    https: secureOptions(o.tls),
    loggerInstance: log as unknown as FastifyBaseLogger,
    // Request logs are written by our onResponse hook (without headers, bodies or query strings).
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: requestIds(),
    bodyLimit: o.bodyLimit ?? DEFAULT_BODY_LIMIT,
    requestTimeout: o.requestTimeoutMs ?? 30_000,
    keepAliveTimeout: o.keepAliveTimeoutMs ?? 5_000,
    connectionTimeout: 120_000,
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 256 },
  }) as unknown as FastifyInstance;

  const auth =
    o.auth ??
    new AuthRegistry().define(
      ADMIN,
      new ClientCertificateAuthenticator(o.authority),
      new BearerAuthenticator(o.authority.store),
    );

  app.setErrorHandler((err, req, reply) => {
    const p = toProblem(err, req.id);
    o.metrics.errors.inc({ code: p.code, status: String(p.status) });
    if (p.internal) req.log.error({ err, code: p.code, route: req.routeOptions.url }, 'request failed');
    else req.log.info({ code: p.code, route: req.routeOptions.url }, 'request refused');
    if (p.status === 401)
      reply.header('www-authenticate', req.routeOptions.config?.wwwAuthenticate ?? 'Bearer realm="fleetpki"');
    return reply.code(p.status).type('application/problem+json').send(p.body);
  });
  app.setNotFoundHandler(async (req) => {
    throw new ServerError('not-found', `no route ${req.method} ${req.url.split('?')[0]!.slice(0, 200)}`);
  });

  watchHandlerDeadline(app, o.handlerTimeoutMs ?? 30_000);
  auth.install(app);
  // Kept by reference: a scope's own onRoute hook (the public scope) may set `auth` after this one.
  const routeTable: RouteOptions[] = [];
  app.addHook('onRoute', (r) => {
    routeTable.push(r);
  });

  app.addHook('onResponse', async (req, reply) => {
    // Admin actions and failures at info; public fetches (chains, CRLs, OCSP, health) at debug.
    const level = reply.statusCode >= 400 || req.url.startsWith('/api/') ? 'info' : 'debug';
    if (!log.isLevelEnabled(level)) return;
    req.log[level](
      {
        method: req.method,
        route: req.routeOptions.url ?? 'unmatched',
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
        principal: req.principal?.id,
      },
      'request',
    );
  });

  await registerPublicRoutes(app, {
    authority: o.authority,
    metrics: o.metrics,
    version: o.version,
    startedAt: started,
    closing: () => closing,
  });
  await app.register(
    async (api) => {
      // The admin API speaks JSON only (fastify also parses text/plain by default).
      api.removeContentTypeParser('text/plain');
      await registerApiRoutes(api, { authority: o.authority, metrics: o.metrics });
    },
    { prefix: '/api/v1' },
  );
  for (const ext of o.extensions ?? []) await ext(app, { auth });

  return {
    app,
    auth,
    beginClose() {
      closing = true;
    },
    routes() {
      return routeTable.flatMap((r) =>
        (Array.isArray(r.method) ? r.method : [r.method]).map((method) => ({
          method: String(method),
          url: r.url,
          auth: (r.config as { auth?: string } | undefined)?.auth ?? ADMIN,
        })),
      );
    },
    setCertificate(tls) {
      (app.server as unknown as HttpsServer).setSecureContext(secureOptions(tls));
    },
  };
}
