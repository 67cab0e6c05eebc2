import type { WriteQueue } from './group-commit.js';
import { type OpName, queueAudit, type WriteOp, type WriteResults } from './ops.js';
import { searchKeys } from './search-keys.js';
import {
  type AuditEvent,
  type AuditRecord,
  type Completion,
  type CrlRecord,
  type EnrollmentCredential,
  type ImportedCertificate,
  type IssuerRecord,
  type IssuerStatus,
  type PendingDecision,
  type PendingRequest,
  type Reservation,
  type RevocationInfo,
  StoreError,
} from './types.js';
import {
  checkCompletion,
  checkCrl,
  checkDecision,
  checkEnrollmentCredential,
  checkImported,
  checkIssuer,
  checkPending,
  checkReservation,
  checkRevocation,
  checkSerial,
  checkText,
  checkTime,
  MAX_AUDIT_BATCH,
  MAX_IMPORT_BATCH,
} from './validate.js';

/**
 * The write half of both stores: each method checks its arguments on the caller's side
 * (`bad-input` before anything is queued), turns them into a `WriteOp` and queues it for group
 * commit; it resolves once the transaction holding it has committed.
 */
export abstract class QueuedWrites {
  protected closed = false;

  constructor(protected readonly commit: WriteQueue) {}

  // ---- writes (group commit) --------------------------------------------------------------------

  protected write<K extends OpName>(op: Extract<WriteOp, { op: K }>): Promise<WriteResults[K]> {
    if (this.closed) return Promise.reject(new StoreError('unavailable', 'the store is closed'));
    return this.commit.submit(op) as Promise<WriteResults[K]>;
  }

  async initHierarchy(issuers: readonly IssuerRecord[], audit: AuditEvent): Promise<'created' | 'exists'> {
    if (!Array.isArray(issuers) || issuers.length === 0)
      throw new StoreError('bad-input', 'issuers: at least one issuer');
    for (const [n, i] of issuers.entries()) checkIssuer(i, `issuers[${n}]`);
    return this.write({ op: 'initHierarchy', issuers: [...issuers], audit: queueAudit(audit) });
  }

  async addIssuer(issuer: IssuerRecord, audit: AuditEvent): Promise<'added' | 'duplicate'> {
    checkIssuer(issuer);
    return this.write({ op: 'addIssuer', issuer, audit: queueAudit(audit) });
  }

  async setIssuerStatus(id: string, status: IssuerStatus, audit: AuditEvent): Promise<void> {
    checkText(id, 'id');
    if (status !== 'active' && status !== 'retiring' && status !== 'retired')
      throw new StoreError('bad-input', 'status: active, retiring or retired');
    await this.write({ op: 'setIssuerStatus', id, status, audit: queueAudit(audit) });
  }

  async reserve(r: Reservation): Promise<'reserved' | 'serial-taken' | 'request-exists'> {
    checkReservation(r);
    return this.write({ op: 'reserve', r, keys: searchKeys(r.subject, r.sans) });
  }

  async complete(c: Completion, audit: AuditEvent): Promise<void> {
    const tbsOffset = checkCompletion(c);
    await this.write({ op: 'complete', c, tbsOffset, audit: queueAudit(audit) });
  }

  async voidReservation(issuerId: string, serialHex: string, audit: AuditEvent): Promise<void> {
    checkText(issuerId, 'issuerId');
    checkSerial(serialHex);
    await this.write({ op: 'voidReservation', issuerId, serialHex, audit: queueAudit(audit) });
  }

  async importCertificates(records: readonly ImportedCertificate[], audit: AuditEvent): Promise<number> {
    if (!Array.isArray(records) || records.length > MAX_IMPORT_BATCH)
      throw new StoreError('bad-input', `records: at most ${MAX_IMPORT_BATCH}`);
    for (const [i, r] of records.entries()) checkImported(r, `records[${i}]`);
    if (records.length === 0) return 0;
    return this.write({
      op: 'importCertificates',
      records: [...records],
      keys: records.map((r) => searchKeys(r.subject, r.sans)),
      audit: queueAudit(audit),
    });
  }

  async revoke(
    issuerId: string,
    serialHex: string,
    r: RevocationInfo,
    audit: AuditEvent,
  ): Promise<'revoked' | 'already-revoked' | 'not-issued'> {
    checkText(issuerId, 'issuerId');
    checkSerial(serialHex);
    checkRevocation(r);
    return this.write({ op: 'revoke', issuerId, serialHex, r, audit: queueAudit(audit) });
  }

  async releaseHold(
    issuerId: string,
    serialHex: string,
    audit: AuditEvent,
  ): Promise<'released' | 'not-on-hold' | 'not-issued'> {
    checkText(issuerId, 'issuerId');
    checkSerial(serialHex);
    return this.write({ op: 'releaseHold', issuerId, serialHex, audit: queueAudit(audit) });
  }

  async nextCrlNumber(issuerId: string): Promise<bigint> {
    checkText(issuerId, 'issuerId');
    return this.write({ op: 'nextCrlNumber', issuerId });
  }

  async saveCrl(crl: CrlRecord): Promise<void> {
    checkCrl(crl);
    await this.write({ op: 'saveCrl', crl });
  }

  async appendAudit(events: readonly AuditEvent[]): Promise<AuditRecord[]> {
    if (!Array.isArray(events) || events.length > MAX_AUDIT_BATCH)
      throw new StoreError('bad-input', `events: at most ${MAX_AUDIT_BATCH}`);
    if (events.length === 0) return [];
    return this.write({ op: 'appendAudit', events: events.map((e, i) => queueAudit(e, `events[${i}]`)) });
  }

  async setSetting(key: string, value: string): Promise<void> {
    checkText(key, 'key');
    checkText(value, 'value', { empty: true });
    await this.write({ op: 'setSetting', key, value });
  }

  async addPending(p: PendingRequest, audit: AuditEvent): Promise<'added' | 'exists'> {
    checkPending(p);
    return this.write({ op: 'addPending', p, audit: queueAudit(audit) });
  }

  async decidePending(id: string, d: PendingDecision, audit: AuditEvent): Promise<'decided' | 'not-pending'> {
    checkText(id, 'id');
    checkDecision(d);
    return this.write({ op: 'decidePending', id, d, audit: queueAudit(audit) });
  }

  async addEnrollmentCredential(c: EnrollmentCredential, audit: AuditEvent): Promise<'added' | 'duplicate'> {
    checkEnrollmentCredential(c);
    return this.write({ op: 'addEnrollmentCredential', c, audit: queueAudit(audit) });
  }

  async useEnrollmentCredential(
    id: string,
    use: { at: number; requestId: string },
  ): Promise<'used' | 'same-request' | 'already-used' | 'not-found'> {
    checkText(id, 'id');
    checkText(use?.requestId, 'requestId');
    checkTime(use.at, 'at');
    return this.write({ op: 'useEnrollmentCredential', id, at: use.at, requestId: use.requestId });
  }

  async releaseEnrollmentCredential(id: string, requestId: string): Promise<'released' | 'not-used'> {
    checkText(id, 'id');
    checkText(requestId, 'requestId');
    return this.write({ op: 'releaseEnrollmentCredential', id, requestId });
  }
}
