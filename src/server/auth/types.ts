import type { FastifyRequest } from 'fastify';

/**
 * Authentication for the service's routes: default-deny, pluggable credential kinds.
 *
 * Every route names the credential set it needs in its config (`config: { auth: 'admin' }`);
 * a route without one needs `admin`, and only routes on the public allow-list (routes/public.ts)
 * say `auth: 'public'`. A set is an ordered list of `Authenticator`s — today the admin client
 * certificate and the bearer token; a session cookie (dashboard login) or EST's HTTP Basic are
 * further kinds registered the same way (`AuthRegistry.define`).
 */

/** Who is calling, once authenticated. */
export interface Principal {
  /** The credential kind: `client-certificate`, `bearer`, … */
  method: string;
  /** Stable id of the credential: certificate fingerprint, token id, … */
  id: string;
  /** The requester written into the audit log and checked by profiles (`admin:cert:<fp>`). */
  requester: string;
  /** The client certificate's subject (RFC 4514), for certificate credentials. */
  subject?: string;
}

/**
 * One kind of credential. `authenticate` returns the principal, `undefined` when the request does
 * not carry this kind of credential at all, or throws a `ServerError` (`bad-credential`,
 * `client-certificate-rejected`) when it carries one that is not valid.
 */
export interface Authenticator {
  readonly method: string;
  /**
   * `deny` (default): an invalid credential of this kind refuses the request even when another
   * credential is valid (a wrong token was sent on purpose). `ignore`: an invalid one is passed
   * over when another credential authenticates — client certificates, since a browser may
   * present an unrelated certificate it holds.
   */
  readonly onInvalid?: 'deny' | 'ignore';
  authenticate(req: FastifyRequest): Principal | undefined | Promise<Principal | undefined>;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The credential set this route needs: `public`, `admin` (the default), or another defined set. */
    auth?: string;
    /** The challenge of a 401 on this route (RFC 9110 §11.6.1); default `Bearer realm="fleetpki"`. */
    wwwAuthenticate?: string;
  }
  interface FastifyRequest {
    /** Set by the authentication hook on every non-public route. */
    principal?: Principal;
  }
}
