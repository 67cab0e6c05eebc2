/**
 * The admin API's wire format (`/api/v1/…`, JSON): every request and response shape as a zod
 * schema, with the TypeScript type inferred from it — the single contract between the service
 * (src/server/api/) and its clients (the dashboard, scripts). The service validates every request
 * with these schemas; its tests validate every response.
 *
 * This module imports nothing but zod (and types), so a browser bundle can use it as is.
 *
 * Conventions:
 * - times are ISO 8601 UTC strings (`2026-12-05T10:00:00.000Z`) in responses; requests accept the
 *   same (any `Date.parse`-able ISO form);
 * - serials are lower-case hex without a leading 00 sign octet (`Certificate.serialHex`); requests
 *   may use upper case and colons;
 * - CRL numbers are decimal strings (they may exceed 2^53, RFC 5280 §5.2.3);
 * - lists are pages: `{ items, nextCursor? }` — pass `cursor=<nextCursor>` for the next page;
 * - errors are RFC 9457 `application/problem+json` (`Problem`), `code` being stable API.
 *
 * Versioning: additions (optional fields, new endpoints) keep `/api/v1`; renaming or removing a
 * field or changing its type would be `/api/v2`.
 */
import { z } from 'zod';

// ---- building blocks -----------------------------------------------------------------------------

/** An ISO 8601 time string. */
export const IsoTime = z.iso.datetime({ offset: true });

const serialText = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[0-9a-fA-F:]+$/, 'a serial number in hex (colons allowed)');

const issuerId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z][a-z0-9-]*$/, 'an issuer id');

const profileName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z][a-z0-9-]*$/, 'a profile name');

/** An integer in a query string (`?limit=50`). */
const queryInt = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** RFC 5280 §5.3.1 reasons a revocation may give (removeFromCRL is for delta CRLs only). */
export const REVOCATION_REASON_NAMES = [
  'unspecified',
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'certificateHold',
  'privilegeWithdrawn',
  'aACompromise',
] as const;
export const RevocationReason = z.enum(REVOCATION_REASON_NAMES);
export type RevocationReason = z.infer<typeof RevocationReason>;

/** `valid`, `revoked` (any reason but certificateHold), `hold`, `expired` — evaluated now. */
export const CertificateStatus = z.enum(['valid', 'revoked', 'hold', 'expired']);
export type CertificateStatus = z.infer<typeof CertificateStatus>;

/** Row state: `reserved` (being signed), `issued`, `void` (abandoned reservation). */
export const CertificateState = z.enum(['reserved', 'issued', 'void']);
export type CertificateState = z.infer<typeof CertificateState>;

// ---- errors ----------------------------------------------------------------------------------------

/**
 * RFC 9457 problem details. `code` is one of the documented codes (src/server/errors.ts:
 * the Authority's `CaErrorCode`s, the store's, and the service's own such as `unauthorized`,
 * `bad-credential`, `client-certificate-rejected`, `body-too-large`, `bad-request`).
 */
export const Problem = z.object({
  /** `urn:fleetpki:error:<code>`. */
  type: z.string(),
  title: z.string(),
  status: z.number().int().min(400).max(599),
  /** What went wrong, for a human (absent for internal errors: see the service log). */
  detail: z.string().optional(),
  code: z.string(),
  /** The request id, also in the service log. */
  instance: z.string().optional(),
  /** The profile rule that refused a request, with its RFC section. */
  rule: z.string().optional(),
  section: z.string().optional(),
  /** Config errors and invalid request fields: where (`profile`, `csr`, `query.limit`). */
  path: z.string().optional(),
  /** For `client-certificate-rejected`: the path validation's reason (`unknown-issuer`, `expired`, …). */
  verifyCode: z.string().optional(),
  /** For `lint-failed`: what the linter found. */
  findings: z.array(z.object({ code: z.string(), severity: z.string(), message: z.string() })).optional(),
});
export type Problem = z.infer<typeof Problem>;

// ---- who is calling --------------------------------------------------------------------------------

/** `GET /api/v1/whoami`: the authenticated principal. */
export const WhoAmI = z.object({
  /** How the caller authenticated: `client-certificate`, `bearer` (later also `session`). */
  method: z.string(),
  /** A stable id: the certificate's SHA-256 fingerprint, the token id, … */
  id: z.string(),
  /** The requester string written into the audit log (`admin:cert:<fp>`, `admin:token:<id>`). */
  requester: z.string(),
  /** The client certificate's subject, for `client-certificate`. */
  subject: z.string().optional(),
});
export type WhoAmI = z.infer<typeof WhoAmI>;

// ---- certificates ----------------------------------------------------------------------------------

export const RevocationInfo = z.object({
  time: IsoTime,
  reason: RevocationReason,
  invalidityDate: IsoTime.optional(),
});
export type RevocationInfo = z.infer<typeof RevocationInfo>;

/** One stored certificate (a search result row). */
export const CertificateSummary = z.object({
  issuer: z.string(),
  serial: z.string(),
  state: CertificateState,
  /** For `issued` rows; absent for `reserved`/`void`. */
  status: CertificateStatus.optional(),
  profile: z.string(),
  /** RFC 4514 text. */
  subject: z.string(),
  /** `dns:…`, `ip:…`, `uri:…`, `email:…`. */
  sans: z.array(z.string()),
  notBefore: IsoTime,
  notAfter: IsoTime,
  requester: z.string(),
  requestId: z.string().optional(),
  issuedAt: IsoTime.optional(),
  /** SHA-256 of the DER, lower-case hex. */
  fingerprint: z.string().optional(),
  revocation: RevocationInfo.optional(),
});
export type CertificateSummary = z.infer<typeof CertificateSummary>;

/** What the certificate itself says (decoded from its DER). */
export const DecodedCertificate = z.object({
  version: z.number().int(),
  serial: z.string(),
  subject: z.string(),
  issuer: z.string(),
  notBefore: IsoTime,
  notAfter: IsoTime,
  /** e.g. `EC P-256`, `RSA 2048`, `Ed25519`. */
  publicKey: z.string(),
  signatureAlgorithm: z.string(),
  subjectAltName: z.array(z.string()),
  keyUsage: z.array(z.string()).optional(),
  extKeyUsage: z.array(z.string()).optional(),
  isCA: z.boolean(),
  crlDistributionPoints: z.array(z.string()),
  ocsp: z.array(z.string()),
  /** Every extension: OID, name when known, critical flag. */
  extensions: z.array(z.object({ oid: z.string(), name: z.string().optional(), critical: z.boolean() })),
});
export type DecodedCertificate = z.infer<typeof DecodedCertificate>;

/** `GET /api/v1/certificates/:serial` (JSON). */
export const CertificateDetail = CertificateSummary.extend({
  /** The certificate, PEM (issued rows only). */
  pem: z.string().optional(),
  /** The issuing CA's chain, PEM, issuer first, root last. */
  chainPem: z.string().optional(),
  decoded: DecodedCertificate.optional(),
});
export type CertificateDetail = z.infer<typeof CertificateDetail>;

/** `GET /api/v1/certificates` query. */
export const CertificateListQuery = z.strictObject({
  /** Case-insensitive prefix of the subject's RFC 4514 text or of its CN. */
  subject: z.string().min(1).max(256).optional(),
  /** An exact SAN entry (`dns:device-1.example`) or a prefix ending in `*`. */
  san: z.string().min(1).max(256).optional(),
  /** A serial or its prefix (hex). */
  serial: serialText.optional(),
  status: CertificateStatus.optional(),
  profile: profileName.optional(),
  issuer: issuerId.optional(),
  /** notAfter in [expiresAfter, expiresBefore). */
  expiresAfter: IsoTime.optional(),
  expiresBefore: IsoTime.optional(),
  /** Include `reserved` and `void` rows too (`issued` only by default). */
  state: z.enum(['issued', 'all']).default('issued'),
  sort: z.enum(['issuedAt', 'notAfter']).default('issuedAt'),
  order: z.enum(['asc', 'desc']).default('desc'),
  limit: queryInt(1, 500).default(50),
  cursor: z.string().min(1).max(1024).optional(),
});
export type CertificateListQuery = z.infer<typeof CertificateListQuery>;

export const CertificatePage = z.object({
  items: z.array(CertificateSummary),
  nextCursor: z.string().optional(),
});
export type CertificatePage = z.infer<typeof CertificatePage>;

/** `GET /api/v1/certificates/:serial` query: `format` (or the Accept header) picks the representation. */
export const CertificateGetQuery = z.strictObject({
  issuer: issuerId.optional(),
  /** `json` (default, `CertificateDetail`), `pem` (application/x-pem-file), `der` (application/pkix-cert). */
  format: z.enum(['json', 'pem', 'der']).optional(),
});
export type CertificateGetQuery = z.infer<typeof CertificateGetQuery>;

/** `POST /api/v1/certificates`: issue from a CSR. */
export const IssueRequest = z.strictObject({
  /** PKCS#10 request: PEM text, or base64 of its DER. */
  csr: z.string().min(1).max(65_536),
  profile: profileName,
  /** ≤ the profile's maxValidityDays; default the profile's validity. */
  validityDays: z.number().int().min(1).max(36_500).optional(),
  /** Idempotency key: a retry with the same id returns the certificate issued the first time. */
  requestId: z.string().min(1).max(128).optional(),
});
export type IssueRequest = z.infer<typeof IssueRequest>;

/** `POST /api/v1/certificates` answer: 201 issued, or 202 held for manual approval. */
export const IssueResponse = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('issued'),
    certificate: CertificateSummary,
    /** The new certificate, PEM. */
    pem: z.string(),
    /** The issuing CA then the ones above it, root last, PEM. */
    chainPem: z.string(),
    /** A retried requestId returned the earlier certificate. */
    replayed: z.boolean(),
  }),
  z.object({ status: z.literal('pending'), pendingId: z.string(), profile: z.string() }),
]);
export type IssueResponse = z.infer<typeof IssueResponse>;

/** `POST /api/v1/certificates/:serial/revoke`. */
export const RevokeRequest = z.strictObject({
  reason: RevocationReason,
  /** RFC 5280 §5.3.2: when the key was (suspected to be) compromised. */
  invalidityDate: IsoTime.optional(),
  /** Needed only when the serial exists under several issuers. */
  issuer: issuerId.optional(),
});
export type RevokeRequest = z.infer<typeof RevokeRequest>;

export const RevokeResponse = z.object({
  issuer: z.string(),
  serial: z.string(),
  reason: RevocationReason,
  revocationTime: IsoTime,
});
export type RevokeResponse = z.infer<typeof RevokeResponse>;

/** `POST /api/v1/certificates/:serial/release-hold`: un-hold a certificateHold. */
export const ReleaseHoldRequest = z.strictObject({ issuer: issuerId.optional() });
export type ReleaseHoldRequest = z.infer<typeof ReleaseHoldRequest>;

/** `POST /api/v1/certificates/:serial/release-hold` answer: the certificate as it is now. */
export const ReleaseHoldResponse = CertificateSummary;
export type ReleaseHoldResponse = z.infer<typeof ReleaseHoldResponse>;

// ---- manual approval -------------------------------------------------------------------------------

export const PendingRequest = z.object({
  id: z.string(),
  state: z.enum(['pending', 'approved', 'rejected']),
  profile: z.string(),
  requester: z.string(),
  subject: z.string(),
  sans: z.array(z.string()),
  validityDays: z.number().int().optional(),
  createdAt: IsoTime,
  decidedBy: z.string().optional(),
  decidedAt: IsoTime.optional(),
  reason: z.string().optional(),
});
export type PendingRequest = z.infer<typeof PendingRequest>;

/** `GET /api/v1/requests` query (oldest first; `cursor` = the last id seen). */
export const PendingListQuery = z.strictObject({
  state: z.enum(['pending', 'approved', 'rejected']).default('pending'),
  limit: queryInt(1, 500).default(50),
  cursor: z.string().min(1).max(256).optional(),
});
export type PendingListQuery = z.infer<typeof PendingListQuery>;

export const PendingPage = z.object({ items: z.array(PendingRequest), nextCursor: z.string().optional() });
export type PendingPage = z.infer<typeof PendingPage>;

/** `POST /api/v1/requests/:id/reject`. */
export const RejectRequest = z.strictObject({ reason: z.string().max(500).optional() });
export type RejectRequest = z.infer<typeof RejectRequest>;

// ---- CRLs and CAs ----------------------------------------------------------------------------------

export const CrlInfo = z.object({
  issuer: z.string(),
  /** Decimal. */
  crlNumber: z.string(),
  thisUpdate: IsoTime,
  nextUpdate: IsoTime,
  /** Revoked entries listed (present for a CRL published by this request). */
  entries: z.number().int().optional(),
  /** Where it is served (path on this service). */
  path: z.string(),
});
export type CrlInfo = z.infer<typeof CrlInfo>;

/** `POST /api/v1/crl`: publish CRLs now (one issuer's, or every serving issuer's). */
export const CrlPublishRequest = z.strictObject({ issuer: issuerId.optional() });
export type CrlPublishRequest = z.infer<typeof CrlPublishRequest>;

export const CrlPublishResponse = z.object({ published: z.array(CrlInfo) });
export type CrlPublishResponse = z.infer<typeof CrlPublishResponse>;

/** A CA of the hierarchy as the admin API shows it. */
export const CaInfo = z.object({
  id: z.string(),
  /** Rotation keeps the lineage (`issuing`, then `issuing-g2`, …). */
  lineage: z.string(),
  role: z.enum(['root', 'intermediate']),
  parentId: z.string().optional(),
  /** `active` issues; `retiring` only publishes CRL/OCSP; `retired` neither. */
  status: z.enum(['active', 'retiring', 'retired']),
  /** The CA `/ca/chain.pem` serves first. */
  isDefault: z.boolean(),
  subject: z.string(),
  serial: z.string(),
  notBefore: IsoTime,
  notAfter: IsoTime,
  keyAlgorithm: z.string(),
  keyStorage: z.enum(['file', 'pkcs11']),
  fingerprint: z.string(),
  pathLenConstraint: z.number().int().optional(),
  nameConstraints: z.object({ permitted: z.array(z.string()), excluded: z.array(z.string()) }).optional(),
  createdAt: IsoTime,
  certificatePem: z.string(),
  /** Its latest CRL (any instance's), if one was published. */
  crl: z
    .object({ crlNumber: z.string(), thisUpdate: IsoTime, nextUpdate: IsoTime, path: z.string() })
    .optional(),
  /** OCSP: whether this CA's certificates are answered at /ocsp (intermediates), and how many
   * responses this instance has sent for every CA together since it started. */
  ocsp: z.object({ served: z.boolean(), responsesSent: z.number().int() }),
  /** Public paths of its chain. */
  chainPath: z.string(),
  /** Issued certificates (any status). */
  issued: z.number().int(),
});
export type CaInfo = z.infer<typeof CaInfo>;

export const CaList = z.object({ items: z.array(CaInfo) });
export type CaList = z.infer<typeof CaList>;

// ---- profiles --------------------------------------------------------------------------------------

/** An issuance profile (policy as data, see src/ca/profiles.ts). */
export const ProfileInfo = z.object({
  name: z.string(),
  description: z.string(),
  issuer: z.string(),
  keyTypes: z.array(z.string()),
  rsaMinBits: z.number().int(),
  rsaMaxBits: z.number().int(),
  subject: z.record(
    z.string(),
    z.object({ required: z.boolean(), pattern: z.string().optional(), maxCount: z.number().int() }),
  ),
  san: z.object({
    required: z.boolean(),
    maxEntries: z.number().int(),
    allow: z.object({
      dns: z.array(z.string()),
      ip: z.array(z.string()),
      uri: z.array(z.string()),
      email: z.array(z.string()),
    }),
  }),
  validityDays: z.number().int(),
  maxValidityDays: z.number().int(),
  keyUsage: z.array(z.string()).optional(),
  extKeyUsage: z.array(z.string()),
  crlDistributionPoints: z.array(z.string()),
  ocsp: z.array(z.string()),
  approval: z.enum(['auto', 'manual']),
  requesters: z.array(z.string()),
  rules: z.object({
    subjectNotIssuer: z.boolean(),
    wildcards: z.enum(['forbid', 'allow']),
    uriSchemes: z.array(z.string()),
    nameConstraints: z.string(),
    commonNameInSan: z.enum(['require', 'off']),
    emptySubject: z.enum(['forbid', 'allow']),
  }),
});
export type ProfileInfo = z.infer<typeof ProfileInfo>;

export const ProfileList = z.object({ items: z.array(ProfileInfo) });
export type ProfileList = z.infer<typeof ProfileList>;

// ---- statistics ------------------------------------------------------------------------------------

/** `GET /api/v1/statistics` query. */
export const StatisticsQuery = z.strictObject({ days: queryInt(1, 366).default(90) });
export type StatisticsQuery = z.infer<typeof StatisticsQuery>;

/** Counts for the dashboard's charts. */
export const Statistics = z.object({
  /** When the counts were taken. */
  at: IsoTime,
  byStatus: z.object({
    valid: z.number().int(),
    revoked: z.number().int(),
    hold: z.number().int(),
    expired: z.number().int(),
  }),
  /** Issued certificates (any status) per issuer id. */
  byIssuer: z.record(z.string(), z.number().int()),
  /** Valid certificates expiring per UTC day `YYYY-MM-DD`, for `days` days from now (days without any are absent). */
  expiringPerDay: z.record(z.string(), z.number().int()),
  /** Issued per UTC hour `YYYY-MM-DDTHH` over the last 7 days. */
  issuedPerHour: z.record(z.string(), z.number().int()),
});
export type Statistics = z.infer<typeof Statistics>;

// ---- audit -----------------------------------------------------------------------------------------

export const AuditRecord = z.object({
  seq: z.number().int(),
  time: IsoTime,
  actor: z.string(),
  action: z.string(),
  /** `ok`, `refused:<code>`, `failed:<code>`. */
  result: z.string(),
  issuer: z.string().optional(),
  serial: z.string().optional(),
  fingerprint: z.string().optional(),
  detail: z.record(z.string(), z.unknown()).optional(),
  prevHash: z.string(),
  hash: z.string(),
});
export type AuditRecord = z.infer<typeof AuditRecord>;

/** `GET /api/v1/audit` query: records after `after` (a seq), ascending. */
export const AuditQuery = z.strictObject({
  after: queryInt(0, Number.MAX_SAFE_INTEGER).default(0),
  limit: queryInt(1, 500).default(100),
});
export type AuditQuery = z.infer<typeof AuditQuery>;

export const AuditPage = z.object({
  items: z.array(AuditRecord),
  /** Pass as `after` for the next page; absent on the last page. */
  nextAfter: z.number().int().optional(),
});
export type AuditPage = z.infer<typeof AuditPage>;

/** `GET /api/v1/audit/verify`: the hash chain checked from the first record. */
export const AuditVerification = z.object({
  ok: z.boolean(),
  records: z.number().int(),
  head: z.object({ seq: z.number().int(), hash: z.string() }).optional(),
  /** When it failed: `hash-mismatch` (edited), `broken-link` (removed/reordered), `seq-gap`. */
  code: z.string().optional(),
  /** The first record that does not fit. */
  seq: z.number().int().optional(),
  message: z.string().optional(),
  checkedAt: IsoTime,
});
export type AuditVerification = z.infer<typeof AuditVerification>;

// ---- public endpoints ------------------------------------------------------------------------------

/** `GET /healthz`. */
export const Health = z.object({
  status: z.enum(['ok', 'closing']),
  store: z.enum(['sqlite', 'postgres']),
  /** Seconds since the service started. */
  uptime: z.number(),
  version: z.string(),
});
export type Health = z.infer<typeof Health>;
