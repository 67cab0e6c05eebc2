import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Store } from '../../ca/store/types.js';
import { ServerError } from '../errors.js';
import type { Authenticator, Principal } from './types.js';

/**
 * Bearer tokens for the admin API (RFC 6750 §2.1 `Authorization: Bearer <token>`).
 *
 * A token is `fpk_<id>_<secret>`: a 16-hex-digit id and 32 random bytes (base64url). The store
 * keeps only `SHA-256(secret)` under the setting `admin-token:<id>` — the secret has 256 bits of
 * entropy, so a fast hash is enough (no dictionary to slow down), and a copy of the database
 * does not reveal a usable token. Several instances on one store share the tokens.
 * Verification compares hashes with `timingSafeEqual`, and an unknown id costs the same
 * comparison against a dummy hash.
 */
export interface TokenRecord {
  /** SHA-256 of the secret part, lower-case hex. */
  hash: string;
  label: string;
  createdAt: number;
}

const TOKEN = /^fpk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
/** Where a token's record lives in the store's settings (`admin-token:<id>`). */
export const SETTING_PREFIX = 'admin-token:';
/** How long a token record read from the store is reused (a deleted token stops working after this). */
const CACHE_MS = 10_000;
const DUMMY = createHash('sha256').update('fleetpki: no such token').digest();

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Makes a new token and records its hash in the store. Returns the token (shown once). */
export async function createToken(
  store: Store,
  label: string,
  now = Date.now(),
): Promise<{ id: string; token: string }> {
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  const rec: TokenRecord = { hash: hashSecret(secret), label, createdAt: now };
  await store.setSetting(`${SETTING_PREFIX}${id}`, JSON.stringify(rec));
  return { id, token: `fpk_${id}_${secret}` };
}

/** The id of a well-formed token (no store access), or undefined. */
export function tokenId(token: string): string | undefined {
  return TOKEN.exec(token)?.[1];
}

/** True when the token is recorded in the store (its hash matches). */
export async function tokenIsRegistered(store: Store, token: string): Promise<boolean> {
  const m = TOKEN.exec(token);
  if (!m) return false;
  const raw = await store.getSetting(`${SETTING_PREFIX}${m[1]}`);
  if (!raw) return false;
  return (JSON.parse(raw) as TokenRecord).hash === hashSecret(m[2]!);
}

export class BearerAuthenticator implements Authenticator {
  readonly method = 'bearer';
  readonly onInvalid = 'deny' as const;
  private readonly cache = new Map<string, { rec: TokenRecord | undefined; until: number }>();

  constructor(
    private readonly store: Store,
    private readonly now: () => number = Date.now,
  ) {}

  async authenticate(req: FastifyRequest): Promise<Principal | undefined> {
    const h = req.headers.authorization;
    if (h === undefined) return undefined;
    // RFC 6750 §2.1: the scheme is case-insensitive; one space, then the token.
    const m = /^Bearer ([^\s]{1,200})$/i.exec(h);
    if (!m) {
      if (/^bearer\b/i.test(h)) throw new ServerError('bad-credential', 'malformed bearer token');
      return undefined; // another scheme (Basic for EST) is someone else's
    }
    const parts = TOKEN.exec(m[1]!);
    if (!parts) throw new ServerError('bad-credential', 'malformed bearer token');
    const [, id, secret] = parts as unknown as [string, string, string];
    const rec = await this.lookup(id);
    const given = createHash('sha256').update(secret, 'utf8').digest();
    const want = rec ? Buffer.from(rec.hash, 'hex') : DUMMY;
    const ok = want.length === given.length && timingSafeEqual(want, given);
    if (!ok || !rec) throw new ServerError('bad-credential', 'invalid bearer token');
    return { method: this.method, id, requester: `admin:token:${id}` };
  }

  private async lookup(id: string): Promise<TokenRecord | undefined> {
    const now = this.now();
    const c = this.cache.get(id);
    if (c && c.until > now) return c.rec;
    const raw = await this.store.getSetting(`${SETTING_PREFIX}${id}`);
    let rec: TokenRecord | undefined;
    try {
      rec = raw ? (JSON.parse(raw) as TokenRecord) : undefined;
    } catch {
      rec = undefined;
    }
    // Unknown ids are cached too (briefly), so guessing ids does not reach the store each time.
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(id, { rec, until: now + CACHE_MS });
    return rec;
  }
}
