import { ADMIN } from '../auth/registry.js';
import type { ServiceExtension } from '../service.js';
import { findAssetsDir, loadDashboardAssets } from './assets.js';
import { registerDashboardRoutes } from './routes.js';
import { checkSameOrigin, SessionAuthenticator } from './session-auth.js';
import { type SessionOptions, SessionStore } from './sessions.js';

export { CONTENT_SECURITY_POLICY, SECURITY_HEADERS } from './headers.js';
export { DASHBOARD_PAGES, DASHBOARD_PUBLIC_ROUTES } from './routes.js';
export { SESSION_COOKIE } from './session-auth.js';

/**
 * The web dashboard mounted into `fleetpki serve` (see routes.ts for what is served and to whom).
 *
 *   await Service.start({ extensions: [dashboardExtension()] });
 *
 * It adds the session cookie to the `admin` credential set, and refuses state-changing browser
 * requests from other origins on the admin API and the session endpoints (session-auth.ts). The
 * built files are looked for in `assetsDir`, else beside the compiled service (`dist/web/`); when
 * there is no build (the sources were never built), the service runs without the dashboard and
 * says so in its log.
 */
export interface DashboardOptions {
  /** A build directory (`vite build` output, see scripts/build-web.ts). */
  assetsDir?: string;
  sessions?: SessionOptions;
}

/** The dashboard as a service extension. */
export function dashboardExtension(o: DashboardOptions = {}): ServiceExtension & {
  /** The session table (for tests). */
  sessions?: SessionStore;
} {
  const ext: ServiceExtension & { sessions?: SessionStore } = {
    name: 'dashboard',
    async register(app, ctx) {
      app.addHook('onRequest', async (req) => {
        const path = req.url.split('?', 1)[0]!;
        if (path.startsWith('/api/') || path === '/session') checkSameOrigin(req);
      });
      const dir = o.assetsDir ?? findAssetsDir();
      if (dir === undefined) {
        ctx.logger.warn({}, 'dashboard not served: no build found (npm run build writes dist/web/)');
        return;
      }
      const assets = loadDashboardAssets(dir);
      const sessions = new SessionStore(o.sessions);
      ext.sessions = sessions;
      const auth = new SessionAuthenticator(sessions, ctx.authority.store, o.sessions?.now);
      ctx.auth.define(ADMIN, auth);
      await registerDashboardRoutes(app, {
        assets,
        sessions: auth,
        authority: ctx.authority,
        logger: ctx.logger.child({ component: 'dashboard' }),
      });
      ctx.logger.info({ dir }, 'dashboard served at /');
    },
  };
  return ext;
}
