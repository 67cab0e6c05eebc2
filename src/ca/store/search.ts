import { CERTIFICATE_COLUMNS, type CursorKey, decodeCursor, prefixUpperBound } from './records.js';
import { RDN_SPECIALS } from './search-keys.js';
import { type CertificateQuery, type CertificateState, type CertificateStatus, StoreError } from './types.js';
import { checkLimit, checkText, checkTime } from './validate.js';

/**
 * `findCertificates` as SQL, shared by both backends (same tables, same columns; only the
 * parameter syntax differs). Keyset pagination: rows are ordered by (sort column, id) and a page
 * starts strictly after the previous page's last key, so its cost does not depend on its depth —
 * every plan is an index range scan from the cursor.
 *
 * The indexes this relies on (see the schemas): (not_after, id) and (listed_at, id) for the two
 * sorts, the same prefixed with issuer_id and with profile, partial ones over revoked rows, the
 * lower-cased subject and CN, serial (the UNIQUE (serial, issuer_id) index) and the SAN table.
 * `listed_at` is the issue time of an issued row and the reservation time of the others.
 */

/** Largest page `findCertificates` returns, whatever the caller asks. */
export const MAX_PAGE = 500;

const STATES: readonly CertificateState[] = ['reserved', 'issued', 'void'];
const STATUSES: readonly CertificateStatus[] = ['valid', 'revoked', 'hold', 'expired'];

/** A name filter (subject, SAN or serial prefix) whose matches may be few enough to fetch first. */
export interface NameFilter {
  /** SQL selecting the ids of the certificates matching the filter, and its parameters. */
  idsSql: string;
  params: unknown[];
}

export interface SearchSql {
  /** The page query: at most `limit + 1` rows (one more than asked tells whether a next page exists). */
  sql: string;
  params: unknown[];
  limit: number;
  sort: CursorKey['sort'];
  order: CursorKey['order'];
  /** The column holding the sort key of each row. */
  sortColumn: 'not_after' | 'listed_at';
  /** True when no row can match (a status with only non-issued states). */
  empty: boolean;
}

/**
 * Builds the page query. `param(i)` renders the i-th (0-based) placeholder: `?` for SQLite,
 * `$i+1` for PostgreSQL. `idsFirst`, when given, is a set of candidate ids already known to hold
 * every match (the caller found a name filter selective): the query then filters those ids only.
 */
export function buildSearch(
  q: CertificateQuery,
  param: (i: number) => string,
  opts: { idsFirst?: readonly number[] } = {},
): SearchSql {
  const limit = checkLimit(q.limit, 'limit', MAX_PAGE);
  const sort = q.sort ?? 'issuedAt';
  const order = q.order ?? 'desc';
  if (sort !== 'issuedAt' && sort !== 'notAfter')
    throw new StoreError('bad-input', 'sort: issuedAt or notAfter');
  if (order !== 'asc' && order !== 'desc') throw new StoreError('bad-input', 'order: asc or desc');
  const now = q.now === undefined ? Date.now() : checkTime(q.now, 'now');
  const sortColumn = sort === 'notAfter' ? 'not_after' : 'listed_at';

  const params: unknown[] = [];
  const p = (v: unknown) => {
    params.push(v);
    return param(params.length - 1);
  };
  const where: string[] = [];
  let empty = false;

  const states = q.states ?? ['issued'];
  if (!Array.isArray(states) || states.length === 0 || states.some((s) => !STATES.includes(s)))
    throw new StoreError('bad-input', 'states: a non-empty list of reserved, issued, void');
  if (q.status !== undefined) {
    if (!STATUSES.includes(q.status))
      throw new StoreError('bad-input', `status: one of ${STATUSES.join(', ')}`);
    if (!states.includes('issued')) empty = true;
    // Literal conditions, so that the partial indexes over revoked rows apply.
    where.push(`c.state = 'issued'`);
    if (q.status === 'valid') where.push(`c.revoked_at IS NULL`, `c.not_after >= ${p(now)}`);
    else if (q.status === 'expired') where.push(`c.revoked_at IS NULL`, `c.not_after < ${p(now)}`);
    else if (q.status === 'revoked')
      where.push(`c.revoked_at IS NOT NULL`, `c.revocation_reason <> 'certificateHold'`);
    else where.push(`c.revoked_at IS NOT NULL`, `c.revocation_reason = 'certificateHold'`);
  } else if (states.length === 1) {
    where.push(`c.state = '${states[0]}'`);
  } else if (states.length < STATES.length) {
    where.push(`c.state IN (${[...new Set(states)].map((s) => `'${s}'`).join(', ')})`);
  }

  if (q.issuerId !== undefined) where.push(`c.issuer_id = ${p(checkText(q.issuerId, 'issuerId'))}`);
  if (q.profile !== undefined) where.push(`c.profile = ${p(checkText(q.profile, 'profile'))}`);
  if (q.expiresFrom !== undefined) where.push(`c.not_after >= ${p(checkTime(q.expiresFrom, 'expiresFrom'))}`);
  if (q.expiresTo !== undefined) where.push(`c.not_after < ${p(checkTime(q.expiresTo, 'expiresTo'))}`);

  if (opts.idsFirst !== undefined) {
    // The candidates of a selective name filter: the filters below are re-applied to them.
    if (opts.idsFirst.length === 0) empty = true;
    else where.push(`c.id IN (${opts.idsFirst.map((id) => p(id)).join(', ')})`);
  }
  for (const f of nameFilters(q, p)) where.push(f);

  if (q.cursor !== undefined) {
    const k = decodeCursor(q.cursor, sort, order);
    where.push(`(c.${sortColumn}, c.id) ${order === 'asc' ? '>' : '<'} (${p(k.value)}, ${p(k.id)})`);
  }

  const dir = order === 'asc' ? 'ASC' : 'DESC';
  const sql =
    `SELECT ${CERTIFICATE_COLUMNS} FROM certificates c` +
    (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
    ` ORDER BY c.${sortColumn} ${dir}, c.id ${dir} LIMIT ${limit + 1}`;
  return { sql, params, limit, sort, order, sortColumn, empty };
}

/** The subject, SAN and serial conditions of a query (each an index range), rendered with `p`. */
function nameFilters(q: CertificateQuery, p: (v: unknown) => string): string[] {
  const out: string[] = [];
  if (q.subject !== undefined && q.subject !== '')
    out.push(subjectCondition(checkText(q.subject, 'subject'), p));
  if (q.san !== undefined && q.san !== '') {
    const s = checkText(q.san, 'san').toLowerCase();
    const cond = s.endsWith('*') ? range('san', s.slice(0, -1), p) : `san = ${p(s)}`;
    out.push(`c.id IN (SELECT certificate_id FROM certificate_sans WHERE ${cond})`);
  }
  if (q.serial !== undefined && q.serial !== '') {
    const s = checkText(q.serial, 'serial').toLowerCase();
    if (!/^[0-9a-f]+$/.test(s)) throw new StoreError('bad-input', 'serial: hex digits');
    out.push(range('c.serial', s, p));
  }
  return out;
}

/**
 * A case-insensitive prefix of the subject text or of its CN. The CN is stored apart (`cn_lc`) only
 * when the text does not lead with it (search-keys.ts); otherwise a CN prefix `p` is the subject
 * prefix `cn=p` — exactly, as long as `p` has no character that ends or escapes a value (one that
 * does can only match a CN that contains it, and such a CN is stored apart).
 */
function subjectCondition(subject: string, p: (v: unknown) => string): string {
  const s = subject.toLowerCase();
  const alts = [range('c.subject_lc', s, p), range('c.cn_lc', s, p)];
  if (!RDN_SPECIALS.test(s)) alts.push(range('c.subject_lc', `cn=${s}`, p));
  return `(${alts.join(' OR ')})`;
}

/** `col` starts with `prefix`, as an index range. */
function range(col: string, prefix: string, p: (v: unknown) => string): string {
  const upper = prefixUpperBound(prefix);
  return upper === undefined ? `${col} >= ${p(prefix)}` : `(${col} >= ${p(prefix)} AND ${col} < ${p(upper)})`;
}
