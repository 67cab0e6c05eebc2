import type Database from 'better-sqlite3';
import { auditHash, GENESIS_HASH } from '../audit-hash.js';
import { auditRecord, CRLS_KEPT, type Outcome, parentsFirst, type QueuedAudit, type WriteOp } from './ops.js';
import { keyToJson } from './records.js';
import { sqliteError } from './sqlite-connection.js';
import { type AuditRecord, type IssuerRecord, StoreError } from './types.js';

/**
 * Runs batches of writes on one SQLite connection: `BEGIN IMMEDIATE` (takes the write lock up
 * front, so a transaction never fails half-way because another process wrote), each op inside its
 * own SAVEPOINT so that a failing op is rolled back alone and the others commit, then one COMMIT —
 * one fsync for the whole batch. Synchronous: it runs on the store's writer thread (or inline).
 *
 * The audit chain's head is read inside the transaction, under the write lock, so appends from
 * several processes on one file are serialised and the chain stays linear.
 */
export class SqliteWriter {
  private readonly s: ReturnType<typeof prepare>;
  /** The audit head while a batch runs (read lazily after BEGIN IMMEDIATE). */
  private head: { seq: number; hash: string } | undefined;

  constructor(private readonly db: Database.Database) {
    this.s = prepare(db);
  }

  runBatch(ops: readonly WriteOp[]): Outcome[] {
    const s = this.s;
    try {
      s.begin.run();
    } catch (e) {
      const err = sqliteError(e, 'cannot start a write transaction');
      return ops.map(() => ({ ok: false, code: err.code, message: err.message }));
    }
    this.head = undefined;
    const out: Outcome[] = [];
    try {
      for (const op of ops) {
        const head: { seq: number; hash: string } | undefined = this.head;
        s.savepoint.run();
        try {
          const value = this.apply(op);
          s.release.run();
          out.push({ ok: true, value });
        } catch (e) {
          // A failed COMMIT-level error (I/O, disk full) ends the transaction: the batch fails.
          if (!this.db.inTransaction) throw e;
          this.head = head;
          s.rollbackTo.run();
          s.release.run();
          const err = sqliteError(e, op.op);
          out.push({ ok: false, code: err.code, message: err.message });
        }
      }
      s.commit.run();
    } catch (e) {
      if (this.db.inTransaction) {
        try {
          s.rollback.run();
        } catch {
          // The connection is unusable; the next batch reports it.
        }
      }
      const err = sqliteError(e, 'write transaction failed');
      return ops.map(() => ({ ok: false, code: err.code, message: err.message }));
    }
    return out;
  }

  private apply(op: WriteOp): unknown {
    const s = this.s;
    switch (op.op) {
      case 'initHierarchy': {
        if (s.anyIssuer.get()) return 'exists';
        for (const i of parentsFirst(op.issuers)) this.insertIssuer(i);
        this.append(op.audit);
        return 'created';
      }
      case 'addIssuer': {
        if (!this.insertIssuer(op.issuer)) return 'duplicate';
        this.append(op.audit);
        return 'added';
      }
      case 'setIssuerStatus': {
        const row = s.issuerStatus.get(op.id) as { status: string } | undefined;
        if (!row) throw new StoreError('unknown-issuer', `no issuer ${op.id}`);
        if (row.status === op.status) return undefined;
        s.setIssuerStatus.run(op.status, op.id);
        this.append(op.audit);
        return undefined;
      }
      case 'reserve': {
        const r = op.r;
        const k = op.keys;
        const info = s.reserve.run(
          r.issuerId,
          r.serialHex,
          r.profile,
          r.subject,
          k.subjectLc,
          k.cnLc,
          JSON.stringify(r.sans),
          r.notBefore,
          r.notAfter,
          r.requester,
          r.requestId ?? null,
          r.reservedAt,
          r.reservedAt,
          r.tbs,
        );
        if (info.changes === 0) {
          if (r.requestId !== undefined && s.requestExists.get(r.requestId)) return 'request-exists';
          return 'serial-taken';
        }
        for (const san of k.sansLc) s.insertSan.run(san, info.lastInsertRowid);
        return 'reserved';
      }
      case 'complete': {
        const c = op.c;
        const info = s.complete.run(
          c.der,
          c.fingerprint,
          c.issuedAt,
          c.issuedAt,
          c.serialHex,
          c.issuerId,
          c.der,
          op.tbsOffset + 1,
        );
        if (info.changes === 0) {
          const row = s.stateOf.get(c.serialHex, c.issuerId) as { state: string } | undefined;
          if (row?.state !== 'reserved')
            throw new StoreError(
              'not-reserved',
              `${c.issuerId}/${c.serialHex} is ${row ? row.state : 'not reserved'}`,
            );
          throw new StoreError(
            'constraint',
            `${c.issuerId}/${c.serialHex}: der is not the reserved TBSCertificate`,
          );
        }
        this.append(op.audit);
        return undefined;
      }
      case 'voidReservation': {
        if (s.voidReservation.run(op.serialHex, op.issuerId).changes > 0) this.append(op.audit);
        return undefined;
      }
      case 'importCertificates': {
        let n = 0;
        for (const [i, r] of op.records.entries()) {
          const k = op.keys[i]!;
          const info = s.importReserve.run(
            r.issuerId,
            r.serialHex,
            r.profile,
            r.subject,
            k.subjectLc,
            k.cnLc,
            JSON.stringify(r.sans),
            r.notBefore,
            r.notAfter,
            r.requester,
            r.issuedAt,
            r.issuedAt,
          );
          if (info.changes === 0) continue;
          const id = info.lastInsertRowid;
          for (const san of k.sansLc) s.insertSan.run(san, id);
          s.importIssue.run(r.issuedAt, r.issuedAt, id);
          if (r.revocation) {
            s.revoke.run(r.revocation.time, r.revocation.reason, r.revocation.invalidityDate ?? null, id);
            s.statusChange.run(r.issuerId, r.serialHex, op.audit.event.time);
          }
          n++;
        }
        if (n > 0) this.append(op.audit);
        return n;
      }
      case 'revoke': {
        const row = s.revocationOf.get(op.serialHex, op.issuerId) as RevocationRow | undefined;
        if (row?.state !== 'issued') return 'not-issued';
        if (row.revoked_at !== null) {
          // RFC 5280 §5.3.1: a hold may become a permanent revocation; anything else stays as it is.
          if (row.revocation_reason !== 'certificateHold' || op.r.reason === 'certificateHold')
            return 'already-revoked';
          s.escalate.run(op.r.reason, op.r.invalidityDate ?? null, row.id);
        } else {
          s.revoke.run(op.r.time, op.r.reason, op.r.invalidityDate ?? null, row.id);
        }
        s.statusChange.run(op.issuerId, op.serialHex, op.audit.event.time);
        this.append(op.audit);
        return 'revoked';
      }
      case 'releaseHold': {
        const row = s.revocationOf.get(op.serialHex, op.issuerId) as RevocationRow | undefined;
        if (row?.state !== 'issued') return 'not-issued';
        if (row.revocation_reason !== 'certificateHold') return 'not-on-hold';
        s.release_.run(row.id);
        s.statusChange.run(op.issuerId, op.serialHex, op.audit.event.time);
        this.append(op.audit);
        return 'released';
      }
      case 'nextCrlNumber': {
        const row = s.nextCrlNumber.get(op.issuerId) as { crl_number: bigint } | undefined;
        if (!row) throw new StoreError('unknown-issuer', `no issuer ${op.issuerId}`);
        return row.crl_number;
      }
      case 'saveCrl': {
        const c = op.crl;
        if (!s.issuerStatus.get(c.issuerId))
          throw new StoreError('unknown-issuer', `no issuer ${c.issuerId}`);
        s.saveCrl.run(c.issuerId, c.crlNumber, c.thisUpdate, c.nextUpdate, c.der);
        s.pruneCrls.run(c.issuerId, c.issuerId, CRLS_KEPT);
        return undefined;
      }
      case 'appendAudit':
        return op.events.map((e) => this.append(e));
      case 'setSetting':
        s.setSetting.run(op.key, op.value);
        return undefined;
      case 'addPending': {
        const r = op.p;
        const info = s.addPending.run(
          r.id,
          r.profile,
          r.requester,
          r.csr,
          r.subject,
          JSON.stringify(r.sans),
          r.validityDays ?? null,
          r.createdAt,
        );
        if (info.changes === 0) return 'exists';
        this.append(op.audit);
        return 'added';
      }
      case 'decidePending': {
        const d = op.d;
        if (s.decidePending.run(d.state, d.by, d.at, d.reason ?? null, op.id).changes === 0)
          return 'not-pending';
        this.append(op.audit);
        return 'decided';
      }
      case 'addEnrollmentCredential': {
        const c = op.c;
        const info = s.addCredential.run(
          c.id,
          c.label,
          c.subject ?? null,
          c.secretHash,
          c.createdAt,
          c.expiresAt,
          c.createdBy,
        );
        if (info.changes === 0) return 'duplicate';
        this.append(op.audit);
        return 'added';
      }
      case 'useEnrollmentCredential': {
        if (s.useCredential.run(op.at, op.requestId, op.id).changes > 0) return 'used';
        const row = s.credentialUse.get(op.id) as { used_for: string | null } | undefined;
        if (!row) return 'not-found';
        return row.used_for === op.requestId ? 'same-request' : 'already-used';
      }
      case 'releaseEnrollmentCredential':
        return s.releaseCredential.run(op.id, op.requestId).changes > 0 ? 'released' : 'not-used';
    }
  }

  private insertIssuer(i: IssuerRecord): boolean {
    return (
      this.s.insertIssuer.run(
        i.id,
        i.role,
        i.parentId ?? null,
        i.status,
        i.certificate,
        keyToJson(i.key),
        i.createdAt,
        i.lastCrlNumber ?? 0n,
      ).changes > 0
    );
  }

  private append(q: QueuedAudit): AuditRecord {
    const prev = this.head ??
      (this.s.auditHead.get() as { seq: number; hash: string } | undefined) ?? { seq: 0, hash: GENESIS_HASH };
    const seq = prev.seq + 1;
    const hash = auditHash(prev.hash, seq, q.event);
    const e = q.event;
    this.s.insertAudit.run(
      seq,
      e.time,
      e.actor,
      e.action,
      e.result,
      e.issuerId ?? null,
      e.serialHex ?? null,
      e.fingerprint ?? null,
      q.detailJson ?? null,
      prev.hash,
      hash,
    );
    this.head = { seq, hash };
    return auditRecord(q, seq, prev.hash, hash);
  }
}

interface RevocationRow {
  id: number;
  state: string;
  revoked_at: number | null;
  revocation_reason: string | null;
}

function prepare(db: Database.Database) {
  const p = (sql: string) => db.prepare(sql);
  return {
    begin: p('BEGIN IMMEDIATE'),
    commit: p('COMMIT'),
    rollback: p('ROLLBACK'),
    savepoint: p('SAVEPOINT op'),
    release: p('RELEASE op'),
    rollbackTo: p('ROLLBACK TO op'),
    anyIssuer: p('SELECT 1 FROM issuers LIMIT 1'),
    insertIssuer: p(
      `INSERT INTO issuers (id, role, parent_id, status, certificate, key_ref, created_at, crl_number)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
    ),
    issuerStatus: p('SELECT status FROM issuers WHERE id = ?'),
    setIssuerStatus: p('UPDATE issuers SET status = ? WHERE id = ?'),
    reserve: p(
      `INSERT INTO certificates (issuer_id, serial, state, profile, subject, subject_lc, cn_lc, sans,
         not_before, not_after, requester, request_id, reserved_at, listed_at, tbs)
       VALUES (?, ?, 'reserved', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    ),
    requestExists: p('SELECT 1 FROM certificates WHERE request_id = ?'),
    // An imported record: reserved with an empty tbs, then issued with an empty der (schema V3).
    importReserve: p(
      `INSERT INTO certificates (issuer_id, serial, state, profile, subject, subject_lc, cn_lc, sans,
         not_before, not_after, requester, reserved_at, listed_at, tbs, migrated)
       VALUES (?, ?, 'reserved', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, x'', 1) ON CONFLICT DO NOTHING`,
    ),
    importIssue: p(
      `UPDATE certificates SET state = 'issued', der = x'', fingerprint = '', issued_at = ?, listed_at = ?, tbs = NULL
       WHERE id = ?`,
    ),
    insertSan: p('INSERT OR IGNORE INTO certificate_sans (san, certificate_id) VALUES (?, ?)'),
    // The stored certificate must carry, at the TBSCertificate's offset, the exact bytes reserved.
    complete: p(
      `UPDATE certificates SET state = 'issued', der = ?, fingerprint = ?, issued_at = ?, listed_at = ?, tbs = NULL
       WHERE serial = ? AND issuer_id = ? AND state = 'reserved' AND substr(?, ?, length(tbs)) = tbs`,
    ),
    stateOf: p('SELECT state FROM certificates WHERE serial = ? AND issuer_id = ?'),
    voidReservation: p(
      `UPDATE certificates SET state = 'void' WHERE serial = ? AND issuer_id = ? AND state = 'reserved'`,
    ),
    revocationOf: p(
      'SELECT id, state, revoked_at, revocation_reason FROM certificates WHERE serial = ? AND issuer_id = ?',
    ),
    revoke: p(
      'UPDATE certificates SET revoked_at = ?, revocation_reason = ?, invalidity_date = ? WHERE id = ?',
    ),
    escalate: p(
      'UPDATE certificates SET revocation_reason = ?, invalidity_date = coalesce(?, invalidity_date) WHERE id = ?',
    ),
    release_: p(
      'UPDATE certificates SET revoked_at = NULL, revocation_reason = NULL, invalidity_date = NULL WHERE id = ?',
    ),
    statusChange: p('INSERT INTO status_changes (issuer_id, serial, at) VALUES (?, ?, ?)'),
    nextCrlNumber: p(
      'UPDATE issuers SET crl_number = crl_number + 1 WHERE id = ? RETURNING crl_number',
    ).safeIntegers(true),
    saveCrl: p(
      'INSERT INTO crls (issuer_id, crl_number, this_update, next_update, der) VALUES (?, ?, ?, ?, ?)',
    ),
    pruneCrls: p(
      `DELETE FROM crls WHERE issuer_id = ? AND crl_number <=
         (SELECT crl_number FROM crls WHERE issuer_id = ? ORDER BY crl_number DESC LIMIT 1 OFFSET ?)`,
    ),
    auditHead: p('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1'),
    insertAudit: p(
      `INSERT INTO audit (seq, time, actor, action, result, issuer_id, serial, fingerprint, detail, prev_hash, hash)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    setSetting: p(
      'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ),
    addPending: p(
      `INSERT INTO pending_requests (id, state, profile, requester, csr, subject, sans, validity_days, created_at)
       VALUES (?, 'pending', ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
    ),
    decidePending: p(
      `UPDATE pending_requests SET state = ?, decided_by = ?, decided_at = ?, reason = ?
       WHERE id = ? AND state = 'pending'`,
    ),
    addCredential: p(
      `INSERT INTO enrollment_credentials (id, label, subject, secret_hash, created_at, expires_at, created_by)
       VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
    ),
    useCredential: p(
      'UPDATE enrollment_credentials SET used_at = ?, used_for = ? WHERE id = ? AND used_at IS NULL',
    ),
    credentialUse: p('SELECT used_for FROM enrollment_credentials WHERE id = ?'),
    releaseCredential: p(
      'UPDATE enrollment_credentials SET used_at = NULL, used_for = NULL WHERE id = ? AND used_for = ?',
    ),
  };
}
