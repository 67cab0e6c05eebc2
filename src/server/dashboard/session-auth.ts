import type { FastifyRequest } from 'fastify';
import type { Store } from '../../ca/store/types.js';
import { CSRF_HEADER } from '../api/dashboard-schemas.js';
import { hashSecret, SETTING_PREFIX, type TokenRecord, tokenId, tokenIsRegistered } from '../auth/bearer.js';
import type { Authenticator, Principal } from '../auth/types.js';
import { ServerError } from '../errors.js';
import { csrfMatches, type Session, type SessionStore } from './sessions.js';

/**
 * The dashboard's session cookie as an admin credential (registered into the `admin` set next to
 * the client certificate and the bearer token, see auth/registry.ts).
 *
 * The cookie is `__Host-fleetpki-session` (RFC 6265bis §4.1.3.2: the `__Host-` prefix makes the
 * browser keep it only when `Secure`, host-only and `Path=/`), `HttpOnly`, `SameSite=Strict`.
 * A cookie is ambient — the browser attaches it to requests other sites cause — so a request it
 * authenticates that changes state (any method but GET/HEAD/OPTIONS) must also carry the session's
 * CSRF token in `X-CSRF-Token`, and must not come from another origin (`checkSameOrigin`).
 * A cookie naming no live session is no credential at all: the request is then refused as
 * `unauthorized` (pages redirect to the login form).
 */
export const SESSION_COOKIE = '__Host-fleetpki-session';

/** RFC 9110 §9.2.1 safe methods: the only ones a cookie alone may authorize. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** How long a token's registration is trusted before it is read from the store again. */
const TOKEN_RECHECK_MS = 10_000;

export function isSafeMethod(method: string): boolean {
  return SAFE_METHODS.has(method);
}

/**
 * Refuses a state-changing request a browser sent from another origin. Browsers send `Origin` on
 * every cross-origin request and on same-origin non-GET fetches (Fetch standard §3.1), and
 * `Sec-Fetch-Site` on every request (Fetch Metadata); a client that sends neither (curl, a device)
 * is not a browser another site can drive, and is let through to authentication as before.
 */
export function checkSameOrigin(req: FastifyRequest): void {
  if (isSafeMethod(req.method)) return;
  const site = req.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site')
    throw new ServerError('csrf-rejected', `a ${site} request may not change state`);
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `https://${req.headers.host ?? ''}`)
    throw new ServerError('csrf-rejected', 'the request comes from another origin');
}

/** The value of one cookie in a `Cookie` header (RFC 6265 §5.4 syntax), or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined || header.length > 8192) return undefined;
  for (const part of header.split(';', 64)) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** `Set-Cookie` for a session (or, with maxAge 0, one that deletes it). */
export function sessionCookie(value: string, maxAgeSeconds: number): string {
  return `${SESSION_COOKIE}=${value}; Path=/; Max-Age=${maxAgeSeconds}; Secure; HttpOnly; SameSite=Strict`;
}

export class SessionAuthenticator implements Authenticator {
  readonly method = 'session';
  readonly onInvalid = 'deny' as const;
  private readonly bySession = new WeakMap<FastifyRequest, Session>();
  /** Per admin token id: SHA-256 of its secret at login, and when the store last confirmed it. */
  private readonly tokenHashes = new Map<string, string>();
  private readonly tokenChecked = new Map<string, number>();

  constructor(
    readonly sessions: SessionStore,
    private readonly store: Store,
    private readonly now: () => number = Date.now,
  ) {}

  async authenticate(req: FastifyRequest): Promise<Principal | undefined> {
    const value = readCookie(req.headers.cookie, SESSION_COOKIE);
    if (value === undefined) return undefined;
    const s = this.sessions.get(value);
    if (!s) return undefined;
    if (!(await this.tokenStillRegistered(s))) {
      this.sessions.deleteForToken(s.tokenId);
      return undefined;
    }
    if (!isSafeMethod(req.method)) {
      const sent = req.headers[CSRF_HEADER];
      if (!csrfMatches(s, typeof sent === 'string' ? sent : undefined))
        throw new ServerError('csrf-rejected', `a state-changing request needs the session's ${CSRF_HEADER}`);
      checkSameOrigin(req);
    }
    this.bySession.set(req, s);
    return { method: this.method, id: s.tokenId, requester: s.requester };
  }

  /** The session that authenticated this request, if a session did. */
  sessionOf(req: FastifyRequest): Session | undefined {
    return this.bySession.get(req);
  }

  /**
   * Checks an admin token (`POST /session`) and starts a session for it. Refuses with
   * `bad-credential` what the bearer authenticator would refuse.
   */
  async login(token: string): Promise<{ session: Session; cookieValue: string }> {
    const id = tokenId(token);
    if (!id || !(await tokenIsRegistered(this.store, token)))
      throw new ServerError('bad-credential', 'invalid admin token');
    const r = this.sessions.create(id, `admin:token:${id}`);
    this.tokenHashes.set(id, hashSecret(token.slice(`fpk_${id}_`.length)));
    this.tokenChecked.set(id, this.now());
    return r;
  }

  /** The token a session came from must still be the registered one (not removed or replaced). */
  private async tokenStillRegistered(s: Session): Promise<boolean> {
    const t = this.now();
    const checked = this.tokenChecked.get(s.tokenId);
    if (checked !== undefined && t - checked < TOKEN_RECHECK_MS) return true;
    const want = this.tokenHashes.get(s.tokenId);
    const raw = await this.store.getSetting(`${SETTING_PREFIX}${s.tokenId}`);
    let ok = false;
    try {
      ok = raw !== undefined && want !== undefined && (JSON.parse(raw) as TokenRecord).hash === want;
    } catch {
      ok = false;
    }
    if (ok) this.tokenChecked.set(s.tokenId, t);
    else {
      this.tokenChecked.delete(s.tokenId);
      this.tokenHashes.delete(s.tokenId);
    }
    return ok;
  }
}
