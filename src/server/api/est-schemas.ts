import { z } from 'zod';

/**
 * The admin API's EST shapes (`/api/v1/est/…`), next to schemas.ts: single-use enrollment
 * credentials (RFC 7030 §3.2.3 HTTP Basic) and the labels the service serves. Requests held for
 * approval are the ordinary `/api/v1/requests` (an EST enrollment under a profile with manual
 * approval answers the device 202 until an administrator approves it there).
 */

/** `POST /api/v1/est/credentials`: a new single-use credential. */
export const EstCredentialRequest = z.strictObject({
  /** The EST label (default `default`). */
  label: z.string().min(1).max(64).optional(),
  /** The only commonName it may enroll. */
  subject: z.string().min(1).max(256).optional(),
  /** Lifetime; default the label's `tokenValidityHours`. */
  validityHours: z
    .number()
    .int()
    .min(1)
    .max(366 * 24)
    .optional(),
});
export type EstCredentialRequest = z.infer<typeof EstCredentialRequest>;

/** The new credential: `username:password` is shown this once (the store keeps a hash). */
export const EstCredentialCreated = z.object({
  username: z.string(),
  password: z.string(),
  label: z.string(),
  subject: z.string().optional(),
  expiresAt: z.string(),
});
export type EstCredentialCreated = z.infer<typeof EstCredentialCreated>;

/** A credential as listed (never its secret). */
export const EstCredentialInfo = z.object({
  username: z.string(),
  label: z.string(),
  subject: z.string().optional(),
  createdAt: z.string(),
  expiresAt: z.string(),
  createdBy: z.string(),
  state: z.enum(['unused', 'used', 'expired']),
  usedAt: z.string().optional(),
});
export type EstCredentialInfo = z.infer<typeof EstCredentialInfo>;

/** `GET /api/v1/est/credentials?limit&after`. */
export const EstCredentialListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  after: z.string().min(1).max(64).optional(),
});

export const EstCredentialList = z.object({
  items: z.array(EstCredentialInfo),
  /** The `after` of the next page; absent on the last. */
  next: z.string().optional(),
});
export type EstCredentialList = z.infer<typeof EstCredentialList>;

/** `GET /api/v1/est/labels`: what each label serves and accepts. */
export const EstLabelInfo = z.object({
  name: z.string(),
  /** `/.well-known/est` or `/.well-known/est/<label>`. */
  path: z.string(),
  profile: z.string(),
  issuer: z.string(),
  credentials: z.array(z.enum(['bootstrap', 'token', 'device'])),
  subject: z.string(),
  bootstrapSubject: z.string(),
  /** Subjects of the bootstrap (manufacturing) CAs trusted, and whether each has a CRL. */
  bootstrapCas: z.array(z.object({ subject: z.string(), crl: z.boolean() })),
  channelBinding: z.enum(['off', 'require']),
  serverKeygen: z.enum(['on', 'off']),
  approval: z.enum(['auto', 'manual']),
});
export type EstLabelInfo = z.infer<typeof EstLabelInfo>;
