import { auditHash, GENESIS_HASH } from './audit-hash.js';
import type { AuditRecord, Store } from './store/types.js';

/**
 * `fleetpki audit verify`: walks the store's audit log from the first record and recomputes the
 * hash chain (audit-hash.ts). The first record that does not fit is named:
 * - `hash-mismatch`: its content was edited (its hash is not the hash of what it says);
 * - `broken-link`: its `prevHash` is not the previous record's hash (a record before it was
 *   removed, or records were reordered);
 * - `seq-gap`: sequence numbers do not run 1, 2, 3, … (a removed or reordered record).
 *
 * What a hash chain cannot show by itself: the removal of the *last* records (truncation). Pass
 * `expectHead` (a `{ seq, hash }` noted elsewhere earlier: a log shipper, a ticket, a printout)
 * to check that the log still reaches it.
 */
export type AuditVerifyResult =
  | { ok: true; records: number; head?: { seq: number; hash: string } }
  | {
      ok: false;
      code: 'hash-mismatch' | 'broken-link' | 'seq-gap' | 'truncated';
      /** The first record that does not fit (for `truncated`, the expected head's seq). */
      seq: number;
      message: string;
      /** Records checked before the failure. */
      records: number;
    };

/** Options of `verifyAudit`. */
export interface AuditVerifyOptions {
  expectHead?: { seq: number; hash: string };
  /** Records read per store query (default 1000). */
  pageSize?: number;
}

/** Walks the audit chain from record 1; see the header. */
export async function verifyAudit(store: Store, o: AuditVerifyOptions = {}): Promise<AuditVerifyResult> {
  const page = o.pageSize ?? 1000;
  let prevHash = GENESIS_HASH;
  let expectSeq = 1;
  let last: AuditRecord | undefined;
  let count = 0;
  let after = 0;
  for (;;) {
    const rows = await store.readAudit(after, page);
    for (const r of rows) {
      if (r.seq !== expectSeq)
        return fail(
          'seq-gap',
          r.seq,
          `record ${r.seq} follows ${expectSeq - 1}: a record is missing or out of order`,
        );
      if (r.prevHash !== prevHash)
        return fail(
          'broken-link',
          r.seq,
          `record ${r.seq} does not link to record ${r.seq - 1} (removed or reordered)`,
        );
      if (auditHash(r.prevHash, r.seq, r) !== r.hash)
        return fail(
          'hash-mismatch',
          r.seq,
          `record ${r.seq} was altered (its hash does not match its content)`,
        );
      prevHash = r.hash;
      expectSeq++;
      count++;
      last = r;
      after = r.seq;
    }
    if (rows.length < page) break;
  }
  const head = last ? { seq: last.seq, hash: last.hash } : undefined;
  const e = o.expectHead;
  if (e && (!last || last.seq < e.seq))
    return fail(
      'truncated',
      e.seq,
      `the log ends at record ${last?.seq ?? 0}, before the expected head ${e.seq}`,
    );
  if (e && e.seq > 0) {
    const rows = await store.readAudit(e.seq - 1, 1);
    if (rows[0]?.hash !== e.hash)
      return fail('hash-mismatch', e.seq, `record ${e.seq} is not the expected head (the log was rewritten)`);
  }
  return { ok: true, records: count, head };

  function fail(
    code: 'hash-mismatch' | 'broken-link' | 'seq-gap' | 'truncated',
    seq: number,
    message: string,
  ): AuditVerifyResult {
    return { ok: false, code, seq, message, records: count };
  }
}
