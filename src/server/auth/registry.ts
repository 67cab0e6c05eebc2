import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ServerError } from '../errors.js';
import type { Authenticator, Principal } from './types.js';

/** The credential set name that marks a route public (no credential). */
export const PUBLIC = 'public';
/** The default credential set of every route that names none. */
export const ADMIN = 'admin';

/**
 * Named credential sets and the `onRequest` hook that enforces them (see types.ts). A request to
 * a route whose set is not defined is refused (`internal`): a typo never opens a route.
 */
export class AuthRegistry {
  private readonly sets = new Map<string, Authenticator[]>();

  /** Defines (or extends) a credential set; authenticators are tried in order. */
  define(name: string, ...authenticators: Authenticator[]): this {
    if (name === PUBLIC) throw new Error('the public set takes no authenticators');
    this.sets.set(name, [...(this.sets.get(name) ?? []), ...authenticators]);
    return this;
  }

  /** The authenticators of a set (for tests and `whoami`). */
  get(name: string): readonly Authenticator[] | undefined {
    return this.sets.get(name);
  }

  /**
   * Authenticates a request against a set: the first principal wins, unless a `deny` credential
   * was invalid; with no principal the first invalid credential's error, else `unauthorized`.
   */
  async authenticate(req: FastifyRequest, set: string): Promise<Principal> {
    const list = this.sets.get(set);
    if (!list) throw new ServerError('internal', `no credential set "${set}" is defined`);
    let found: Principal | undefined;
    let invalid: unknown;
    for (const a of list) {
      try {
        const p = await a.authenticate(req);
        if (p && !found) found = p;
      } catch (e) {
        if ((a.onInvalid ?? 'deny') === 'deny') throw e;
        invalid ??= e;
      }
    }
    if (found) return found;
    if (invalid) throw invalid;
    throw new ServerError(
      'unauthorized',
      `this endpoint needs a credential (${list.map((a) => a.method).join(' or ')})`,
    );
  }

  /** Installs the default-deny hook: every route not marked `auth: 'public'` authenticates. */
  install(app: FastifyInstance): void {
    app.addHook('onRequest', async (req) => {
      const set = req.routeOptions.config?.auth ?? ADMIN;
      if (set === PUBLIC) return;
      req.principal = await this.authenticate(req, set);
    });
  }
}
