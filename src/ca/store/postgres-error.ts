import { StoreError, type StoreErrorCode } from './types.js';

/**
 * A StoreError for what `pg` threw, by SQLSTATE (PostgreSQL Appendix A): 23503 foreign key →
 * `unknown-issuer` (every foreign key of the schema points at an issuer or a certificate), other
 * class 23 (integrity constraints, and our triggers' refusals) → `constraint`, everything else
 * (connection, shutdown, deadlock, timeouts) → `unavailable`. Messages never include the
 * connection string (it may carry a password).
 */
export function pgError(e: unknown, context: string): StoreError {
  if (e instanceof StoreError) return e;
  const code = (e as { code?: unknown }).code;
  let mapped: StoreErrorCode = 'unavailable';
  if (code === '23503') mapped = 'unknown-issuer';
  else if (typeof code === 'string' && code.startsWith('23')) mapped = 'constraint';
  const detail = (e as Error).message ?? String(e);
  return new StoreError(
    mapped,
    `${context}: ${detail}${typeof code === 'string' ? ` (SQLSTATE ${code})` : ''}`,
    {
      cause: e,
    },
  );
}

/** True for errors of the database (SQLSTATE) or the connection, as opposed to our own StoreErrors. */
export function isDatabaseError(e: unknown): boolean {
  return !(e instanceof StoreError);
}
