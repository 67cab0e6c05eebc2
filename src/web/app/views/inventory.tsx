// The certificate inventory: filters in the URL (so a view can be bookmarked and shared), the search
// done by the service (`GET /api/v1/certificates`, keyset pagination), one page in the browser at a
// time. "Previous" walks back a trail of cursors kept in the history entry.
import { useMemo, useState } from 'preact/hooks';
import { CertificateStatus } from '../../../server/api/schemas.js';
import { Card, Empty, ErrorNotice, Link, PageHeader, StatusBadge } from '../components/ui.js';
import { commonName, count, relative, shortHex, utc } from '../format.js';
import { useApi, useAsync, useTitle } from '../hooks.js';
import {
  EXPIRY_WINDOWS,
  FILTERS,
  type Filter,
  type Filters,
  filtersOf,
  PAGE_SIZES,
  SORTS,
  type SortKey,
  searchOf,
  sortOf,
  urlOf,
} from '../model/inventory-query.js';
import { certificatePath, navigate } from '../router.js';

/** Cursors of the pages before this one (kept in the history entry). */
function trailOf(): string[] {
  const t = (history.state as { trail?: unknown } | null)?.trail;
  return Array.isArray(t) ? t.filter((x): x is string => typeof x === 'string').slice(-1000) : [];
}

function FilterForm(props: {
  filters: Filters;
  sort: SortKey;
  limit: string;
  profiles: string[];
  issuers: { id: string; name: string }[];
}) {
  const [f, setF] = useState<Filters>(props.filters);
  const [sort, setSort] = useState<SortKey>(props.sort);
  const [limit, setLimit] = useState(props.limit);
  const set = (k: Filter) => (e: Event) => setF({ ...f, [k]: (e.currentTarget as HTMLInputElement).value });
  const submit = (e: Event) => {
    e.preventDefault();
    const clean: Filters = {};
    for (const k of FILTERS) {
      const v = f[k]?.trim();
      if (v && (k !== 'from' && k !== 'to' ? true : f.expires === 'custom')) clean[k] = v;
    }
    navigate(urlOf(clean, sort, limit));
  };
  return (
    <form class="filters" onSubmit={submit} aria-label="Search certificates" data-testid="filters">
      <div class="filters-row">
        <div class="field">
          <label for="f-subject">Subject</label>
          <input
            id="f-subject"
            type="search"
            value={f.subject ?? ''}
            onInput={set('subject')}
            placeholder="CN or RFC 4514 prefix"
          />
        </div>
        <div class="field">
          <label for="f-san">Subject alternative name</label>
          <input
            id="f-san"
            type="search"
            value={f.san ?? ''}
            onInput={set('san')}
            placeholder="dns:device-1.example, or a prefix*"
          />
        </div>
        <div class="field">
          <label for="f-serial">Serial number</label>
          <input
            id="f-serial"
            type="search"
            class="mono"
            value={f.serial ?? ''}
            onInput={set('serial')}
            placeholder="hex prefix"
          />
        </div>
      </div>
      <div class="filters-row">
        <div class="field">
          <label for="f-status">Status</label>
          <select id="f-status" value={f.status ?? ''} onChange={set('status')}>
            <option value="">Any status</option>
            {CertificateStatus.options.map((s) => (
              <option key={s} value={s}>
                {s === 'hold' ? 'On hold' : s.charAt(0).toUpperCase() + s.slice(1)}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="f-profile">Profile</label>
          <select id="f-profile" value={f.profile ?? ''} onChange={set('profile')}>
            <option value="">Any profile</option>
            {props.profiles.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="f-issuer">Issuer</label>
          <select id="f-issuer" value={f.issuer ?? ''} onChange={set('issuer')}>
            <option value="">Any issuer</option>
            {props.issuers.map((i) => (
              <option key={i.id} value={i.id}>
                {i.name}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="f-expires">Expires</label>
          <select id="f-expires" value={f.expires ?? ''} onChange={set('expires')}>
            {Object.entries(EXPIRY_WINDOWS).map(([k, v]) => (
              <option key={k} value={k}>
                {v}
              </option>
            ))}
          </select>
        </div>
        {f.expires === 'custom' ? (
          <>
            <div class="field">
              <label for="f-from">From (UTC)</label>
              <input id="f-from" type="date" value={f.from ?? ''} onInput={set('from')} />
            </div>
            <div class="field">
              <label for="f-to">To (UTC, inclusive)</label>
              <input id="f-to" type="date" value={f.to ?? ''} onInput={set('to')} />
            </div>
          </>
        ) : null}
        <div class="field">
          <label for="f-sort">Sort</label>
          <select
            id="f-sort"
            value={sort}
            onChange={(e) => setSort((e.currentTarget as HTMLSelectElement).value as SortKey)}
          >
            {Object.entries(SORTS).map(([k, v]) => (
              <option key={k} value={k}>
                {v}
              </option>
            ))}
          </select>
        </div>
        <div class="field field-narrow">
          <label for="f-limit">Per page</label>
          <select
            id="f-limit"
            value={limit}
            onChange={(e) => setLimit((e.currentTarget as HTMLSelectElement).value)}
          >
            {PAGE_SIZES.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </div>
      </div>
      <div class="filters-actions">
        <button type="submit" class="btn btn-primary">
          Search
        </button>
        <button type="button" class="btn" onClick={() => navigate('/certificates')}>
          Reset
        </button>
      </div>
    </form>
  );
}

export function InventoryView(props: { query: URLSearchParams }) {
  useTitle('Certificates');
  const api = useApi();
  const qs = props.query.toString();
  const filters = useMemo(() => filtersOf(props.query), [qs]);
  const sort = sortOf(props.query, filters);
  const limit = PAGE_SIZES.includes(props.query.get('limit') as '50') ? props.query.get('limit')! : '50';
  const cursor = props.query.get('cursor') ?? undefined;
  const trail = trailOf();
  // The window "next N days" is anchored when the filters change, not at every page.
  const now = useMemo(() => Date.now(), [JSON.stringify(filters)]);
  const search = searchOf(filters, sort, Number(limit), cursor, now);

  const meta = useAsync(async () => {
    const [p, c] = await Promise.all([api.profiles(), api.cas()]);
    return {
      profiles: p.items.map((x) => x.name),
      issuers: c.items.map((x) => ({ id: x.id, name: `${commonName(x.subject)} (${x.id})` })),
    };
  }, []);
  const page = useAsync(() => api.certificates(search), [JSON.stringify(search)]);
  const items = page.data?.items ?? [];
  const pageNo = trail.length + 1;

  const next = () => {
    if (!page.data?.nextCursor) return;
    navigate(urlOf(filters, sort, limit, page.data.nextCursor), {
      state: { trail: [...trail, cursor ?? ''] },
    });
  };
  const prev = () => {
    const before = trail.at(-1);
    navigate(urlOf(filters, sort, limit, before || undefined), { state: { trail: trail.slice(0, -1) } });
  };

  return (
    <>
      <PageHeader
        title="Certificates"
        subtitle="Search the issued certificates. Filtering, sorting and paging are done by the service."
      />
      <Card>
        {meta.data ? (
          <FilterForm
            key={qs}
            filters={filters}
            sort={sort}
            limit={limit}
            profiles={meta.data.profiles}
            issuers={meta.data.issuers}
          />
        ) : (
          <ErrorNotice error={meta.error} retry={meta.reload} />
        )}
      </Card>
      <ErrorNotice error={page.error} retry={page.reload} />
      <section class="card" aria-labelledby="results-title" aria-busy={page.loading}>
        <div class="card-header">
          <h2 id="results-title">
            Results <span class="muted small">page {pageNo}</span>
          </h2>
          <div class="card-actions muted small" aria-live="polite">
            {page.loading
              ? 'Loading…'
              : `${count(items.length)} on this page${page.data?.nextCursor ? ', more follow' : ''}`}
          </div>
        </div>
        <div class={`table-wrap${page.loading ? ' is-loading' : ''}`}>
          <table class="table" data-testid="inventory-table">
            <thead>
              <tr>
                <th scope="col">Subject</th>
                <th scope="col">Names (SAN)</th>
                <th scope="col">Serial</th>
                <th scope="col">Profile</th>
                <th scope="col">Status</th>
                <th
                  scope="col"
                  aria-sort={
                    sort.startsWith('issuedAt')
                      ? sort.endsWith('asc')
                        ? 'ascending'
                        : 'descending'
                      : undefined
                  }
                >
                  Issued
                </th>
                <th
                  scope="col"
                  aria-sort={
                    sort.startsWith('notAfter')
                      ? sort.endsWith('asc')
                        ? 'ascending'
                        : 'descending'
                      : undefined
                  }
                >
                  Expires
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((c) => (
                <tr key={`${c.issuer}/${c.serial}`} data-serial={c.serial}>
                  <td>
                    <Link href={certificatePath(c.issuer, c.serial)} class="strong">
                      {commonName(c.subject)}
                    </Link>
                    <div class="muted small truncate" title={c.subject}>
                      {c.subject}
                    </div>
                  </td>
                  <td class="sans" title={c.sans.join(', ')}>
                    {c.sans.length === 0 ? (
                      <span class="muted">none</span>
                    ) : (
                      <span class="mono small">{c.sans[0]}</span>
                    )}
                    {c.sans.length > 1 ? <span class="muted small"> +{c.sans.length - 1}</span> : null}
                  </td>
                  <td class="mono small nowrap" title={c.serial}>
                    {shortHex(c.serial, 6)}
                  </td>
                  <td>{c.profile}</td>
                  <td>
                    <StatusBadge status={c.status} state={c.state} />
                  </td>
                  <td class="small nowrap">{c.issuedAt ? utc(c.issuedAt).slice(0, 10) : '—'}</td>
                  <td class="small nowrap">
                    {utc(c.notAfter).slice(0, 10)}
                    <div class="muted">{relative(c.notAfter, now)}</div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {!page.loading && items.length === 0 ? <Empty>No certificate matches these filters.</Empty> : null}
        </div>
        <nav class="pager" aria-label="Result pages">
          <button type="button" class="btn btn-small" onClick={prev} disabled={pageNo === 1}>
            ← Previous
          </button>
          <span class="muted small">Page {pageNo}</span>
          <button type="button" class="btn btn-small" onClick={next} disabled={!page.data?.nextCursor}>
            Next →
          </button>
        </nav>
      </section>
    </>
  );
}
