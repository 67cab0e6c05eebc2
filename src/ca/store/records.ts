import type { SerialStatus } from '../../revocation/status-source.js';
import type { CRLReason } from '../../x509/extensions/types.js';
import {
  type AuditRecord,
  type CertificatePage,
  type CertificateRecord,
  type CertificateState,
  type CrlRecord,
  type IssuerRecord,
  type IssuerStatus,
  type KeyReference,
  type PendingRequest,
  type PendingState,
  type Reservation,
  type RevokedRow,
  StoreError,
} from './types.js';

/**
 * Rows ↔ records, shared by both backends: both schemas use the same column names, so a row read
 * from either maps to a `CertificateRecord` here. Also the search keys derived from a reservation
 * (lower-cased subject, CN and SAN entries) and the opaque keyset cursor.
 */

/** A `certificates` row as both drivers return it (bigint columns may come back as strings from `pg`). */
export interface CertificateRow {
  id: number | string;
  issuer_id: string;
  serial: string;
  state: string;
  profile: string;
  subject: string;
  sans: string;
  not_before: number | string;
  not_after: number | string;
  requester: string;
  request_id: string | null;
  reserved_at: number | string;
  listed_at: number | string;
  der: Uint8Array | null;
  fingerprint: string | null;
  issued_at: number | string | null;
  revoked_at: number | string | null;
  revocation_reason: string | null;
  invalidity_date: number | string | null;
}

/** The columns a `CertificateRow` needs (never `tbs`: a listing does not carry it). */
export const CERTIFICATE_COLUMNS =
  'c.id, c.issuer_id, c.serial, c.state, c.profile, c.subject, c.sans, c.not_before, c.not_after, ' +
  'c.requester, c.request_id, c.reserved_at, c.listed_at, c.der, c.fingerprint, c.issued_at, ' +
  'c.revoked_at, c.revocation_reason, c.invalidity_date';

/** A plain `Uint8Array` view of a driver's `Buffer` (no copy), so records compare equal to plain arrays. */
export function bytes(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export function toRecord(row: CertificateRow): CertificateRecord {
  const r: CertificateRecord = {
    issuerId: row.issuer_id,
    serialHex: row.serial,
    state: row.state as CertificateState,
    profile: row.profile,
    subject: row.subject,
    sans: JSON.parse(row.sans) as string[],
    notBefore: Number(row.not_before),
    notAfter: Number(row.not_after),
    requester: row.requester,
    reservedAt: Number(row.reserved_at),
  };
  if (row.request_id !== null) r.requestId = row.request_id;
  if (row.der !== null) r.der = bytes(row.der);
  if (row.fingerprint !== null) r.fingerprint = row.fingerprint;
  if (row.issued_at !== null) r.issuedAt = Number(row.issued_at);
  if (row.revoked_at !== null) {
    r.revocation = { time: Number(row.revoked_at), reason: row.revocation_reason as CRLReason };
    if (row.invalidity_date !== null) r.revocation.invalidityDate = Number(row.invalidity_date);
  }
  return r;
}

export function keyToJson(k: KeyReference): string {
  return JSON.stringify(k.kind === 'file' ? { kind: 'file', path: k.path } : { kind: 'pkcs11', uri: k.uri });
}

/**
 * The least string greater than every string starting with `prefix`, in code-point order (what
 * SQLite's BINARY and PostgreSQL's "C" collation compare): `col >= prefix AND col < upper` is
 * then an index range for the prefix. Undefined when no such bound exists (a prefix of U+10FFFF
 * only), meaning no upper limit.
 */
export function prefixUpperBound(prefix: string): string | undefined {
  const cps = Array.from(prefix);
  while (cps.length > 0) {
    const last = cps.pop()!.codePointAt(0)!;
    if (last < 0x10ffff) {
      // The next code point, skipping the surrogate block (not valid in UTF-8 text).
      const next = last + 1 === 0xd800 ? 0xe000 : last + 1;
      return cps.join('') + String.fromCodePoint(next);
    }
  }
  return undefined;
}

/** What a keyset cursor holds: the sort and order it was made for and the last row's key. */
export interface CursorKey {
  sort: 'notAfter' | 'issuedAt';
  order: 'asc' | 'desc';
  value: number;
  id: number;
}

/** Opaque cursor text: base64url of a small JSON array. */
export function encodeCursor(k: CursorKey): string {
  return Buffer.from(JSON.stringify([1, k.sort, k.order, k.value, k.id])).toString('base64url');
}

export function decodeCursor(text: string, sort: CursorKey['sort'], order: CursorKey['order']): CursorKey {
  const fail = (why: string): never => {
    throw new StoreError('bad-input', `cursor: ${why}`);
  };
  if (typeof text !== 'string' || text.length > 200 || !/^[A-Za-z0-9_-]+$/.test(text)) fail('malformed');
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    fail('malformed');
  }
  if (
    !Array.isArray(v) ||
    v.length !== 5 ||
    v[0] !== 1 ||
    !Number.isSafeInteger(v[3]) ||
    !Number.isSafeInteger(v[4])
  )
    fail('malformed');
  const [, s, o, value, id] = v as [number, string, string, number, number];
  if (s !== sort || o !== order) fail(`made for sort ${s} ${o}, not ${sort} ${order}`);
  return { sort, order, value, id };
}

export interface IssuerRow {
  id: string;
  role: 'root' | 'intermediate';
  parent_id: string | null;
  status: IssuerStatus;
  certificate: Uint8Array;
  key_ref: string;
  created_at: bigint | number | string;
  crl_number: bigint | number | string;
}

export function toIssuer(r: IssuerRow): IssuerRecord {
  const out: IssuerRecord = {
    id: r.id,
    role: r.role,
    status: r.status,
    certificate: bytes(r.certificate),
    key: JSON.parse(r.key_ref) as KeyReference,
    createdAt: Number(r.created_at),
    lastCrlNumber: BigInt(r.crl_number),
  };
  if (r.parent_id !== null) out.parentId = r.parent_id;
  return out;
}

export function toReservation(r: CertificateRow & { tbs: Uint8Array }): Reservation {
  const c = toRecord(r);
  const out: Reservation = {
    issuerId: c.issuerId,
    serialHex: c.serialHex,
    profile: c.profile,
    subject: c.subject,
    sans: c.sans,
    notBefore: c.notBefore,
    notAfter: c.notAfter,
    tbs: bytes(r.tbs),
    requester: c.requester,
    reservedAt: c.reservedAt,
  };
  if (c.requestId !== undefined) out.requestId = c.requestId;
  return out;
}

export interface StatusRow {
  state: string;
  revoked_at: number | string | null;
  revocation_reason: string | null;
  invalidity_date: number | string | null;
}

export function toStatus(row: StatusRow | undefined): SerialStatus | undefined {
  if (row?.state !== 'issued') return undefined;
  if (row.revoked_at === null) return { status: 'good' };
  const s: SerialStatus = {
    status: 'revoked',
    revocationTime: Number(row.revoked_at),
    reason: row.revocation_reason as CRLReason,
  };
  if (row.invalidity_date !== null) s.invalidityDate = Number(row.invalidity_date);
  return s;
}

export interface RevokedDbRow {
  serial: string;
  revoked_at: number | string;
  revocation_reason: string;
  invalidity_date: number | string | null;
}

export function toRevoked(r: RevokedDbRow): RevokedRow {
  const out: RevokedRow = {
    serialHex: r.serial,
    revocationTime: Number(r.revoked_at),
    reason: r.revocation_reason as CRLReason,
  };
  if (r.invalidity_date !== null) out.invalidityDate = Number(r.invalidity_date);
  return out;
}

export interface CrlRow {
  issuer_id: string;
  crl_number: bigint | string;
  this_update: bigint | number | string;
  next_update: bigint | number | string;
  der: Uint8Array;
}

export function toCrl(r: CrlRow): CrlRecord {
  return {
    issuerId: r.issuer_id,
    crlNumber: BigInt(r.crl_number),
    thisUpdate: Number(r.this_update),
    nextUpdate: Number(r.next_update),
    der: bytes(r.der),
  };
}

export interface AuditRow {
  seq: number | string;
  time: number | string;
  actor: string;
  action: string;
  result: string;
  issuer_id: string | null;
  serial: string | null;
  fingerprint: string | null;
  detail: string | null;
  prev_hash: string;
  hash: string;
}

export function toAudit(r: AuditRow): AuditRecord {
  const out: AuditRecord = {
    seq: Number(r.seq),
    time: Number(r.time),
    actor: r.actor,
    action: r.action,
    result: r.result,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
  if (r.issuer_id !== null) out.issuerId = r.issuer_id;
  if (r.serial !== null) out.serialHex = r.serial;
  if (r.fingerprint !== null) out.fingerprint = r.fingerprint;
  if (r.detail !== null) out.detail = JSON.parse(r.detail) as Record<string, unknown>;
  return out;
}

export interface PendingRow {
  id: string;
  state: PendingState;
  profile: string;
  requester: string;
  csr: Uint8Array;
  subject: string;
  sans: string;
  validity_days: number | string | null;
  created_at: number | string;
  decided_by: string | null;
  decided_at: number | string | null;
  reason: string | null;
}

export const PENDING_COLUMNS =
  'id, state, profile, requester, csr, subject, sans, validity_days, created_at, decided_by, decided_at, reason';

export function toPending(r: PendingRow): PendingRequest {
  const p: PendingRequest = {
    id: r.id,
    state: r.state,
    profile: r.profile,
    requester: r.requester,
    csr: bytes(r.csr),
    subject: r.subject,
    sans: JSON.parse(r.sans) as string[],
    createdAt: Number(r.created_at),
  };
  if (r.validity_days !== null) p.validityDays = Number(r.validity_days);
  if (r.decided_by !== null) p.decidedBy = r.decided_by;
  if (r.decided_at !== null) p.decidedAt = Number(r.decided_at);
  if (r.reason !== null) p.reason = r.reason;
  return p;
}

/** A page from up to `limit + 1` rows: the first `limit`, and a cursor when there was one more. */
export function toPage(
  rows: CertificateRow[],
  plan: {
    limit: number;
    sort: CursorKey['sort'];
    order: CursorKey['order'];
    sortColumn: 'not_after' | 'listed_at';
  },
): CertificatePage {
  const page: CertificatePage = { items: rows.slice(0, plan.limit).map(toRecord) };
  if (rows.length > plan.limit) {
    const last = rows[plan.limit - 1]!;
    page.nextCursor = encodeCursor({
      sort: plan.sort,
      order: plan.order,
      value: Number(last[plan.sortColumn]),
      id: Number(last.id),
    });
  }
  return page;
}
