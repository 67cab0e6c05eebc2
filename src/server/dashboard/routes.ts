import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Authority } from '../../ca/authority.js';
import { LoginRequest, type SessionInfo } from '../api/dashboard-schemas.js';
import { parseWith } from '../api/routes.js';
import { PUBLIC } from '../auth/registry.js';
import { ServerError } from '../errors.js';
import type { Asset, DashboardAssets } from './assets.js';
import { addSecurityHeaders } from './headers.js';
import { type SessionAuthenticator, sessionCookie } from './session-auth.js';

/**
 * The dashboard's routes: its pages (one HTML document; the browser-side router shows the view
 * the path names), its built files, and the session endpoints (`LoginRequest`, `SessionInfo`).
 *
 * Access: anonymous clients get the login form and its files only (`DASHBOARD_PUBLIC_ROUTES`);
 * every page and the application's files need an admin credential — the session cookie, the admin
 * client certificate, or a bearer token. A page asked for without one is answered with a 303 to
 * `/login?next=<path>` (no page content); everything else with the usual 401 problem.
 */

/** The paths of the application's views (client-side routes, each served the same document). */
export const DASHBOARD_PAGES: readonly string[] = [
  '/',
  '/certificates',
  '/certificates/:issuer/:serial',
  '/hierarchy',
  '/expiry',
  '/audit',
  '/enrollment',
];

/** The dashboard's public routes (the only ones it adds to routes/public.ts's allow-list). */
export const DASHBOARD_PUBLIC_ROUTES: readonly string[] = ['GET /login', 'GET /login/:file', 'POST /session'];

/** Refusals that send a browser to the login form rather than to a problem document. */
const LOGIN_CODES = new Set(['unauthorized', 'bad-credential', 'client-certificate-rejected']);

export interface DashboardRoutesOptions {
  assets: DashboardAssets;
  sessions: SessionAuthenticator;
  authority: Authority;
  logger: Logger;
}

/** Sends a file with its validator; `immutable` for content-hashed names (RFC 8246). */
function sendAsset(req: FastifyRequest, reply: FastifyReply, a: Asset, cache: string) {
  reply.header('cache-control', cache).header('etag', a.etag).type(a.contentType);
  if (req.headers['if-none-match'] === a.etag) return reply.code(304).send();
  return reply.send(a.body);
}

/** A `next` target for after the login: a path of this site only (no `//host`, no scheme). */
function localPath(url: string): string {
  return /^\/(?![/\\])[^\s]{0,512}$/.test(url) ? url : '/';
}

export async function registerDashboardRoutes(
  app: FastifyInstance,
  o: DashboardRoutesOptions,
): Promise<void> {
  const { assets, sessions } = o;
  // Asked at request time: extensions registered after the dashboard add their routes later.
  const features = (): SessionInfo['features'] => ({
    estCredentials: app.hasRoute({ method: 'GET', url: '/api/v1/est/credentials' }),
  });

  // Pages and the application's files (admin).
  await app.register(async (scope) => {
    scope.addHook('onSend', async (req, reply) => addSecurityHeaders(req, reply));
    scope.setErrorHandler((err, req, reply) => {
      if (err instanceof ServerError && LOGIN_CODES.has(err.code) && req.method === 'GET') {
        const next = encodeURIComponent(localPath(req.url));
        return reply
          .code(303)
          .header('cache-control', 'no-store')
          .header('location', `/login?next=${next}`)
          .send();
      }
      throw err; // the service's handler answers it as a problem
    });
    for (const url of DASHBOARD_PAGES)
      scope.get(url, async (req, reply) => sendAsset(req, reply, assets.app, 'no-store'));
    scope.get<{ Params: { file: string } }>('/assets/:file', async (req, reply) => {
      const a = assets.files.get(`assets/${req.params.file}`);
      if (!a) throw new ServerError('not-found', 'no such dashboard file');
      return sendAsset(req, reply, a, 'private, max-age=31536000, immutable');
    });
  });

  // The login form and its files (public).
  await app.register(async (scope) => {
    scope.addHook('onSend', async (req, reply) => addSecurityHeaders(req, reply));
    scope.get('/login', { config: { auth: PUBLIC } }, async (req, reply) =>
      sendAsset(req, reply, assets.login, 'no-store'),
    );
    scope.get<{ Params: { file: string } }>(
      '/login/:file',
      { config: { auth: PUBLIC } },
      async (req, reply) => {
        const a = assets.files.get(`login/${req.params.file}`);
        if (!a) throw new ServerError('not-found', 'no such dashboard file');
        return sendAsset(req, reply, a, 'public, max-age=31536000, immutable');
      },
    );
  });

  // Session endpoints (JSON).
  await app.register(async (scope) => {
    scope.removeContentTypeParser('text/plain');
    scope.addHook('onSend', async (req, reply) => {
      addSecurityHeaders(req, reply);
      reply.header('cache-control', 'no-store');
    });

    scope.post('/session', { config: { auth: PUBLIC } }, async (req, reply) => {
      const body = parseWith(LoginRequest, req.body, 'body');
      let started: Awaited<ReturnType<SessionAuthenticator['login']>>;
      try {
        started = await sessions.login(body.token);
      } catch (e) {
        o.logger.info({ ip: req.ip }, 'dashboard login refused');
        throw e;
      }
      const s = started.session;
      await o.authority.audit({ actor: s.requester, action: 'dashboard-login', result: 'ok', detail: {} });
      o.logger.info({ requester: s.requester }, 'dashboard login');
      const out: SessionInfo = {
        method: 'session',
        requester: s.requester,
        csrfToken: s.csrfToken,
        expiresAt: new Date(s.expiresAt).toISOString(),
        idleTimeoutSeconds: Math.floor(sessions.sessions.idleMs / 1000),
        features: features(),
      };
      return reply
        .code(201)
        .header('set-cookie', sessionCookie(started.cookieValue, sessions.sessions.maxAgeSeconds(s)))
        .send(out);
    });

    scope.get('/session', async (req) => {
      const p = req.principal!;
      const s = sessions.sessionOf(req);
      const out: SessionInfo = { method: p.method, requester: p.requester, features: features() };
      if (p.subject !== undefined) out.subject = p.subject;
      if (s) {
        out.csrfToken = s.csrfToken;
        out.expiresAt = new Date(s.expiresAt).toISOString();
        out.idleTimeoutSeconds = Math.floor(sessions.sessions.idleMs / 1000);
      }
      return out;
    });

    scope.delete('/session', async (req, reply) => {
      const s = sessions.sessionOf(req);
      if (s) {
        sessions.sessions.delete(s);
        await o.authority.audit({ actor: s.requester, action: 'dashboard-logout', result: 'ok', detail: {} });
      }
      return reply.code(204).header('set-cookie', sessionCookie('', 0)).send();
    });
  });
}
