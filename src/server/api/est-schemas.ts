/**
 * Single-use EST enrollment credentials (RFC 7030 §3.2.3 HTTP Basic for a device without a
 * bootstrap certificate) as the admin API shows them — the contract the dashboard's enrollment
 * view is written against. The endpoints belong to the EST service (`src/est/`, mounted under
 * `/api/v1/est/`); a service without them answers 404 `not-found` and the dashboard says EST
 * credentials are not available. Same conventions as schemas.ts (zod only, browser-safe).
 *
 * | method and path | what |
 * |---|---|
 * | `GET  /api/v1/est/credentials` | `EstCredentialPage` (newest first, `cursor`) |
 * | `POST /api/v1/est/credentials` | `EstCredentialCreate` → 201 `EstCredentialCreated` (the password, once) |
 * | `POST /api/v1/est/credentials/:username/revoke` | an unused credential can no longer be used → `EstCredential` |
 */
import { z } from 'zod';
import { IsoTime } from './schemas.js';

/** `unused` (can enroll once), `used` (a certificate was issued with it), `expired`, `revoked`. */
export const EstCredentialState = z.enum(['unused', 'used', 'expired', 'revoked']);
export type EstCredentialState = z.infer<typeof EstCredentialState>;

export const EstCredential = z.object({
  /** The HTTP Basic user name (not secret). */
  username: z.string(),
  /** The EST label (RFC 7030 §3.2.2 `/.well-known/est/<label>/…`) it is valid for, if any. */
  label: z.string().optional(),
  /** The subject CN an enrollment with it must ask for, if bound to one. */
  subject: z.string().optional(),
  /** The issuance profile the enrollment uses. */
  profile: z.string().optional(),
  state: EstCredentialState,
  createdAt: IsoTime,
  expiresAt: IsoTime,
  createdBy: z.string(),
  usedAt: IsoTime.optional(),
  /** The certificate issued with it (issuer id and serial). */
  issuer: z.string().optional(),
  serial: z.string().optional(),
});
export type EstCredential = z.infer<typeof EstCredential>;

export const EstCredentialPage = z.object({
  items: z.array(EstCredential),
  nextCursor: z.string().optional(),
});
export type EstCredentialPage = z.infer<typeof EstCredentialPage>;

/** `POST /api/v1/est/credentials`. */
export const EstCredentialCreate = z.strictObject({
  label: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/)
    .optional(),
  subject: z.string().min(1).max(64).optional(),
  /** How long it can be used (default the service's; at most 30 days). */
  validityHours: z
    .number()
    .int()
    .min(1)
    .max(30 * 24)
    .optional(),
});
export type EstCredentialCreate = z.infer<typeof EstCredentialCreate>;

/** The new credential with its password — shown once, stored only as a hash. */
export const EstCredentialCreated = EstCredential.extend({ password: z.string() });
export type EstCredentialCreated = z.infer<typeof EstCredentialCreated>;
