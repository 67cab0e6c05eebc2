import type { SerialStatus } from '../../revocation/status-source.js';
import type { CRLReason } from '../../x509/extensions/types.js';

/**
 * The CA's storage contract: one interface, two implementations (SQLite by default, PostgreSQL
 * when several `fleetpki serve` instances share the load), one test suite run against both.
 *
 * Everything the CA must never get wrong is an invariant of the database itself, not only of the
 * code that calls it, so that several processes on one store cannot break it:
 * - UNIQUE (issuer_id, serial): a serial is reserved at most once per issuer;
 * - a certificate row is created as a `reserved` row (serial + proposed TBSCertificate) before the
 *   signature is made, and becomes `issued` with its final DER; there is no issued certificate
 *   without its reservation (the same row moves state; a CHECK ties `der` to the state);
 * - CRL numbers are strictly increasing per issuer across instances (RFC 5280 §5.2.3): they come
 *   from an atomic increment in the store;
 * - the audit log is append-only and hash-chained; appends are serialised by the store, so the
 *   chain has no forks even with several writers.
 *
 * Every method is async: the SQLite implementation may batch writes of concurrent callers into one
 * durable transaction (group commit); the PostgreSQL one talks to the network. A method resolves
 * only after its write is durable (SQLite WAL with `synchronous=FULL`; PostgreSQL commit).
 *
 * Serials are in `serialKey` form (lower-case hex, no leading 00 sign octet), as everywhere in
 * revocation/. Times are epoch milliseconds. Binary values are `Uint8Array`.
 *
 * Audit records given with a write are appended, in the same transaction, only when the write
 * changes something (`created`, `added`, a status that differs, a completed or voided reservation,
 * `revoked`, `released`): an outcome that leaves the store as it was (`exists`, `duplicate`,
 * `already-revoked`, `not-issued`, a void of a row that is not reserved) appends nothing, and the
 * caller records the refusal itself with `appendAudit` if it wants one.
 *
 * The database refuses UPDATE and DELETE on the audit table (triggers): a test that edits a record
 * to see `audit verify` fail drops `audit_no_update` first (SQLite: `DROP TRIGGER`; PostgreSQL:
 * `ALTER TABLE audit DISABLE TRIGGER audit_no_update`).
 *
 * `unavailable` from a write means it may or may not have committed when the connection broke
 * during the commit (PostgreSQL): after `complete` fails so, read the row back before answering.
 *
 * Refinements made while implementing it (SQLite and PostgreSQL in `sqlite.ts`, `postgres.ts`):
 * - `backup(path)` is on the interface (SQLite's online backup; PostgreSQL → `unsupported`);
 * - `IssuerRecord.lastCrlNumber` seeds and reports the issuer's CRL counter (an imported CA or a
 *   migrated CLI directory continues its numbering, RFC 5280 §5.2.3);
 * - error codes `unknown-issuer` and `bad-input` (malformed serial, cursor, sizes);
 * - `complete` checks that `der` carries exactly the reserved TBSCertificate and that `fingerprint`
 *   is its SHA-256: the certificate stored is the one that passed policy, or `constraint`;
 * - `saveCrl` keeps the most recent CRLs of each issuer (`CRLS_KEPT`), not every one ever made.
 */
export interface Store {
  /** `sqlite` or `postgres`: what is behind it (for metrics and `backup`). */
  readonly kind: StoreKind;
  /** Releases connections and stops background work; pending writes are flushed first. */
  close(): Promise<void>;
  /**
   * Writes a consistent copy of the whole store to `path` while other writers go on (SQLite's
   * online backup API: one read snapshot). The copy is written beside `path` and renamed into
   * place when complete. PostgreSQL: `StoreError('unsupported')` — use `pg_dump`.
   */
  backup(path: string): Promise<void>;

  // ---- hierarchy --------------------------------------------------------------------------------

  /**
   * Records the first hierarchy (root and intermediates) if the store has none yet, atomically:
   * of several concurrent callers exactly one gets `created`, the others `exists` (and must then
   * use what is stored — `ca init` twice on one directory, or two first starts of `serve`).
   */
  initHierarchy(issuers: readonly IssuerRecord[], audit: AuditEvent): Promise<'created' | 'exists'>;
  /** Adds an issuer (an imported CA, a rotated intermediate). `duplicate` when the id is taken. */
  addIssuer(issuer: IssuerRecord, audit: AuditEvent): Promise<'added' | 'duplicate'>;
  /** Changes an issuer's status (rotation: `active` → `retiring` → `retired`). */
  setIssuerStatus(id: string, status: IssuerStatus, audit: AuditEvent): Promise<void>;
  listIssuers(): Promise<IssuerRecord[]>;

  // ---- issuance ---------------------------------------------------------------------------------

  /**
   * Reserves `serialHex` for the proposed certificate (no audit record: the issuance's record comes
   * with `complete` or `voidReservation`). `serial-taken` when the issuer already has
   * that serial (the caller draws another), `request-exists` when `requestId` was used before
   * (idempotent retries: the caller then looks the request up with `findByRequestId`).
   */
  reserve(r: Reservation): Promise<'reserved' | 'serial-taken' | 'request-exists'>;
  /**
   * Stores the signed certificate for a reservation (state `reserved` → `issued`) together with
   * its audit record, in one transaction. Throws `StoreError('not-reserved')` when the row is not
   * in state `reserved` (already completed, or voided by recovery), `StoreError('constraint')` when
   * `der` does not contain the reserved TBSCertificate or `fingerprint` is not its SHA-256.
   */
  complete(c: Completion, audit: AuditEvent): Promise<void>;
  /** Abandons a reservation (`reserved` → `void`), with its audit record; no-op when not reserved. */
  voidReservation(issuerId: string, serialHex: string, audit: AuditEvent): Promise<void>;
  /**
   * Reservations still `reserved` that were made before `before`: after a crash, the recovery pass
   * voids each (no client can hold a certificate that was never stored, so none may become `good`).
   */
  unresolvedReservations(before: number, limit: number): Promise<Reservation[]>;

  getCertificate(issuerId: string, serialHex: string): Promise<CertificateRecord | undefined>;
  /** Every issuer's certificate with that serial (serials are random, so normally one). */
  findBySerial(serialHex: string): Promise<CertificateRecord[]>;
  findByRequestId(requestId: string): Promise<CertificateRecord | undefined>;
  /**
   * Searches certificates with keyset (cursor) pagination: the cost of a page does not grow with
   * its depth, so page 10 000 of 1 M rows is as fast as page 1.
   */
  findCertificates(q: CertificateQuery): Promise<CertificatePage>;
  /**
   * Counts by status at `now`, issued certificates per issuer, certificates (valid, not revoked)
   * expiring per UTC day in [now, expiringUntil), and issued per hour over the 7 days before `now`
   * (the dashboard's charts). Served from counters the database maintains, so it costs the same at
   * 1 M certificates as at 10. `expiringUntil` lies at most 3660 days after `now` (`bad-input`).
   */
  statistics(now: number, expiringUntil: number): Promise<CertificateStatistics>;

  // ---- revocation -------------------------------------------------------------------------------

  /**
   * Revokes an issued certificate with its audit record, in one transaction. `already-revoked`
   * leaves the first revocation as it is, except that certificateHold may be escalated to another
   * reason (RFC 5280 §5.3.1: then `revoked`, keeping the hold's revocation time); `not-issued` for a
   * serial that is not an issued certificate. `removeFromCRL` is not a revocation reason here
   * (`bad-input`): a hold is lifted with `releaseHold`.
   */
  revoke(
    issuerId: string,
    serialHex: string,
    r: RevocationInfo,
    audit: AuditEvent,
  ): Promise<'revoked' | 'already-revoked' | 'not-issued'>;
  /** Releases a certificateHold: the certificate is good again. */
  releaseHold(
    issuerId: string,
    serialHex: string,
    audit: AuditEvent,
  ): Promise<'released' | 'not-on-hold' | 'not-issued'>;
  /**
   * The status the OCSP responder serves: `good`/`revoked` for issued certificates, `undefined`
   * for a serial that is not an issued certificate (never issued, still reserved, or void).
   */
  status(issuerId: string, serialHex: string): Promise<SerialStatus | undefined>;
  /**
   * Every revoked certificate of the issuer (on hold included) for its next CRL, ascending by serial
   * as a number.
   */
  revokedEntries(issuerId: string): Promise<RevokedRow[]>;
  /**
   * Status changes (revocations, releases) after `afterSeq`, ascending by `seq`: each instance
   * polls this to drop cached OCSP answers that another instance made stale. A change may commit
   * out of `seq` order on PostgreSQL; callers re-read a small window behind their last `seq`.
   */
  statusChanges(afterSeq: number, limit: number): Promise<StatusChange[]>;

  // ---- CRLs -------------------------------------------------------------------------------------

  /** The next CRL number of the issuer: an atomic increment, strictly increasing across instances. */
  nextCrlNumber(issuerId: string): Promise<bigint>;
  /**
   * Stores a CRL signed with a number `nextCrlNumber` gave out (`constraint` otherwise, or when
   * that number is already stored); only the `CRLS_KEPT` highest numbers per issuer are kept.
   */
  saveCrl(crl: CrlRecord): Promise<void>;
  /** The stored CRL with the highest number (saves may arrive out of order across instances). */
  latestCrl(issuerId: string): Promise<CrlRecord | undefined>;

  // ---- audit ------------------------------------------------------------------------------------

  /** Appends audit records (hash-chained by the store, in order) and returns them as stored. */
  appendAudit(events: readonly AuditEvent[]): Promise<AuditRecord[]>;
  /** Audit records with `seq` > `afterSeq`, ascending, at most `limit`. */
  readAudit(afterSeq: number, limit: number): Promise<AuditRecord[]>;

  // ---- manual approval (added by the Authority: profiles with `approval: manual`) ----------------

  /**
   * Records an issuance request that waits for an administrator, with its audit record.
   * `exists` when a request with that id is stored already (a retried request: the caller reads it).
   */
  addPending(p: PendingRequest, audit: AuditEvent): Promise<'added' | 'exists'>;
  getPending(id: string): Promise<PendingRequest | undefined>;
  /** Requests in `state` (default `pending`), oldest first, after the cursor `afterId` (keyset pagination). */
  listPending(q: { state?: PendingState; limit: number; afterId?: string }): Promise<PendingRequest[]>;
  /**
   * Decides a pending request (`pending` → `approved` | `rejected`) with its audit record, atomically:
   * of two concurrent decisions exactly one gets `decided`, the other `not-pending`.
   */
  decidePending(id: string, d: PendingDecision, audit: AuditEvent): Promise<'decided' | 'not-pending'>;

  // ---- small settings ---------------------------------------------------------------------------

  getSetting(key: string): Promise<string | undefined>;
  setSetting(key: string, value: string): Promise<void>;
}

export type StoreKind = 'sqlite' | 'postgres';

export type PendingState = 'pending' | 'approved' | 'rejected';

/** An issuance request held for manual approval. */
export interface PendingRequest {
  /** The request's `requestId` when it has one (so a retried request finds it), else random. */
  id: string;
  state: PendingState;
  profile: string;
  requester: string;
  /** The CSR, DER (verified and policy-checked when it was stored). */
  csr: Uint8Array;
  /** Subject (RFC 4514) and SAN entries, for listing. */
  subject: string;
  sans: readonly string[];
  /** Validity asked for, in days (undefined: the profile's default). */
  validityDays?: number;
  createdAt: number;
  decidedBy?: string;
  decidedAt?: number;
  /** Why it was rejected. */
  reason?: string;
}

export interface PendingDecision {
  state: 'approved' | 'rejected';
  by: string;
  at: number;
  reason?: string;
}

/** `active` issues; `retiring` no longer issues but still signs its CRL and OCSP; `retired` neither. */
export type IssuerStatus = 'active' | 'retiring' | 'retired';

export interface IssuerRecord {
  /** Short stable id used in URLs (`/crl/<id>.crl`) and records, e.g. `root`, `devices-1`. */
  id: string;
  role: 'root' | 'intermediate';
  /** The issuer that signed this CA certificate (undefined for a root). */
  parentId?: string;
  status: IssuerStatus;
  /** The CA certificate, DER. */
  certificate: Uint8Array;
  /** Where its private key is: never the key itself. */
  key: KeyReference;
  createdAt: number;
  /**
   * The last CRL number used. Given to `initHierarchy`/`addIssuer`, it seeds the counter (an
   * imported CA continues its numbering; default 0); read back, it is the counter's current value.
   */
  lastCrlNumber?: bigint;
}

export type KeyReference =
  /** An encrypted PKCS#8 PEM file, relative to the data directory (or absolute). */
  | { kind: 'file'; path: string }
  /** A key on a PKCS#11 token (RFC 7512 URI; the PIN comes from the environment, never the store). */
  | { kind: 'pkcs11'; uri: string };

export interface Reservation {
  issuerId: string;
  serialHex: string;
  /** Issuance profile name. */
  profile: string;
  /** Subject, RFC 4514 text. */
  subject: string;
  /** subjectAltName entries as `dns:…`, `ip:…`, `uri:…`, `email:…`. */
  sans: readonly string[];
  notBefore: number;
  notAfter: number;
  /** The TBSCertificate about to be signed. */
  tbs: Uint8Array;
  /** Who asked (an admin identity, an EST credential, a claim certificate…). */
  requester: string;
  /** Client-chosen idempotency key (EST/provisioning request id); unique across the store. */
  requestId?: string;
  reservedAt: number;
}

export interface Completion {
  issuerId: string;
  serialHex: string;
  /** The signed certificate, DER. */
  der: Uint8Array;
  /** SHA-256 of `der`, lower-case hex. */
  fingerprint: string;
  issuedAt: number;
}

export type CertificateState = 'reserved' | 'issued' | 'void';

export interface RevocationInfo {
  time: number;
  reason: CRLReason;
  invalidityDate?: number;
}

export interface CertificateRecord {
  issuerId: string;
  serialHex: string;
  state: CertificateState;
  profile: string;
  subject: string;
  sans: readonly string[];
  notBefore: number;
  notAfter: number;
  requester: string;
  requestId?: string;
  reservedAt: number;
  /** Present once `issued`. */
  der?: Uint8Array;
  fingerprint?: string;
  issuedAt?: number;
  /** Present while revoked (a released hold removes it). */
  revocation?: RevocationInfo;
}

/**
 * What the dashboard and the admin API filter on; `status` is derived at `now` for `issued`
 * certificates, revocation first: `revoked` (any reason but certificateHold), `hold`, then
 * `expired` (notAfter < now, RFC 5280 §4.1.2.5: notAfter itself is still valid), else `valid`.
 */
export type CertificateStatus = 'valid' | 'revoked' | 'hold' | 'expired';

export interface CertificateQuery {
  issuerId?: string;
  profile?: string;
  /** Implies state `issued`. */
  status?: CertificateStatus;
  /** Case-insensitive prefix of the subject's RFC 4514 text or of its CN. */
  subject?: string;
  /**
   * An exact subjectAltName entry (`dns:device-1.example`) or, ending in `*`, a prefix of one;
   * compared case-insensitively.
   */
  san?: string;
  /** A serial (hex) or its prefix. */
  serial?: string;
  /** notAfter in [expiresFrom, expiresTo). */
  expiresFrom?: number;
  expiresTo?: number;
  /** Only `issued` certificates are listed unless this includes the others. */
  states?: readonly CertificateState[];
  /** Default `issuedAt` (reservation time for rows not issued), `desc`. */
  sort?: 'notAfter' | 'issuedAt';
  order?: 'asc' | 'desc';
  /** Page size (the store caps it, e.g. 500). */
  limit: number;
  /** Opaque cursor from the previous page (made for the same sort and order, else `bad-input`). */
  cursor?: string;
  /** The clock `status` is evaluated against (default: now). */
  now?: number;
}

export interface CertificatePage {
  items: CertificateRecord[];
  /** Absent on the last page. */
  nextCursor?: string;
}

export interface CertificateStatistics {
  byStatus: Record<CertificateStatus, number>;
  /** Issued certificates (any status) per issuer id. */
  byIssuer: Record<string, number>;
  /** Certificates (valid, not revoked) whose notAfter falls on each UTC day, `YYYY-MM-DD` → count. */
  expiringPerDay: Record<string, number>;
  /** Issued per UTC hour over the last 7 days, `YYYY-MM-DDTHH` → count. */
  issuedPerHour: Record<string, number>;
}

export interface RevokedRow {
  serialHex: string;
  revocationTime: number;
  reason: CRLReason;
  invalidityDate?: number;
}

export interface StatusChange {
  seq: number;
  issuerId: string;
  serialHex: string;
}

export interface CrlRecord {
  issuerId: string;
  crlNumber: bigint;
  thisUpdate: number;
  nextUpdate: number;
  der: Uint8Array;
}

/** An audit record as the caller gives it. */
export interface AuditEvent {
  time: number;
  /** Who: `admin:cert:<fingerprint>`, `admin:token:<id>`, `est:<username>`, `cli:<user>`, `system`. */
  actor: string;
  /** What: `issue`, `revoke`, `release-hold`, `crl`, `init`, `import-issuer`, `rotate`, `recover`, … */
  action: string;
  /** `ok`, or `refused:<code>` / `failed:<code>`. */
  result: string;
  /** The certificate concerned (issuer id + serial) and its SHA-256 fingerprint, when there is one. */
  issuerId?: string;
  serialHex?: string;
  fingerprint?: string;
  /** Any further detail (profile, subject, reason…): small, JSON-serialisable, no secrets. */
  detail?: Record<string, unknown>;
}

/** An audit record as stored: `hash` = auditHash(prevHash, record) (see `ca/audit-hash.ts`). */
export interface AuditRecord extends AuditEvent {
  seq: number;
  prevHash: string;
  hash: string;
}

export type StoreErrorCode =
  /** The store's schema is newer than this program (refuses to run against it). */
  | 'schema-too-new'
  /** `complete` on a row that is not `reserved`. */
  | 'not-reserved'
  /** The issuer id is not in the store. */
  | 'unknown-issuer'
  /** An argument is malformed: a serial not in `serialKey` form, a foreign cursor, an oversize value. */
  | 'bad-input'
  /** The database cannot be opened or reached. */
  | 'unavailable'
  /** A constraint the store enforces was violated (a bug in the caller, or a concurrent writer). */
  | 'constraint'
  /** The operation is not offered by this kind of store (e.g. `backup` on PostgreSQL). */
  | 'unsupported'
  /** `openStore` was given a URL it does not understand. */
  | 'bad-url';

export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
