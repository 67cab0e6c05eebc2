import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Dashboard sessions, kept in this process's memory. The browser holds a random 256-bit session id
 * in an `HttpOnly` cookie; the table is keyed by its SHA-256, so a memory dump or a log line
 * holding a key cannot be replayed as a cookie. Each session has a synchronizer CSRF token
 * (OWASP CSRF Prevention Cheat Sheet, "Synchronizer Token Pattern") that the page reads once from
 * `GET /session` and sends as a header on every state-changing request.
 *
 * A session ends at the first of: logout, `idleMs` without a request, `lifetimeMs` after login,
 * or the bearer token it was made from no longer being registered (checked by the caller). The
 * table is bounded: past `maxSessions` the least recently used session is dropped.
 *
 * Sessions are per process: behind a load balancer with several instances, use sticky sessions or
 * the admin client certificate (which any instance verifies).
 */
export interface SessionOptions {
  /** Default 30 minutes. */
  idleMs?: number;
  /** Default 8 hours. */
  lifetimeMs?: number;
  /** Default 1000. */
  maxSessions?: number;
  now?: () => number;
}

export interface Session {
  /** SHA-256 of the cookie value, hex (the table key; never the cookie itself). */
  readonly key: string;
  /** The admin token the session was made from (its id), and the requester it acts as. */
  readonly tokenId: string;
  readonly requester: string;
  readonly csrfToken: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  lastSeen: number;
}

export const DEFAULT_IDLE_MS = 30 * 60_000;
export const DEFAULT_LIFETIME_MS = 8 * 3_600_000;
const DEFAULT_MAX_SESSIONS = 1000;
/** A cookie value: 32 random bytes, base64url (43 characters). */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export class SessionStore {
  readonly idleMs: number;
  readonly lifetimeMs: number;
  private readonly maxSessions: number;
  private readonly now: () => number;
  /** Insertion order = least recently used first (a touched session is moved to the end). */
  private readonly sessions = new Map<string, Session>();

  constructor(o: SessionOptions = {}) {
    this.idleMs = o.idleMs ?? DEFAULT_IDLE_MS;
    this.lifetimeMs = o.lifetimeMs ?? DEFAULT_LIFETIME_MS;
    this.maxSessions = o.maxSessions ?? DEFAULT_MAX_SESSIONS;
    this.now = o.now ?? Date.now;
  }

  /** Starts a session; returns it and the cookie value (the only time the id exists in clear). */
  create(tokenId: string, requester: string): { session: Session; cookieValue: string } {
    const t = this.now();
    this.sweep(t);
    while (this.sessions.size >= this.maxSessions) {
      const oldest = this.sessions.keys().next().value as string;
      this.sessions.delete(oldest);
    }
    const cookieValue = randomBytes(32).toString('base64url');
    const session: Session = {
      key: sha256(cookieValue),
      tokenId,
      requester,
      csrfToken: randomBytes(32).toString('base64url'),
      createdAt: t,
      expiresAt: t + this.lifetimeMs,
      lastSeen: t,
    };
    this.sessions.set(session.key, session);
    return { session, cookieValue };
  }

  /** The live session a cookie value names (and marks it used), or undefined. */
  get(cookieValue: string): Session | undefined {
    if (!SESSION_ID.test(cookieValue)) return undefined;
    const key = sha256(cookieValue);
    const s = this.sessions.get(key);
    if (!s) return undefined;
    const t = this.now();
    if (!this.live(s, t)) {
      this.sessions.delete(key);
      return undefined;
    }
    s.lastSeen = t;
    this.sessions.delete(key);
    this.sessions.set(key, s);
    return s;
  }

  /** Ends a session (logout). */
  delete(session: Session): void {
    this.sessions.delete(session.key);
  }

  /** Ends every session made from a token (it was deleted or replaced). */
  deleteForToken(tokenId: string): void {
    for (const [k, s] of this.sessions) if (s.tokenId === tokenId) this.sessions.delete(k);
  }

  /** Live sessions (for tests and metrics). */
  get size(): number {
    this.sweep(this.now());
    return this.sessions.size;
  }

  /** Seconds until the cookie should expire in the browser (the absolute end of the session). */
  maxAgeSeconds(s: Session): number {
    return Math.max(0, Math.floor((s.expiresAt - this.now()) / 1000));
  }

  private live(s: Session, t: number): boolean {
    return t < s.expiresAt && t - s.lastSeen < this.idleMs;
  }

  private sweep(t: number): void {
    for (const [k, s] of this.sessions) if (!this.live(s, t)) this.sessions.delete(k);
  }
}

/** Compares a CSRF token sent by the browser with the session's, in constant time. */
export function csrfMatches(session: Session, sent: string | undefined): boolean {
  if (sent === undefined) return false;
  const a = Buffer.from(session.csrfToken, 'utf8');
  const b = Buffer.from(sent, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
