// The inventory's URL (what the filter form writes, what a bookmark keeps) and the admin API query
// it stands for. Expiry windows are relative ("the next 7 days") in the URL and absolute in the
// query, anchored at the time the filters were applied.
import type { CertificateSearch } from '../api.js';
import { DAY_MS } from '../format.js';

/** The inventory's URL parameters. */
export const FILTERS = [
  'subject',
  'san',
  'serial',
  'profile',
  'status',
  'issuer',
  'expires',
  'from',
  'to',
] as const;
export type Filter = (typeof FILTERS)[number];
export type Filters = Partial<Record<Filter, string>>;

export const SORTS = {
  'issuedAt-desc': 'Newest first',
  'issuedAt-asc': 'Oldest first',
  'notAfter-asc': 'Expiring first',
  'notAfter-desc': 'Expiring last',
} as const;
export type SortKey = keyof typeof SORTS;

export const EXPIRY_WINDOWS = {
  '': 'Any time',
  '7d': 'In the next 7 days',
  '30d': 'In the next 30 days',
  '90d': 'In the next 90 days',
  custom: 'Between dates…',
} as const;

export const PAGE_SIZES = ['25', '50', '100'] as const;

export function filtersOf(q: URLSearchParams): Filters {
  const f: Filters = {};
  for (const k of FILTERS) {
    const v = q.get(k);
    if (v) f[k] = v;
  }
  return f;
}

export function sortOf(q: URLSearchParams, f: Filters): SortKey {
  const s = `${q.get('sort') ?? ''}-${q.get('order') ?? ''}`;
  if (s in SORTS) return s as SortKey;
  return f.expires ? 'notAfter-asc' : 'issuedAt-desc';
}

/** The API query for the URL's filters, expiry windows anchored at `now`. */
export function searchOf(
  f: Filters,
  sort: SortKey,
  limit: number,
  cursor: string | undefined,
  now: number,
): CertificateSearch {
  const [by, order] = sort.split('-') as ['issuedAt' | 'notAfter', 'asc' | 'desc'];
  const q: CertificateSearch = { sort: by, order, limit };
  if (f.subject) q.subject = f.subject;
  if (f.san) q.san = f.san.includes(':') ? f.san : `dns:${f.san}`;
  if (f.serial) q.serial = f.serial;
  if (f.profile) q.profile = f.profile;
  if (f.status) q.status = f.status as CertificateSearch['status'];
  if (f.issuer) q.issuer = f.issuer;
  const m = /^(\d{1,3})d$/.exec(f.expires ?? '');
  if (m) {
    q.expiresAfter = new Date(now).toISOString();
    q.expiresBefore = new Date(now + Number(m[1]) * DAY_MS).toISOString();
  } else if (f.expires === 'custom') {
    if (f.from && /^\d{4}-\d{2}-\d{2}$/.test(f.from)) q.expiresAfter = `${f.from}T00:00:00.000Z`;
    if (f.to && /^\d{4}-\d{2}-\d{2}$/.test(f.to))
      q.expiresBefore = new Date(Date.parse(`${f.to}T00:00:00Z`) + DAY_MS).toISOString();
  }
  if (cursor) q.cursor = cursor;
  return q;
}

export function urlOf(f: Filters, sort: SortKey, limit: string, cursor?: string): string {
  const p = new URLSearchParams();
  for (const k of FILTERS) if (f[k]) p.set(k, f[k]!);
  const [by, order] = sort.split('-');
  if (sort !== sortOf(new URLSearchParams(), f)) {
    p.set('sort', by!);
    p.set('order', order!);
  }
  if (limit !== '50') p.set('limit', limit);
  if (cursor) p.set('cursor', cursor);
  const s = p.toString();
  return s ? `/certificates?${s}` : '/certificates';
}
