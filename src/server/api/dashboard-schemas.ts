/**
 * The dashboard's session endpoints (outside `/api/v1`, see src/server/dashboard/): a browser
 * exchanges the admin bearer token for a session cookie, then reads the session's CSRF token.
 * Same conventions as schemas.ts (zod only, importable by the browser bundle).
 *
 * | method and path | credential | what |
 * |---|---|---|
 * | `POST /session` | none (the token is in the body) | log in: sets the `__Host-fleetpki-session` cookie, answers `SessionInfo` |
 * | `GET /session` | admin (cookie, client certificate or bearer) | `SessionInfo` of the caller |
 * | `DELETE /session` | the session cookie + `X-CSRF-Token` | log out: forgets the session, clears the cookie |
 */
import { z } from 'zod';
import { IsoTime } from './schemas.js';

/** The request header carrying the session's CSRF token on every state-changing request. */
export const CSRF_HEADER = 'x-csrf-token';

/** `POST /session`. */
export const LoginRequest = z.strictObject({
  /** The admin bearer token (`fpk_<id>_<secret>`, from `DATA/admin/token`). */
  token: z.string().min(1).max(200),
});
export type LoginRequest = z.infer<typeof LoginRequest>;

/** `POST /session` and `GET /session`: who is logged in and what a state-changing request must carry. */
export const SessionInfo = z.object({
  /** `session` for a cookie login; `client-certificate` or `bearer` when the browser used those. */
  method: z.string(),
  /** The requester written into the audit log (`admin:token:<id>`, `admin:cert:<fp>`). */
  requester: z.string(),
  /** The client certificate's subject, for `client-certificate`. */
  subject: z.string().optional(),
  /** For `session`: send it as `X-CSRF-Token` on every POST/PUT/PATCH/DELETE. */
  csrfToken: z.string().optional(),
  /** For `session`: when the session ends at the latest (idle sessions end earlier). */
  expiresAt: IsoTime.optional(),
  /** For `session`: an idle session ends this many seconds after its last request. */
  idleTimeoutSeconds: z.number().int().optional(),
  /** Optional parts of the admin API this service has, so the page asks only for what exists. */
  features: z.object({
    /** The EST credential endpoints (est-schemas.ts). */
    estCredentials: z.boolean(),
  }),
});
export type SessionInfo = z.infer<typeof SessionInfo>;
