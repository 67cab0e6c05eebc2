import type pg from 'pg';
import { auditHash } from '../audit-hash.js';
import { auditRecord, CRLS_KEPT, type Outcome, parentsFirst, type QueuedAudit, type WriteOp } from './ops.js';
import { isDatabaseError, pgError } from './postgres-error.js';
import { keyToJson } from './records.js';
import { type AuditRecord, type IssuerRecord, StoreError } from './types.js';

/**
 * Runs batches of writes on PostgreSQL, one transaction per batch. The transaction first locks the
 * single `audit_head` row (FOR UPDATE): every write batch of every instance holds that lock until
 * its commit, so batches run one after the other — the audit chain is read and extended under the
 * lock (linear across instances), and two batches can never deadlock on each other's rows. The
 * audit records of the batch go in with one INSERT at the end.
 *
 * An op that cannot do what it was asked (not reserved, unknown issuer…) fails alone without
 * touching the database. A database error aborts the whole transaction: the batch is then run
 * again one op per transaction, so only the op at fault fails.
 */
export class PostgresWriter {
  /** Issuer ids known to exist (issuers are never deleted, so a hit never goes stale). */
  private readonly issuers = new Set<string>();

  constructor(private readonly pool: pg.Pool) {}

  async runBatch(ops: readonly WriteOp[]): Promise<Outcome[]> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      const err = pgError(e, 'cannot connect to PostgreSQL');
      return ops.map(() => fail(err));
    }
    let broken: Error | undefined;
    try {
      try {
        return await this.transaction(client, ops);
      } catch (e) {
        if (ops.length === 1 || !isDatabaseError(e) || isConnectionError(e)) {
          if (isConnectionError(e)) broken = e as Error;
          const err = pgError(e, ops.length === 1 ? ops[0]!.op : 'write transaction failed');
          return ops.map(() => fail(err));
        }
      }
      // Isolate the op at fault.
      const out: Outcome[] = [];
      for (const op of ops) {
        try {
          out.push(...(await this.transaction(client, [op])));
        } catch (e) {
          if (isConnectionError(e)) broken = e as Error;
          out.push(fail(pgError(e, op.op)));
        }
      }
      return out;
    } finally {
      client.release(broken);
    }
  }

  private async transaction(client: pg.PoolClient, ops: readonly WriteOp[]): Promise<Outcome[]> {
    await client.query('BEGIN');
    try {
      const head = (
        await client.query({
          name: 'fp_head',
          text: 'SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE',
        })
      ).rows[0] as { seq: string; hash: string } | undefined;
      if (!head) throw new StoreError('unavailable', 'audit_head row missing');
      const tx: Tx = { client, seq: Number(head.seq), hash: head.hash, audit: [] };
      const out: Outcome[] = [];
      for (let i = 0; i < ops.length; ) {
        const run = sameKindRun(ops, i);
        if (run.length > 1) {
          // Consecutive reserves or completions: one statement for the whole run.
          if (ops[i]!.op === 'reserve') await this.reserveRun(tx, run as ReserveOp[], out);
          else await this.completeRun(tx, run as CompleteOp[], out);
          i += run.length;
          continue;
        }
        const op = ops[i++]!;
        const mark = { seq: tx.seq, hash: tx.hash, n: tx.audit.length };
        try {
          out.push({ ok: true, value: await this.apply(tx, op) });
        } catch (e) {
          if (isDatabaseError(e)) throw e;
          // Our own refusal, raised before the op wrote anything.
          tx.seq = mark.seq;
          tx.hash = mark.hash;
          tx.audit.length = mark.n;
          out.push(fail(e as StoreError));
        }
      }
      if (tx.audit.length > 0) await flushAudit(tx);
      await client.query('COMMIT');
      return out;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      throw e;
    }
  }

  private async apply(tx: Tx, op: WriteOp): Promise<unknown> {
    const q = (name: string, text: string, values: unknown[]) => tx.client.query({ name, text, values });
    switch (op.op) {
      case 'initHierarchy': {
        if ((await q('fp_any_issuer', 'SELECT 1 FROM issuers LIMIT 1', [])).rowCount) return 'exists';
        for (const i of parentsFirst(op.issuers)) await this.insertIssuer(tx, i);
        append(tx, op.audit);
        return 'created';
      }
      case 'addIssuer': {
        const p = op.issuer.parentId;
        if (p !== undefined && !(await this.issuerExists(tx, p)))
          throw new StoreError('unknown-issuer', `no issuer ${p} (the parent of ${op.issuer.id})`);
        if (!(await this.insertIssuer(tx, op.issuer))) return 'duplicate';
        append(tx, op.audit);
        return 'added';
      }
      case 'setIssuerStatus': {
        const row = (await q('fp_issuer_status', 'SELECT status FROM issuers WHERE id = $1', [op.id]))
          .rows[0];
        if (!row) throw new StoreError('unknown-issuer', `no issuer ${op.id}`);
        if (row.status === op.status) return undefined;
        await q('fp_set_issuer_status', 'UPDATE issuers SET status = $1 WHERE id = $2', [op.status, op.id]);
        append(tx, op.audit);
        return undefined;
      }
      case 'reserve': {
        const r = op.r;
        if (!(await this.issuerExists(tx, r.issuerId)))
          throw new StoreError('unknown-issuer', `no issuer ${r.issuerId}`);
        const got = await q(
          'fp_reserve',
          `WITH c AS (
             INSERT INTO certificates (issuer_id, serial, state, profile, subject, subject_lc, cn_lc, sans,
               not_before, not_after, requester, request_id, reserved_at, listed_at, tbs)
             VALUES ($1, $2, 'reserved', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13)
             ON CONFLICT DO NOTHING RETURNING id),
           s AS (INSERT INTO certificate_sans (san, certificate_id) SELECT x, c.id FROM c, unnest($14::text[]) AS x)
           SELECT id FROM c`,
          [
            r.issuerId,
            r.serialHex,
            r.profile,
            r.subject,
            op.keys.subjectLc,
            op.keys.cnLc,
            JSON.stringify(r.sans),
            r.notBefore,
            r.notAfter,
            r.requester,
            r.requestId ?? null,
            r.reservedAt,
            r.tbs,
            op.keys.sansLc,
          ],
        );
        if (got.rowCount) return 'reserved';
        if (
          r.requestId !== undefined &&
          (await q('fp_request_exists', 'SELECT 1 FROM certificates WHERE request_id = $1', [r.requestId]))
            .rowCount
        )
          return 'request-exists';
        return 'serial-taken';
      }
      case 'complete': {
        const c = op.c;
        // The stored certificate must carry, at the TBSCertificate's offset, the exact bytes reserved.
        const done = await q(
          'fp_complete',
          `UPDATE certificates SET state = 'issued', der = $1::bytea, fingerprint = $2, issued_at = $3, listed_at = $3, tbs = NULL
           WHERE serial = $4 AND issuer_id = $5 AND state = 'reserved' AND substring($1::bytea from $6::int for length(tbs)) = tbs
           RETURNING id`,
          [c.der, c.fingerprint, c.issuedAt, c.serialHex, c.issuerId, op.tbsOffset + 1],
        );
        if (!done.rowCount) {
          const row = (
            await q('fp_state', 'SELECT state FROM certificates WHERE serial = $1 AND issuer_id = $2', [
              c.serialHex,
              c.issuerId,
            ])
          ).rows[0] as { state: string } | undefined;
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
        append(tx, op.audit);
        return undefined;
      }
      case 'voidReservation': {
        const done = await q(
          'fp_void',
          `UPDATE certificates SET state = 'void' WHERE serial = $1 AND issuer_id = $2 AND state = 'reserved' RETURNING id`,
          [op.serialHex, op.issuerId],
        );
        if (done.rowCount) append(tx, op.audit);
        return undefined;
      }
      case 'revoke':
      case 'releaseHold': {
        const row = (
          await q(
            'fp_revocation_of',
            'SELECT id, state, revoked_at, revocation_reason FROM certificates WHERE serial = $1 AND issuer_id = $2',
            [op.serialHex, op.issuerId],
          )
        ).rows[0] as
          | { id: string; state: string; revoked_at: string | null; revocation_reason: string | null }
          | undefined;
        if (row?.state !== 'issued') return 'not-issued';
        if (op.op === 'revoke') {
          if (row.revoked_at !== null) {
            // RFC 5280 §5.3.1: a hold may become a permanent revocation; anything else stays as it is.
            if (row.revocation_reason !== 'certificateHold' || op.r.reason === 'certificateHold')
              return 'already-revoked';
            await q(
              'fp_escalate',
              'UPDATE certificates SET revocation_reason = $1, invalidity_date = coalesce($2, invalidity_date) WHERE id = $3',
              [op.r.reason, op.r.invalidityDate ?? null, row.id],
            );
          } else {
            await q(
              'fp_revoke',
              'UPDATE certificates SET revoked_at = $1, revocation_reason = $2, invalidity_date = $3 WHERE id = $4',
              [op.r.time, op.r.reason, op.r.invalidityDate ?? null, row.id],
            );
          }
        } else {
          if (row.revocation_reason !== 'certificateHold') return 'not-on-hold';
          await q(
            'fp_release',
            'UPDATE certificates SET revoked_at = NULL, revocation_reason = NULL, invalidity_date = NULL WHERE id = $1',
            [row.id],
          );
        }
        await q(
          'fp_status_change',
          'INSERT INTO status_changes (issuer_id, serial, at) VALUES ($1, $2, $3)',
          [op.issuerId, op.serialHex, op.audit.event.time],
        );
        append(tx, op.audit);
        return op.op === 'revoke' ? 'revoked' : 'released';
      }
      case 'nextCrlNumber': {
        const row = (
          await q(
            'fp_next_crl',
            'UPDATE issuers SET crl_number = crl_number + 1 WHERE id = $1 RETURNING crl_number',
            [op.issuerId],
          )
        ).rows[0] as { crl_number: string } | undefined;
        if (!row) throw new StoreError('unknown-issuer', `no issuer ${op.issuerId}`);
        return BigInt(row.crl_number);
      }
      case 'saveCrl': {
        const c = op.crl;
        if (!(await this.issuerExists(tx, c.issuerId)))
          throw new StoreError('unknown-issuer', `no issuer ${c.issuerId}`);
        const saved = await q(
          'fp_save_crl',
          `INSERT INTO crls (issuer_id, crl_number, this_update, next_update, der) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT DO NOTHING RETURNING crl_number`,
          [c.issuerId, c.crlNumber, c.thisUpdate, c.nextUpdate, c.der],
        );
        if (!saved.rowCount)
          throw new StoreError('constraint', `CRL ${c.crlNumber} of ${c.issuerId} is already stored`);
        await q(
          'fp_prune_crls',
          `DELETE FROM crls WHERE issuer_id = $1 AND crl_number <=
             (SELECT crl_number FROM crls WHERE issuer_id = $1 ORDER BY crl_number DESC OFFSET $2 LIMIT 1)`,
          [c.issuerId, CRLS_KEPT],
        );
        return undefined;
      }
      case 'appendAudit':
        return op.events.map((e) => append(tx, e));
      case 'setSetting':
        await q(
          'fp_set_setting',
          'INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
          [op.key, op.value],
        );
        return undefined;
      case 'addPending': {
        const r = op.p;
        const added = await q(
          'fp_add_pending',
          `INSERT INTO pending_requests (id, state, profile, requester, csr, subject, sans, validity_days, created_at)
           VALUES ($1, 'pending', $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING`,
          [
            r.id,
            r.profile,
            r.requester,
            r.csr,
            r.subject,
            JSON.stringify(r.sans),
            r.validityDays ?? null,
            r.createdAt,
          ],
        );
        if (!added.rowCount) return 'exists';
        append(tx, op.audit);
        return 'added';
      }
      case 'decidePending': {
        const d = op.d;
        const decided = await q(
          'fp_decide_pending',
          `UPDATE pending_requests SET state = $1, decided_by = $2, decided_at = $3, reason = $4
           WHERE id = $5 AND state = 'pending'`,
          [d.state, d.by, d.at, d.reason ?? null, op.id],
        );
        if (!decided.rowCount) return 'not-pending';
        append(tx, op.audit);
        return 'decided';
      }
    }
  }

  /** A run of reserves (distinct serials and request ids) as one INSERT; outcomes appended to `out`. */
  private async reserveRun(tx: Tx, run: ReserveOp[], out: Outcome[]): Promise<void> {
    const results: Outcome[] = run.map(() => ({ ok: true, value: 'reserved' }));
    const live: number[] = [];
    for (const [k, op] of run.entries()) {
      if (await this.issuerExists(tx, op.r.issuerId)) live.push(k);
      else results[k] = fail(new StoreError('unknown-issuer', `no issuer ${op.r.issuerId}`));
    }
    const col = <T>(f: (op: ReserveOp) => T) => live.map((k) => f(run[k]!));
    const sanOrd: number[] = [];
    const sanText: string[] = [];
    for (const k of live)
      for (const s of run[k]!.keys.sansLc) {
        sanOrd.push(k);
        sanText.push(s);
      }
    const inserted = await tx.client.query({
      name: 'fp_reserve_run',
      text: `WITH i AS (
               SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                 $8::text[], $9::bigint[], $10::bigint[], $11::text[], $12::text[], $13::bigint[], $14::bytea[])
                 AS t(ord, issuer_id, serial, profile, subject, subject_lc, cn_lc, sans, not_before, not_after,
                      requester, request_id, reserved_at, tbs)),
             ins AS (
               INSERT INTO certificates (issuer_id, serial, state, profile, subject, subject_lc, cn_lc, sans,
                 not_before, not_after, requester, request_id, reserved_at, listed_at, tbs)
               SELECT issuer_id, serial, 'reserved', profile, subject, subject_lc, cn_lc, sans, not_before, not_after,
                 requester, request_id, reserved_at, reserved_at, tbs FROM i ORDER BY ord
               ON CONFLICT DO NOTHING RETURNING id, issuer_id, serial),
             done AS (SELECT i.ord, ins.id FROM ins JOIN i USING (issuer_id, serial)),
             s AS (
               INSERT INTO certificate_sans (certificate_id, san)
               SELECT done.id, x.san FROM done JOIN unnest($15::int[], $16::text[]) AS x(ord, san) USING (ord))
           SELECT ord FROM done`,
      values: [
        live,
        col((o) => o.r.issuerId),
        col((o) => o.r.serialHex),
        col((o) => o.r.profile),
        col((o) => o.r.subject),
        col((o) => o.keys.subjectLc),
        col((o) => o.keys.cnLc),
        col((o) => JSON.stringify(o.r.sans)),
        col((o) => o.r.notBefore),
        col((o) => o.r.notAfter),
        col((o) => o.r.requester),
        col((o) => o.r.requestId ?? null),
        col((o) => o.r.reservedAt),
        col((o) => o.r.tbs),
        sanOrd,
        sanText,
      ],
    });
    const won = new Set((inserted.rows as { ord: number }[]).map((r) => r.ord));
    const lost = live.filter((k) => !won.has(k));
    if (lost.length > 0) {
      const ids = lost.map((k) => run[k]!.r.requestId).filter((x): x is string => x !== undefined);
      const taken = new Set(
        ids.length === 0
          ? []
          : (
              await tx.client.query({
                name: 'fp_requests_exist',
                text: 'SELECT request_id FROM certificates WHERE request_id = ANY($1::text[])',
                values: [ids],
              })
            ).rows.map((r: { request_id: string }) => r.request_id),
      );
      for (const k of lost) {
        const id = run[k]!.r.requestId;
        results[k] = {
          ok: true,
          value: id !== undefined && taken.has(id) ? 'request-exists' : 'serial-taken',
        };
      }
    }
    out.push(...results);
  }

  /** A run of completions (distinct rows) as one UPDATE; each audited, in order, once it is done. */
  private async completeRun(tx: Tx, run: CompleteOp[], out: Outcome[]): Promise<void> {
    const col = <T>(f: (op: CompleteOp) => T) => run.map(f);
    const done = await tx.client.query({
      name: 'fp_complete_run',
      // The stored certificate must carry, at the TBSCertificate's offset, the exact bytes reserved.
      text: `UPDATE certificates c SET state = 'issued', der = i.der, fingerprint = i.fingerprint,
               issued_at = i.issued_at, listed_at = i.issued_at, tbs = NULL
             FROM unnest($1::int[], $2::text[], $3::text[], $4::bytea[], $5::text[], $6::bigint[], $7::int[])
               AS i(ord, issuer_id, serial, der, fingerprint, issued_at, off)
             WHERE c.serial = i.serial AND c.issuer_id = i.issuer_id AND c.state = 'reserved'
               AND substring(i.der from i.off for length(c.tbs)) = c.tbs
             RETURNING i.ord`,
      values: [
        run.map((_, k) => k),
        col((o) => o.c.issuerId),
        col((o) => o.c.serialHex),
        col((o) => o.c.der),
        col((o) => o.c.fingerprint),
        col((o) => o.c.issuedAt),
        col((o) => o.tbsOffset + 1),
      ],
    });
    const ok = new Set((done.rows as { ord: number }[]).map((r) => r.ord));
    for (const [k, op] of run.entries()) {
      if (ok.has(k)) {
        append(tx, op.audit);
        out.push({ ok: true, value: undefined });
        continue;
      }
      const row = (
        await tx.client.query({
          name: 'fp_state',
          text: 'SELECT state FROM certificates WHERE serial = $1 AND issuer_id = $2',
          values: [op.c.serialHex, op.c.issuerId],
        })
      ).rows[0] as { state: string } | undefined;
      out.push(
        fail(
          row?.state !== 'reserved'
            ? new StoreError(
                'not-reserved',
                `${op.c.issuerId}/${op.c.serialHex} is ${row ? row.state : 'not reserved'}`,
              )
            : new StoreError(
                'constraint',
                `${op.c.issuerId}/${op.c.serialHex}: der is not the reserved TBSCertificate`,
              ),
        ),
      );
    }
  }

  private async issuerExists(tx: Tx, id: string): Promise<boolean> {
    if (this.issuers.has(id)) return true;
    const found = (
      await tx.client.query({
        name: 'fp_issuer_exists',
        text: 'SELECT 1 FROM issuers WHERE id = $1',
        values: [id],
      })
    ).rowCount;
    if (found) this.issuers.add(id);
    return Boolean(found);
  }

  private async insertIssuer(tx: Tx, i: IssuerRecord): Promise<boolean> {
    const r = await tx.client.query({
      name: 'fp_insert_issuer',
      text: `INSERT INTO issuers (id, role, parent_id, status, certificate, key_ref, created_at, crl_number)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING RETURNING id`,
      values: [
        i.id,
        i.role,
        i.parentId ?? null,
        i.status,
        i.certificate,
        keyToJson(i.key),
        i.createdAt,
        i.lastCrlNumber ?? 0n,
      ],
    });
    return Boolean(r.rowCount);
  }
}

type ReserveOp = Extract<WriteOp, { op: 'reserve' }>;
type CompleteOp = Extract<WriteOp, { op: 'complete' }>;

/** Most ops in one run statement. */
const MAX_RUN = 256;

/**
 * The ops from `i` on that can go in one statement: consecutive reserves (or completions) with no
 * serial — and no request id — twice, so that each input row matches at most one table row.
 */
function sameKindRun(ops: readonly WriteOp[], i: number): WriteOp[] {
  const first = ops[i]!;
  if (first.op !== 'reserve' && first.op !== 'complete') return [first];
  const seen = new Set<string>();
  const out: WriteOp[] = [];
  for (let j = i; j < ops.length && out.length < MAX_RUN; j++) {
    const op = ops[j]!;
    if (op.op !== first.op) break;
    const keys =
      op.op === 'reserve'
        ? [
            `s:${op.r.issuerId}/${op.r.serialHex}`,
            ...(op.r.requestId === undefined ? [] : [`r:${op.r.requestId}`]),
          ]
        : [`s:${op.c.issuerId}/${op.c.serialHex}`];
    if (keys.some((k) => seen.has(k))) break;
    for (const k of keys) seen.add(k);
    out.push(op);
  }
  return out;
}

/** A batch transaction in progress: its connection, the audit head, the audit rows still to insert. */
interface Tx {
  client: pg.PoolClient;
  seq: number;
  hash: string;
  audit: { rec: AuditRecord; detailJson: string | null }[];
}

function append(tx: Tx, q: QueuedAudit): AuditRecord {
  const seq = tx.seq + 1;
  const hash = auditHash(tx.hash, seq, q.event);
  const rec = auditRecord(q, seq, tx.hash, hash);
  tx.audit.push({ rec, detailJson: q.detailJson ?? null });
  tx.seq = seq;
  tx.hash = hash;
  return rec;
}

/** Inserts the batch's audit records (in seq order: the link trigger checks each against the last) and moves the head. */
async function flushAudit(tx: Tx): Promise<void> {
  const col = <T>(f: (r: AuditRecord) => T) => tx.audit.map((a) => f(a.rec));
  await tx.client.query({
    name: 'fp_flush_audit',
    text: `WITH r AS (
             SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
               $8::text[], $9::text[], $10::text[], $11::text[])
               AS r(seq, time, actor, action, result, issuer_id, serial, fingerprint, detail, prev_hash, hash)),
           ins AS (
             INSERT INTO audit (seq, time, actor, action, result, issuer_id, serial, fingerprint, detail, prev_hash, hash)
             SELECT * FROM r ORDER BY seq)
           UPDATE audit_head SET seq = $12, hash = $13 WHERE id = 1`,
    values: [
      col((r) => r.seq),
      col((r) => r.time),
      col((r) => r.actor),
      col((r) => r.action),
      col((r) => r.result),
      col((r) => r.issuerId ?? null),
      col((r) => r.serialHex ?? null),
      col((r) => r.fingerprint ?? null),
      tx.audit.map((a) => a.detailJson),
      col((r) => r.prevHash),
      col((r) => r.hash),
      tx.seq,
      tx.hash,
    ],
  });
}

function fail(e: StoreError): Outcome {
  return { ok: false, code: e.code, message: e.message };
}

/** Errors that mean the connection itself is gone (it is then not returned to the pool). */
function isConnectionError(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && /^(08|57P)/.test(code)) return true;
  const msg = (e as Error)?.message ?? '';
  return /Connection terminated|ECONNRESET|EPIPE|not queryable/i.test(msg);
}
