import { createHash } from 'node:crypto';
import { canonicalJson } from '../audit-hash.js';
import {
  type AuditEvent,
  type Completion,
  type CrlRecord,
  type EnrollmentCredential,
  type ImportedCertificate,
  type IssuerRecord,
  type PendingDecision,
  type PendingRequest,
  type PendingState,
  type Reservation,
  type RevocationInfo,
  StoreError,
} from './types.js';

/**
 * Checks of what callers hand the store, made before anything is queued, so that a bad value is a
 * `StoreError('bad-input')` naming the field rather than a database error, and so that no value can
 * grow a row, a batch or an index key without bound. Both backends share them.
 */

/** Longest serial accepted: RFC 5280 §4.1.2.2 allows 20 octets; longer ones exist in the wild. */
export const MAX_SERIAL_HEX = 64;
/** Longest subject text, SAN entry, id or other short string kept in an indexed column. */
export const MAX_TEXT = 4096;
/** Most subjectAltName entries kept per certificate (each is a row of the SAN index). */
export const MAX_SANS = 1024;
/** Largest certificate, TBSCertificate or CRL accepted (a CRL of ~1 M entries is ~40 MB). */
export const MAX_BLOB = 64 * 1024 * 1024;
/** Largest audit `detail`, as canonical JSON. */
export const MAX_DETAIL = 64 * 1024;
/** Largest CRL number a store keeps (a signed 64-bit column in both databases). */
export const MAX_CRL_NUMBER = 2n ** 63n - 1n;
/** Most audit events in one `appendAudit`. */
export const MAX_AUDIT_BATCH = 1000;

const SERIAL = /^(?:[0-9a-f]{2})+$/;
const REASONS = new Set([
  'unspecified',
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'certificateHold',
  'privilegeWithdrawn',
  'aACompromise',
]);

function bad(field: string, why: string): never {
  throw new StoreError('bad-input', `${field}: ${why}`);
}

export function checkSerial(serialHex: unknown, field = 'serialHex'): string {
  if (typeof serialHex !== 'string' || serialHex.length > MAX_SERIAL_HEX || !SERIAL.test(serialHex))
    bad(field, `expected serialKey hex (lower case, whole octets, at most ${MAX_SERIAL_HEX} digits)`);
  if (serialHex.length > 2 && serialHex.startsWith('00'))
    bad(field, 'a leading 00 octet (not serialKey form)');
  return serialHex;
}

export function checkText(v: unknown, field: string, opts: { empty?: boolean } = {}): string {
  if (typeof v !== 'string') bad(field, 'expected a string');
  if (v.length > MAX_TEXT) bad(field, `longer than ${MAX_TEXT} characters`);
  if (!opts.empty && v.length === 0) bad(field, 'empty');
  return v;
}

export function checkTime(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) bad(field, 'expected integer epoch milliseconds');
  return v;
}

export function checkBlob(v: unknown, field: string): Uint8Array {
  if (!(v instanceof Uint8Array)) bad(field, 'expected a Uint8Array');
  if (v.length === 0 || v.length > MAX_BLOB) bad(field, `expected 1 to ${MAX_BLOB} bytes`);
  return v;
}

export function checkLimit(v: unknown, field: string, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) bad(field, 'expected a positive integer');
  return Math.min(v, max);
}

export function checkAfterSeq(v: unknown, field = 'afterSeq'): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) bad(field, 'expected an integer ≥ 0');
  return v;
}

/** Validates an audit event and returns its `detail` as canonical JSON (what is hashed and stored). */
export function checkAudit(e: AuditEvent, field = 'audit'): string | undefined {
  if (typeof e !== 'object' || e === null) bad(field, 'expected an audit event');
  checkTime(e.time, `${field}.time`);
  checkText(e.actor, `${field}.actor`);
  checkText(e.action, `${field}.action`);
  checkText(e.result, `${field}.result`);
  if (e.issuerId !== undefined) checkText(e.issuerId, `${field}.issuerId`);
  if (e.serialHex !== undefined) checkSerial(e.serialHex, `${field}.serialHex`);
  if (e.fingerprint !== undefined) checkText(e.fingerprint, `${field}.fingerprint`);
  if (e.detail === undefined) return undefined;
  if (typeof e.detail !== 'object' || e.detail === null || Array.isArray(e.detail))
    bad(`${field}.detail`, 'expected a plain object');
  let json: string;
  try {
    json = canonicalJson(e.detail);
  } catch (err) {
    bad(`${field}.detail`, `not JSON-serialisable (${(err as Error).message})`);
  }
  if (json.length > MAX_DETAIL) bad(`${field}.detail`, `larger than ${MAX_DETAIL} characters as JSON`);
  return json;
}

export function checkIssuer(i: IssuerRecord, field = 'issuer'): void {
  if (typeof i !== 'object' || i === null) bad(field, 'expected an issuer record');
  checkText(i.id, `${field}.id`);
  if (i.id.length > 64 || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(i.id))
    bad(`${field}.id`, 'expected 1 to 64 of [A-Za-z0-9._-], starting with a letter or digit');
  if (i.role !== 'root' && i.role !== 'intermediate') bad(`${field}.role`, 'expected root or intermediate');
  if (i.parentId !== undefined) checkText(i.parentId, `${field}.parentId`);
  if (i.role === 'root' && i.parentId !== undefined) bad(`${field}.parentId`, 'a root has no parent');
  if (i.status !== 'active' && i.status !== 'retiring' && i.status !== 'retired')
    bad(`${field}.status`, 'expected active, retiring or retired');
  checkBlob(i.certificate, `${field}.certificate`);
  const k = i.key as { kind?: unknown; path?: unknown; uri?: unknown } | undefined;
  if (k?.kind === 'file') checkText(k.path, `${field}.key.path`);
  else if (k?.kind === 'pkcs11') checkText(k.uri, `${field}.key.uri`);
  else bad(`${field}.key`, 'expected { kind: file, path } or { kind: pkcs11, uri }');
  checkTime(i.createdAt, `${field}.createdAt`);
  const n = i.lastCrlNumber;
  if (n !== undefined && (typeof n !== 'bigint' || n < 0n || n >= MAX_CRL_NUMBER))
    bad(`${field}.lastCrlNumber`, 'expected a bigint in [0, 2^63 − 1)');
}

export function checkReservation(r: Reservation): void {
  if (typeof r !== 'object' || r === null) bad('reservation', 'expected a reservation');
  checkText(r.issuerId, 'issuerId');
  checkSerial(r.serialHex);
  checkText(r.profile, 'profile');
  checkText(r.subject, 'subject', { empty: true });
  if (!Array.isArray(r.sans) || r.sans.length > MAX_SANS) bad('sans', `expected at most ${MAX_SANS} entries`);
  for (const [i, s] of r.sans.entries()) checkText(s, `sans[${i}]`);
  checkTime(r.notBefore, 'notBefore');
  checkTime(r.notAfter, 'notAfter');
  checkBlob(r.tbs, 'tbs');
  checkText(r.requester, 'requester');
  if (r.requestId !== undefined) checkText(r.requestId, 'requestId');
  checkTime(r.reservedAt, 'reservedAt');
}

/** Most records in one `importCertificates` call (a caller imports a larger set in batches). */
export const MAX_IMPORT_BATCH = 5000;

export function checkImported(r: ImportedCertificate, field: string): void {
  if (typeof r !== 'object' || r === null) bad(field, 'expected an imported certificate record');
  checkText(r.issuerId, `${field}.issuerId`);
  checkSerial(r.serialHex);
  checkText(r.profile, `${field}.profile`);
  checkText(r.subject, `${field}.subject`, { empty: true });
  if (!Array.isArray(r.sans) || r.sans.length > MAX_SANS)
    bad(`${field}.sans`, `expected at most ${MAX_SANS} entries`);
  for (const [i, s] of r.sans.entries()) checkText(s, `${field}.sans[${i}]`);
  checkTime(r.notBefore, `${field}.notBefore`);
  checkTime(r.notAfter, `${field}.notAfter`);
  checkText(r.requester, `${field}.requester`);
  checkTime(r.issuedAt, `${field}.issuedAt`);
  if (r.revocation !== undefined) checkRevocation(r.revocation);
}

/**
 * Validates a completion: `fingerprint` must be the SHA-256 of `der`, and `der` an outer DER
 * SEQUENCE. Returns the offset of the TBSCertificate inside `der` (the store then compares the
 * bytes there with the reserved TBSCertificate, RFC 5280 §4.1: Certificate ::= SEQUENCE {
 * tbsCertificate, signatureAlgorithm, signatureValue }).
 */
export function checkCompletion(c: Completion): number {
  if (typeof c !== 'object' || c === null) bad('completion', 'expected a completion');
  checkText(c.issuerId, 'issuerId');
  checkSerial(c.serialHex);
  checkBlob(c.der, 'der');
  checkTime(c.issuedAt, 'issuedAt');
  const fp = createHash('sha256').update(c.der).digest('hex');
  if (c.fingerprint !== fp) throw new StoreError('constraint', 'fingerprint is not the SHA-256 of der');
  const offset = tbsOffset(c.der);
  if (offset === undefined) throw new StoreError('constraint', 'der is not a DER SEQUENCE');
  return offset;
}

/** Offset of the first element inside an outer definite-length SEQUENCE (X.690 §8.1.3), if any. */
export function tbsOffset(der: Uint8Array): number | undefined {
  if (der.length < 2 || der[0] !== 0x30) return undefined;
  const first = der[1]!;
  if (first < 0x80) return 2;
  const n = first & 0x7f;
  if (n === 0 || n > 4 || der.length < 2 + n) return undefined;
  return 2 + n;
}

export function checkRevocation(r: RevocationInfo): void {
  if (typeof r !== 'object' || r === null) bad('revocation', 'expected revocation info');
  checkTime(r.time, 'revocation.time');
  // removeFromCRL only exists in delta CRLs (RFC 5280 §5.3.1); a release is `releaseHold`.
  if (!REASONS.has(r.reason))
    bad('revocation.reason', `not a reason a certificate is revoked for: ${r.reason}`);
  if (r.invalidityDate !== undefined) checkTime(r.invalidityDate, 'revocation.invalidityDate');
}

export function checkCrl(c: CrlRecord): void {
  if (typeof c !== 'object' || c === null) bad('crl', 'expected a CRL record');
  checkText(c.issuerId, 'issuerId');
  if (typeof c.crlNumber !== 'bigint' || c.crlNumber < 1n || c.crlNumber > MAX_CRL_NUMBER)
    bad('crlNumber', 'expected a bigint in [1, 2^63 − 1]');
  checkTime(c.thisUpdate, 'thisUpdate');
  checkTime(c.nextUpdate, 'nextUpdate');
  checkBlob(c.der, 'der');
}

/** A request held for approval. */
export function checkPending(p: PendingRequest): void {
  if (typeof p !== 'object' || p === null) bad('pending', 'expected a pending request');
  checkText(p.id, 'id');
  if (p.state !== 'pending') bad('state', 'a request is stored pending');
  checkText(p.profile, 'profile');
  checkText(p.requester, 'requester');
  checkBlob(p.csr, 'csr');
  checkText(p.subject, 'subject', { empty: true });
  if (!Array.isArray(p.sans) || p.sans.length > MAX_SANS) bad('sans', `at most ${MAX_SANS} entries`);
  for (const [i, x] of p.sans.entries()) checkText(x, `sans[${i}]`);
  if (p.validityDays !== undefined && (!Number.isSafeInteger(p.validityDays) || p.validityDays < 1))
    bad('validityDays', 'a positive integer');
  checkTime(p.createdAt, 'createdAt');
}

/** A decision on a pending request. */
export function checkDecision(d: PendingDecision): void {
  if (typeof d !== 'object' || d === null) bad('decision', 'expected a decision');
  if (d.state !== 'approved' && d.state !== 'rejected') bad('state', 'approved or rejected');
  checkText(d.by, 'by');
  checkTime(d.at, 'at');
  if (d.reason !== undefined) checkText(d.reason, 'reason', { empty: true });
}

/** A state to list pending requests by (default `pending`). */
export function checkPendingState(s: unknown): PendingState {
  if (s === undefined) return 'pending';
  if (s !== 'pending' && s !== 'approved' && s !== 'rejected')
    throw new StoreError('bad-input', 'state: pending, approved or rejected');
  return s;
}

/** A new enrollment credential: not yet used, a SHA-256 hex hash, expiry after creation. */
export function checkEnrollmentCredential(c: EnrollmentCredential): void {
  if (typeof c !== 'object' || c === null) bad('credential', 'expected an enrollment credential');
  checkText(c.id, 'id');
  checkText(c.label, 'label');
  if (c.subject !== undefined) checkText(c.subject, 'subject');
  if (typeof c.secretHash !== 'string' || !/^[0-9a-f]{64}$/.test(c.secretHash))
    bad('secretHash', 'expected SHA-256 as 64 lower-case hex digits');
  checkTime(c.createdAt, 'createdAt');
  checkTime(c.expiresAt, 'expiresAt');
  if (c.expiresAt <= c.createdAt) bad('expiresAt', 'must be after createdAt');
  checkText(c.createdBy, 'createdBy');
  if (c.usedAt !== undefined || c.usedFor !== undefined) bad('usedAt', 'a credential is stored unused');
}
