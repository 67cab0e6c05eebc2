import type { SearchKeys } from './search-keys.js';
import type {
  AuditEvent,
  AuditRecord,
  Completion,
  CrlRecord,
  EnrollmentCredential,
  ImportedCertificate,
  IssuerRecord,
  IssuerStatus,
  PendingDecision,
  PendingRequest,
  Reservation,
  RevocationInfo,
  StoreErrorCode,
} from './types.js';
import { checkAudit } from './validate.js';

/**
 * The store's writes as data: what callers queue for group commit. Each backend's writer runs a
 * batch of them in one transaction and answers each with its own outcome. They cross a
 * `worker_threads` boundary (SQLite's writer thread), so they hold only structured-cloneable values.
 * Audit events carry their `detail` already in canonical JSON (`detailJson`), checked on the
 * caller's side.
 */
export type WriteOp =
  | { op: 'initHierarchy'; issuers: IssuerRecord[]; audit: QueuedAudit }
  | { op: 'addIssuer'; issuer: IssuerRecord; audit: QueuedAudit }
  | { op: 'setIssuerStatus'; id: string; status: IssuerStatus; audit: QueuedAudit }
  | { op: 'reserve'; r: Reservation; keys: SearchKeys }
  | { op: 'complete'; c: Completion; tbsOffset: number; audit: QueuedAudit }
  | { op: 'voidReservation'; issuerId: string; serialHex: string; audit: QueuedAudit }
  | { op: 'importCertificates'; records: ImportedCertificate[]; keys: SearchKeys[]; audit: QueuedAudit }
  | { op: 'revoke'; issuerId: string; serialHex: string; r: RevocationInfo; audit: QueuedAudit }
  | { op: 'releaseHold'; issuerId: string; serialHex: string; audit: QueuedAudit }
  | { op: 'nextCrlNumber'; issuerId: string }
  | { op: 'saveCrl'; crl: CrlRecord }
  | { op: 'appendAudit'; events: QueuedAudit[] }
  | { op: 'setSetting'; key: string; value: string }
  | { op: 'addPending'; p: PendingRequest; audit: QueuedAudit }
  | { op: 'decidePending'; id: string; d: PendingDecision; audit: QueuedAudit }
  | { op: 'addEnrollmentCredential'; c: EnrollmentCredential; audit: QueuedAudit }
  | { op: 'useEnrollmentCredential'; id: string; at: number; requestId: string }
  | { op: 'releaseEnrollmentCredential'; id: string; requestId: string };

/**
 * An audit event as queued: only its defined members, `detail` normalised through one JSON round
 * trip (so what is hashed is exactly what is stored and read back), and that JSON text.
 */
export interface QueuedAudit {
  event: AuditEvent;
  detailJson?: string;
}

/** Checks an event (`bad-input` otherwise) and normalises it for queueing. */
export function queueAudit(e: AuditEvent, field = 'audit'): QueuedAudit {
  const detailJson = checkAudit(e, field);
  const event: AuditEvent = { time: e.time, actor: e.actor, action: e.action, result: e.result };
  if (e.issuerId !== undefined) event.issuerId = e.issuerId;
  if (e.serialHex !== undefined) event.serialHex = e.serialHex;
  if (e.fingerprint !== undefined) event.fingerprint = e.fingerprint;
  if (detailJson === undefined) return { event };
  event.detail = JSON.parse(detailJson) as Record<string, unknown>;
  return { event, detailJson };
}

/** What each write resolves to. */
export interface WriteResults {
  initHierarchy: 'created' | 'exists';
  addIssuer: 'added' | 'duplicate';
  setIssuerStatus: undefined;
  reserve: 'reserved' | 'serial-taken' | 'request-exists';
  complete: undefined;
  voidReservation: undefined;
  importCertificates: number;
  revoke: 'revoked' | 'already-revoked' | 'not-issued';
  releaseHold: 'released' | 'not-on-hold' | 'not-issued';
  nextCrlNumber: bigint;
  saveCrl: undefined;
  appendAudit: AuditRecord[];
  setSetting: undefined;
  addPending: 'added' | 'exists';
  decidePending: 'decided' | 'not-pending';
  addEnrollmentCredential: 'added' | 'duplicate';
  useEnrollmentCredential: 'used' | 'same-request' | 'already-used' | 'not-found';
  releaseEnrollmentCredential: 'released' | 'not-used';
}

export type OpName = WriteOp['op'];

/** One write's outcome in a batch: its value, or the error that failed it alone. */
export type Outcome = { ok: true; value: unknown } | { ok: false; code: StoreErrorCode; message: string };

/** Number of CRLs kept per issuer by `saveCrl` (older ones are deleted in the same transaction). */
export const CRLS_KEPT = 10;

/** The stored record of a queued event. */
export function auditRecord(q: QueuedAudit, seq: number, prevHash: string, hash: string): AuditRecord {
  return { seq, ...q.event, prevHash, hash };
}

/** Issuers ordered so that a parent is inserted before its children (the foreign key is immediate). */
export function parentsFirst(issuers: readonly IssuerRecord[]): IssuerRecord[] {
  const ids = new Set(issuers.map((i) => i.id));
  const done = new Set<string>();
  const out: IssuerRecord[] = [];
  let rest = [...issuers];
  while (rest.length > 0) {
    const ready = rest.filter(
      (i) => i.parentId === undefined || !ids.has(i.parentId) || done.has(i.parentId),
    );
    // A cycle: insert as given and let the foreign key report it.
    const next = ready.length > 0 ? ready : rest;
    for (const i of next) {
      out.push(i);
      done.add(i.id);
    }
    rest = rest.filter((i) => !done.has(i.id));
  }
  return out;
}
