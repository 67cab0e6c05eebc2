import { createHash } from 'node:crypto';
import type { AuditEvent } from './store/types.js';

/**
 * The audit log's hash chain. Each record's `hash` is
 *
 *   SHA-256( prevHash ‖ 0x0a ‖ canonicalJson({ seq, time, actor, action, result, issuerId,
 *            serialHex, fingerprint, detail }) )
 *
 * in lower-case hex, where `prevHash` is the previous record's hash (GENESIS_HASH for seq 1) and
 * canonicalJson sorts object keys and omits undefined members. Editing a record changes its hash;
 * reordering or removing one breaks the next record's `prevHash` link, and `seq` must run 1, 2, 3…
 * without gaps — so `fleetpki audit verify` names the first record that does not fit.
 */
export const GENESIS_HASH = '0'.repeat(64);

/** The hash of record `seq` after `prevHash` (see above). */
export function auditHash(prevHash: string, seq: number, e: AuditEvent): string {
  const body = canonicalJson({
    seq,
    time: e.time,
    actor: e.actor,
    action: e.action,
    result: e.result,
    issuerId: e.issuerId,
    serialHex: e.serialHex,
    fingerprint: e.fingerprint,
    detail: e.detail,
  });
  return createHash('sha256').update(`${prevHash}\n${body}`).digest('hex');
}

/** JSON with object keys sorted at every level and undefined members left out (deterministic). */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : canonicalJson(x))).join(',')}]`;
  const keys = Object.keys(v as Record<string, unknown>)
    .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
}
