// The dashboard's access rules over real HTTPS, without a browser: the service runs in this
// process (127.0.0.1:0, real SQLite store, real TLS) with the dashboard mounted on a fresh build of
// src/web/. Who gets what without a credential, the login that turns the admin token into a
// session cookie, CSRF and origin checks on every state-changing request, logout and session
// expiry (a test clock), and the security headers on every dashboard answer.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { parseConfig } from '../../src/ca/config.js';
import { SessionInfo } from '../../src/server/api/dashboard-schemas.js';
import { CaList, CertificateDetail, Problem } from '../../src/server/api/schemas.js';
import { loadDashboardAssets } from '../../src/server/dashboard/assets.js';
import {
  CONTENT_SECURITY_POLICY,
  DASHBOARD_PAGES,
  DASHBOARD_PUBLIC_ROUTES,
  dashboardExtension,
  SESSION_COOKIE,
} from '../../src/server/dashboard/index.js';
import { SessionStore } from '../../src/server/dashboard/sessions.js';
import { PUBLIC_ROUTES } from '../../src/server/routes/public.js';
import { Service } from '../../src/server/service.js';
import { makeCsr } from '../ca/requests.js';
import { buildToTemp } from '../web/support.js';
import { api, type HttpResponse, request } from './helpers.js';

const MINUTE = 60_000;
const IDLE = 30 * MINUTE;
const LIFETIME = 8 * 60 * MINUTE;

describe('dashboard: access, sessions, CSRF and headers', () => {
  let dir: string;
  let assets: string;
  let svc: Service;
  let root: string;
  let token: string;
  let origin: string;
  let clock = Date.now();
  let ext: ReturnType<typeof dashboardExtension>;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fleetpki-dash-http-'));
    assets = await buildToTemp();
    ext = dashboardExtension({ assetsDir: assets, sessions: { now: () => clock } });
    svc = await Service.start({
      dataDir: join(dir, 'data'),
      port: 0,
      env: { FLEETPKI_PASSPHRASE: 'dashboard test passphrase' },
      config: parseConfig({}),
      logDestination: new Writable({ write: (_c, _e, cb) => cb() }),
      extensions: [ext],
    });
    root = readFileSync(svc.rootPath, 'utf8');
    token = readFileSync(svc.admin.tokenPath, 'utf8').trim();
    origin = `https://127.0.0.1:${svc.port}`;
  });
  after(async () => {
    await svc?.close();
    rmSync(dir, { recursive: true, force: true });
    if (assets) rmSync(assets, { recursive: true, force: true });
  });

  const get = (path: string, headers: Record<string, string> = {}) =>
    request(`${svc.url}${path}`, { ca: root, headers });
  const send = (method: string, path: string, headers: Record<string, string>, json?: unknown) =>
    request(`${svc.url}${path}`, {
      method,
      ca: root,
      headers: json === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: json === undefined ? undefined : JSON.stringify(json),
    });

  /** Logs in; returns the cookie header value and the session's CSRF token. */
  async function login(): Promise<{ cookie: string; csrf: string; res: HttpResponse }> {
    const res = await send('POST', '/session', { origin }, { token });
    assert.equal(res.status, 201, res.text);
    const setCookie = String(res.headers['set-cookie']);
    const value = new RegExp(`^${SESSION_COOKIE}=([A-Za-z0-9_-]{43});`).exec(setCookie)?.[1];
    assert.ok(value, setCookie);
    return { cookie: `${SESSION_COOKIE}=${value}`, csrf: SessionInfo.parse(res.json()).csrfToken!, res };
  }

  function problem(r: HttpResponse, status: number, code: string): void {
    assert.equal(r.status, status, r.text);
    assert.equal(Problem.parse(r.json()).code, code, r.text);
  }

  const samplePath = (url: string) => url.replace(/:[a-z]+/g, '00ff');

  test('the public routes are the service allow-list plus the login form, and nothing else', () => {
    const routes = svc.server.routes().filter((r) => r.method !== 'HEAD');
    const publicRoutes = routes.filter((r) => r.auth === 'public').map((r) => `${r.method} ${r.url}`);
    assert.deepEqual(publicRoutes.sort(), [...PUBLIC_ROUTES, ...DASHBOARD_PUBLIC_ROUTES].sort());
    assert.ok(routes.filter((r) => r.url.startsWith('/api/')).every((r) => r.auth === 'admin'));
    for (const p of DASHBOARD_PAGES)
      assert.ok(
        routes.some((r) => r.method === 'GET' && r.url === p),
        p,
      );
  });

  test('without a credential every page redirects to the login form with no content, every API call is 401', async () => {
    const forged = `${SESSION_COOKIE}=${'A'.repeat(43)}`;
    const anonymous: Record<string, string>[] = [{}, { cookie: forged }];
    for (const headers of anonymous) {
      for (const page of DASHBOARD_PAGES) {
        const path = samplePath(page);
        const r = await get(path, headers);
        assert.equal(r.status, 303, `${page}: ${r.status}`);
        assert.equal(r.headers.location, `/login?next=${encodeURIComponent(path)}`);
        assert.equal(r.body.length, 0, `${page}: no content`);
        assert.equal(r.headers['content-security-policy'], CONTENT_SECURITY_POLICY);
      }
      const app = [...loadDashboardAssets(assets).files.keys()].find((f) => f.startsWith('assets/'))!;
      assert.equal((await get(`/${app}`, headers)).status, 303, 'the application bundle needs a credential');
      const routes = svc.server.routes().filter((r) => r.auth === 'admin' && r.method !== 'HEAD');
      for (const r of routes.filter((x) => !DASHBOARD_PAGES.includes(x.url) && x.url !== '/assets/:file')) {
        const res = await send(r.method, samplePath(r.url), headers);
        assert.equal(res.status, 401, `${r.method} ${r.url}`);
      }
    }
  });

  test('anonymous clients get the login form and its own files only', async () => {
    const page = await get('/login');
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    const files = [...page.text.matchAll(/(?:src|href)="(\/[^"]+)"/g)].map((m) => m[1]!);
    assert.ok(files.length >= 2, page.text);
    for (const f of files) {
      assert.match(f, /^\/login\/[A-Za-z0-9_.-]+$/);
      const r = await get(f);
      assert.equal(r.status, 200, f);
      assert.equal(r.headers['cache-control'], 'public, max-age=31536000, immutable');
      assert.equal((await get(f, { 'if-none-match': String(r.headers.etag) })).status, 304);
    }
    assert.ok(!/<script(?![^>]*\bsrc=)[^>]*>/.test(page.text), 'no inline script');
    assert.ok(!/\sstyle=/.test(page.text), 'no inline style');
    problem(await get('/login/nothing-here.js'), 404, 'not-found');
  });

  test('login: a wrong, malformed or missing token is refused without a cookie', async () => {
    for (const [body, status, code] of [
      [{ token: `fpk_${'0'.repeat(16)}_${'A'.repeat(43)}` }, 401, 'bad-credential'],
      [{ token: 'not-a-token' }, 401, 'bad-credential'],
      [{ token: `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}` }, 401, 'bad-credential'],
      [{}, 400, 'bad-request'],
      [{ token, extra: 1 }, 400, 'bad-request'],
    ] as const) {
      const r = await send('POST', '/session', { origin }, body);
      problem(r, status, code);
      assert.equal(r.headers['set-cookie'], undefined);
    }
    const text = await request(`${svc.url}/session`, {
      ca: root,
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ token }),
    });
    problem(text, 415, 'unsupported-media-type');
    problem(
      await send('POST', '/session', { origin: 'https://evil.example' }, { token }),
      403,
      'csrf-rejected',
    );
  });

  test('login: the cookie is __Host-, Secure, HttpOnly, SameSite=Strict, Path=/, bounded; the audit log says who', async () => {
    const { res, cookie, csrf } = await login();
    const setCookie = String(res.headers['set-cookie']);
    const attrs = setCookie.split(';').map((s) => s.trim());
    assert.ok(attrs[0]!.startsWith(`${SESSION_COOKIE}=`));
    for (const a of ['Path=/', 'Secure', 'HttpOnly', 'SameSite=Strict']) assert.ok(attrs.includes(a), a);
    assert.ok(!attrs.some((a) => /^domain=/i.test(a)), 'host-only');
    const maxAge = Number(/Max-Age=(\d+)/.exec(setCookie)?.[1]);
    assert.ok(maxAge > LIFETIME / 1000 - 5 && maxAge <= LIFETIME / 1000, setCookie);
    assert.equal(res.headers['cache-control'], 'no-store');
    const info = SessionInfo.parse(res.json());
    assert.equal(info.method, 'session');
    assert.match(info.requester, /^admin:token:[0-9a-f]{16}$/);
    assert.equal(info.features.estCredentials, true); // serve mounts EST (its credential endpoints)
    // The session's own view of itself, and the admin API under the session.
    const s = SessionInfo.parse((await get('/session', { cookie })).json());
    assert.equal(s.csrfToken, csrf);
    const who = await get('/api/v1/whoami', { cookie });
    assert.equal(who.status, 200, who.text);
    assert.equal(who.json<{ method: string }>().method, 'session');
    const audit = (await svc.store.readAudit(0, 500)).filter((r) => r.action === 'dashboard-login');
    assert.ok(audit.some((r) => r.actor === info.requester && r.result === 'ok'));
    // The cookie value itself is nowhere in the session table (keys are its SHA-256).
    const table = (ext.sessions as unknown as { sessions: Map<string, unknown> }).sessions;
    assert.ok(table.size > 0);
    assert.ok(!JSON.stringify([...table]).includes(cookie.split('=')[1]!));
  });

  test('a page with a session: the application document, with the CSP and the security headers', async () => {
    const { cookie } = await login();
    for (const page of DASHBOARD_PAGES) {
      const r = await get(samplePath(page), { cookie });
      assert.equal(r.status, 200, page);
      assert.match(String(r.headers['content-type']), /^text\/html/);
      assert.equal(r.headers['cache-control'], 'no-store');
      assert.ok(r.text.includes('<div id="app">'));
    }
    const doc = await get('/', { cookie });
    assert.ok(!/<script(?![^>]*\bsrc=)[^>]*>/.test(doc.text), 'no inline script');
    assert.ok(!/\sstyle=/.test(doc.text), 'no inline style');
    const expect: Record<string, string> = {
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'x-frame-options': 'DENY',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-resource-policy': 'same-origin',
    };
    const bundle = /src="(\/assets\/[^"]+\.js)"/.exec(doc.text)?.[1];
    assert.ok(bundle, doc.text);
    for (const path of ['/', '/login', bundle])
      for (const [k, v] of Object.entries(expect))
        assert.equal((await get(path, { cookie })).headers[k], v, `${path} ${k}`);
    for (const d of [
      "default-src 'self'",
      "script-src 'self'",
      "style-src 'self'",
      "frame-ancestors 'none'",
      "object-src 'none'",
      "base-uri 'none'",
    ])
      assert.ok(CONTENT_SECURITY_POLICY.split('; ').includes(d), d);
    assert.ok(!CONTENT_SECURITY_POLICY.includes('unsafe'), 'no unsafe-inline / unsafe-eval');
    const js = await get(bundle, { cookie });
    assert.equal(js.status, 200);
    assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(js.headers['cache-control'], 'private, max-age=31536000, immutable');
  });

  test('HSTS is sent for a real host name, never for localhost or an IP address', async () => {
    // Without the trust anchor: Node would check the certificate against the Host header's name.
    const hsts = async (host: string) =>
      (await request(`${svc.url}/login`, { headers: { host } })).headers['strict-transport-security'];
    assert.equal(await hsts('pki.fleet.example:8443'), 'max-age=31536000');
    for (const host of [
      `127.0.0.1:${svc.port}`,
      `localhost:${svc.port}`,
      `[::1]:${svc.port}`,
      'ca.localhost',
    ])
      assert.equal(await hsts(host), undefined, host);
  });

  test('a state-changing request on a session needs the CSRF token and our origin', async () => {
    const { cookie, csrf } = await login();
    const crlNumber = async () =>
      CaList.parse((await api(svc.url, '/api/v1/cas', { token, ca: root })).json()).items.find(
        (c) => c.id === 'issuing',
      )!.crl?.crlNumber;
    const first = await crlNumber();
    const publish = (h: Record<string, string>) =>
      send('POST', '/api/v1/crl', { cookie, ...h }, { issuer: 'issuing' });
    problem(await publish({}), 403, 'csrf-rejected');
    problem(await publish({ 'x-csrf-token': 'x'.repeat(43) }), 403, 'csrf-rejected');
    problem(await publish({ 'x-csrf-token': csrf, origin: 'https://evil.example' }), 403, 'csrf-rejected');
    problem(await publish({ 'x-csrf-token': csrf, origin: 'null' }), 403, 'csrf-rejected');
    problem(await publish({ 'x-csrf-token': csrf, 'sec-fetch-site': 'cross-site' }), 403, 'csrf-rejected');
    problem(await publish({ 'x-csrf-token': csrf, 'sec-fetch-site': 'same-site' }), 403, 'csrf-rejected');
    assert.equal(await crlNumber(), first, 'nothing was published');

    // Revocation likewise: refused without the token, the certificate stays valid.
    const csr = await makeCsr({ subject: 'CN=device-csrf-probe' });
    const issued = await api(svc.url, '/api/v1/certificates', {
      token,
      ca: root,
      json: { csr: csr.toPem(), profile: 'device' },
    });
    assert.equal(issued.status, 201, issued.text);
    const serial = issued.json<{ certificate: { serial: string } }>().certificate.serial;
    problem(
      await send('POST', `/api/v1/certificates/${serial}/revoke`, { cookie }, { reason: 'keyCompromise' }),
      403,
      'csrf-rejected',
    );
    const still = CertificateDetail.parse((await get(`/api/v1/certificates/${serial}`, { cookie })).json());
    assert.equal(still.status, 'valid');

    const ok = await publish({ 'x-csrf-token': csrf, origin, 'sec-fetch-site': 'same-origin' });
    assert.equal(ok.status, 200, ok.text);
    assert.notEqual(await crlNumber(), first);
  });

  test('scripts with the bearer token need no CSRF token, but a browser on another origin is refused', async () => {
    const r = await api(svc.url, '/api/v1/crl', { token, ca: root, json: {} });
    assert.equal(r.status, 200, r.text);
    const cross = await send(
      'POST',
      '/api/v1/crl',
      { authorization: `Bearer ${token}`, origin: 'https://evil.example' },
      {},
    );
    problem(cross, 403, 'csrf-rejected');
  });

  test('logout needs the CSRF token, then forgets the session and clears the cookie', async () => {
    const { cookie, csrf } = await login();
    problem(await send('DELETE', '/session', { cookie }), 403, 'csrf-rejected');
    assert.equal((await get('/', { cookie })).status, 200, 'still signed in');
    const out = await send('DELETE', '/session', { cookie, 'x-csrf-token': csrf, origin });
    assert.equal(out.status, 204, out.text);
    assert.match(
      String(out.headers['set-cookie']),
      new RegExp(`^${SESSION_COOKIE}=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict$`),
    );
    assert.equal((await get('/', { cookie })).status, 303);
    problem(await get('/api/v1/whoami', { cookie }), 401, 'unauthorized');
  });

  test('a session ends after 30 idle minutes, and 8 hours after login whatever its use', async () => {
    const idle = await login();
    clock += IDLE - MINUTE;
    assert.equal(
      (await get('/api/v1/whoami', { cookie: idle.cookie })).status,
      200,
      'used within the idle time',
    );
    clock += IDLE - MINUTE;
    assert.equal(
      (await get('/api/v1/whoami', { cookie: idle.cookie })).status,
      200,
      'the use restarted the idle time',
    );
    clock += IDLE + 1;
    problem(await get('/api/v1/whoami', { cookie: idle.cookie }), 401, 'unauthorized');

    const busy = await login();
    const end = clock + LIFETIME;
    while (clock + 20 * MINUTE < end) {
      clock += 20 * MINUTE;
      assert.equal((await get('/api/v1/whoami', { cookie: busy.cookie })).status, 200);
    }
    clock = end;
    problem(await get('/api/v1/whoami', { cookie: busy.cookie }), 401, 'unauthorized');
  });

  test('a session ends when the admin token it came from is replaced', async () => {
    const s = await login();
    const id = /admin:token:([0-9a-f]{16})/.exec(SessionInfo.parse(s.res.json()).requester)![1]!;
    const key = `admin-token:${id}`;
    const saved = (await svc.store.getSetting(key))!;
    try {
      await svc.store.setSetting(key, JSON.stringify({ ...JSON.parse(saved), hash: '00'.repeat(32) }));
      clock += 11_000; // past the token recheck interval
      problem(await get('/api/v1/whoami', { cookie: s.cookie }), 401, 'unauthorized');
    } finally {
      await svc.store.setSetting(key, saved);
    }
  });
});

describe('SessionStore', () => {
  test('keys are hashes of the cookie value; the table is bounded, least recently used out first', () => {
    let t = 1_000_000;
    const s = new SessionStore({ maxSessions: 3, now: () => t });
    const made = [0, 1, 2].map((i) => s.create(`tok${i}`, `admin:token:tok${i}`));
    for (const m of made) assert.notEqual(m.session.key, m.cookieValue);
    t += 1;
    assert.ok(s.get(made[0]!.cookieValue), 'touch the oldest');
    s.create('tok3', 'admin:token:tok3');
    assert.equal(s.size, 3);
    assert.ok(s.get(made[0]!.cookieValue), 'recently used, kept');
    assert.equal(s.get(made[1]!.cookieValue), undefined, 'least recently used, dropped');
    assert.equal(s.get('short'), undefined);
    s.deleteForToken('tok0');
    assert.equal(s.get(made[0]!.cookieValue), undefined);
  });
});
