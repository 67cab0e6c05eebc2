import { CERTIFICATE_COLUMNS, type CursorKey, decodeCursor, prefixUpperBound } from './records.js';
import { RDN_SPECIALS } from './search-keys.js';
import { type CertificateQuery, type CertificateState, type CertificateStatus, StoreError } from './types.js';
import { checkLimit, checkText, checkTime } from './validate.js';

/**
 * `findCertificates` as SQL, shared by both backends (same tables and columns; the dialect only
 * renders placeholders, id lists and "do not use an index for this" differently). Keyset
 * pagination: rows are ordered by (sort column, id) and a page starts strictly after the previous
 * page's last key, so no plan ever skips rows it has already returned — page 10 000 costs what
 * page 1 costs.
 *
 * Two plans, chosen per query so that no page reads many rows it then throws away:
 * - name filters (subject, SAN, serial prefix) are first probed: each probe reads at most
 *   `CANDIDATE_LIMIT + 1` ids from its own index. If one finds no more, those ids are the
 *   candidates: the page filters and sorts just them.
 * - otherwise (no name filter, or every one matches many rows) the page walks the sort index from
 *   the cursor. The sort indexes carry the columns the common filters read (state, revoked_at,
 *   not_after; issuer and profile lead their own indexes), so the walk checks them in the index
 *   and only reads the rows it keeps: the page's ids are found first, then their rows fetched (a
 *   deferred join). A name filter that matched many rows is then checked per row — dense enough
 *   that a page is found after a few thousand entries at most.
 *
 * `listed_at` is the issue time of an issued row and the reservation time of the others.
 */

/** Largest page `findCertificates` returns, whatever the caller asks. */
export const MAX_PAGE = 500;
/** A name filter with at most this many matches is resolved to its ids first. */
export const CANDIDATE_LIMIT = 5000;

const STATES: readonly CertificateState[] = ['reserved', 'issued', 'void'];
const STATUSES: readonly CertificateStatus[] = ['valid', 'revoked', 'hold', 'expired'];

/** How a backend writes what differs between SQLite and PostgreSQL. */
export interface Dialect {
  /** The i-th (0-based) placeholder: `?` or `$i+1`. */
  param(i: number): string;
  /** `id` is one of `ids`, given as the parameter `p(ids)` renders (or one per id). */
  idIn(col: string, ids: readonly number[], p: (v: unknown) => string): string;
  /** `col` in a form the planner cannot use an index for (so the sort index drives the plan). */
  noIndex(col: string): string;
}

export const SQLITE_DIALECT: Dialect = {
  param: () => '?',
  idIn: (col, ids, p) => `${col} IN (${ids.map((id) => p(id)).join(', ')})`,
  noIndex: (col) => `+${col}`,
};

export const POSTGRES_DIALECT: Dialect = {
  param: (i) => `$${i + 1}`,
  idIn: (col, ids, p) => `${col} = ANY(${p(ids)}::bigint[])`,
  noIndex: (col) => `(${col} || '')`,
};

export interface SqlText {
  sql: string;
  params: unknown[];
}

export interface SearchPlan {
  limit: number;
  sort: CursorKey['sort'];
  order: CursorKey['order'];
  /** The column holding the sort key of each row. */
  sortColumn: 'not_after' | 'listed_at';
  /** True when no row can match (a status with only non-issued states). */
  empty: boolean;
  /** One query per name filter, each returning `id` of at most `CANDIDATE_LIMIT + 1` matching rows. */
  probes: SqlText[];
  /**
   * The page query, returning at most `limit + 1` rows (one more than asked tells whether a next
   * page exists): over `candidates` when a probe found few enough, else by the sort index.
   */
  page(candidates: readonly number[] | undefined): SqlText;
}

/** A filter condition rendered for either plan. */
interface Condition {
  /** For a plan where an index may serve it. */
  indexed: (p: (v: unknown) => string) => string;
  /** For the sort-index walk: no index, checked per row. */
  perRow: (p: (v: unknown) => string) => string;
}

export function planSearch(q: CertificateQuery, d: Dialect): SearchPlan {
  const limit = checkLimit(q.limit, 'limit', MAX_PAGE);
  const sort = q.sort ?? 'issuedAt';
  const order = q.order ?? 'desc';
  if (sort !== 'issuedAt' && sort !== 'notAfter')
    throw new StoreError('bad-input', 'sort: issuedAt or notAfter');
  if (order !== 'asc' && order !== 'desc') throw new StoreError('bad-input', 'order: asc or desc');
  const now = q.now === undefined ? Date.now() : checkTime(q.now, 'now');
  const sortColumn = sort === 'notAfter' ? 'not_after' : 'listed_at';
  const cursor = q.cursor === undefined ? undefined : decodeCursor(q.cursor, sort, order);

  // Plain filters: conditions on columns the sort indexes carry.
  const plain: ((p: (v: unknown) => string) => string)[] = [];
  let empty = false;
  const states = q.states ?? ['issued'];
  if (!Array.isArray(states) || states.length === 0 || states.some((s) => !STATES.includes(s)))
    throw new StoreError('bad-input', 'states: a non-empty list of reserved, issued, void');
  if (q.status !== undefined) {
    if (!STATUSES.includes(q.status))
      throw new StoreError('bad-input', `status: one of ${STATUSES.join(', ')}`);
    if (!states.includes('issued')) empty = true;
    // Literal conditions, so that the partial indexes over revoked rows apply.
    plain.push(() => `c.state = 'issued'`);
    if (q.status === 'valid')
      plain.push(
        () => 'c.revoked_at IS NULL',
        (p) => `c.not_after >= ${p(now)}`,
      );
    else if (q.status === 'expired')
      plain.push(
        () => 'c.revoked_at IS NULL',
        (p) => `c.not_after < ${p(now)}`,
      );
    else if (q.status === 'revoked')
      plain.push(
        () => 'c.revoked_at IS NOT NULL',
        () => `c.revocation_reason <> 'certificateHold'`,
      );
    else
      plain.push(
        () => 'c.revoked_at IS NOT NULL',
        () => `c.revocation_reason = 'certificateHold'`,
      );
  } else if (states.length === 1) {
    plain.push(() => `c.state = '${states[0]}'`);
  } else if (states.length < STATES.length) {
    plain.push(() => `c.state IN (${[...new Set(states)].map((s) => `'${s}'`).join(', ')})`);
  }
  if (q.issuerId !== undefined) {
    const v = checkText(q.issuerId, 'issuerId');
    plain.push((p) => `c.issuer_id = ${p(v)}`);
  }
  if (q.profile !== undefined) {
    const v = checkText(q.profile, 'profile');
    plain.push((p) => `c.profile = ${p(v)}`);
  }
  if (q.expiresFrom !== undefined) {
    const v = checkTime(q.expiresFrom, 'expiresFrom');
    plain.push((p) => `c.not_after >= ${p(v)}`);
  }
  if (q.expiresTo !== undefined) {
    const v = checkTime(q.expiresTo, 'expiresTo');
    plain.push((p) => `c.not_after < ${p(v)}`);
  }
  const names = nameConditions(q, d);

  const render = (parts: ((p: (v: unknown) => string) => string)[]) => {
    const params: unknown[] = [];
    const p = (v: unknown) => {
      params.push(v);
      return d.param(params.length - 1);
    };
    return { text: parts.map((f) => f(p)), params, p };
  };
  const dir = order === 'asc' ? 'ASC' : 'DESC';
  const orderBy = (t: string) => `ORDER BY ${t}.${sortColumn} ${dir}, ${t}.id ${dir}`;
  const keyset = (p: (v: unknown) => string) =>
    cursor === undefined
      ? undefined
      : `(c.${sortColumn}, c.id) ${order === 'asc' ? '>' : '<'} (${p(cursor.value)}, ${p(cursor.id)})`;

  return {
    limit,
    sort,
    order,
    sortColumn,
    empty,
    probes: names.map((n) => {
      const r = render([n.indexed]);
      return { sql: n.probe(r.text[0]!, CANDIDATE_LIMIT + 1), params: r.params };
    }),
    page: (candidates) => {
      const r = render([]);
      const where = plain.map((f) => f(r.p));
      if (candidates !== undefined) {
        if (candidates.length === 0)
          return { sql: `SELECT ${CERTIFICATE_COLUMNS} FROM certificates c WHERE 0 = 1`, params: [] };
        where.push(d.idIn('c.id', candidates, r.p));
        where.push(...names.map((n) => n.perRow(r.p)));
        const k = keyset(r.p);
        if (k) where.push(k);
        return {
          sql: `SELECT ${CERTIFICATE_COLUMNS} FROM certificates c WHERE ${where.join(' AND ')} ${orderBy('c')} LIMIT ${limit + 1}`,
          params: r.params,
        };
      }
      where.push(...names.map((n) => n.perRow(r.p)));
      const k = keyset(r.p);
      if (k) where.push(k);
      // The page's ids from the sort index, then their rows.
      const inner =
        `SELECT c.id FROM certificates c${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ` +
        `${orderBy('c')} LIMIT ${limit + 1}`;
      return {
        sql: `SELECT ${CERTIFICATE_COLUMNS} FROM certificates c WHERE c.id IN (${inner}) ${orderBy('c')}`,
        params: r.params,
      };
    },
  };
}

interface NameCondition extends Condition {
  /** The probe query around the indexed condition. */
  probe(indexedCondition: string, limit: number): string;
}

/** The subject, SAN and serial-prefix conditions of a query. */
function nameConditions(q: CertificateQuery, d: Dialect): NameCondition[] {
  const out: NameCondition[] = [];
  const rowProbe = (cond: string, limit: number) =>
    `SELECT c.id FROM certificates c WHERE ${cond} LIMIT ${limit}`;
  if (q.subject !== undefined && q.subject !== '') {
    const ranges = subjectRanges(checkText(q.subject, 'subject'));
    const render = (noIndex: boolean) => (p: (v: unknown) => string) =>
      `(${ranges.map(([col, prefix]) => range(noIndex ? d.noIndex(col) : col, prefix, p)).join(' OR ')})`;
    out.push({ indexed: render(false), perRow: render(true), probe: rowProbe });
  }
  if (q.san !== undefined && q.san !== '') {
    const s = checkText(q.san, 'san').toLowerCase();
    const cond = (col: string) => (p: (v: unknown) => string) =>
      s.endsWith('*') ? range(col, s.slice(0, -1), p) : `${col} = ${p(s)}`;
    out.push({
      indexed: cond('s.san'),
      // Per row: this certificate's own SAN entries (the table's primary key leads with its id).
      perRow: (p) =>
        `EXISTS (SELECT 1 FROM certificate_sans s WHERE s.certificate_id = c.id AND ${cond('s.san')(p)})`,
      probe: (c, limit) => `SELECT s.certificate_id AS id FROM certificate_sans s WHERE ${c} LIMIT ${limit}`,
    });
  }
  if (q.serial !== undefined && q.serial !== '') {
    const s = checkText(q.serial, 'serial').toLowerCase();
    if (!/^[0-9a-f]+$/.test(s)) throw new StoreError('bad-input', 'serial: hex digits');
    out.push({
      indexed: (p) => range('c.serial', s, p),
      perRow: (p) => range(d.noIndex('c.serial'), s, p),
      probe: rowProbe,
    });
  }
  return out;
}

/**
 * A case-insensitive prefix of the subject text or of its CN, as (column, prefix) ranges. The CN
 * is stored apart (`cn_lc`) only when the text does not lead with it (search-keys.ts); otherwise a
 * CN prefix `p` is the subject prefix `cn=p` — exactly, as long as `p` has no character that ends
 * or escapes a value (one that does can only match a CN that contains it, and such a CN is stored
 * apart).
 */
function subjectRanges(subject: string): [string, string][] {
  const s = subject.toLowerCase();
  const out: [string, string][] = [
    ['c.subject_lc', s],
    ['c.cn_lc', s],
  ];
  if (!RDN_SPECIALS.test(s)) out.push(['c.subject_lc', `cn=${s}`]);
  return out;
}

/** `col` starts with `prefix`, as a range. */
function range(col: string, prefix: string, p: (v: unknown) => string): string {
  const upper = prefixUpperBound(prefix);
  return upper === undefined ? `${col} >= ${p(prefix)}` : `(${col} >= ${p(prefix)} AND ${col} < ${p(upper)})`;
}
