// The audit log: the hash chain's verification status (`GET /api/v1/audit/verify`) and the records,
// newest page first (`GET /api/v1/audit?after=<seq>`; sequence numbers are contiguous, which the
// verification checks, so a page boundary is plain arithmetic).
import type { AuditRecord, AuditVerification } from '../../../server/api/schemas.js';
import { Badge, Card, Empty, ErrorNotice, Link, Loading, PageHeader } from '../components/ui.js';
import { count, shortHex, utc } from '../format.js';
import { useApi, useAsync, useTitle } from '../hooks.js';
import { certificatePath, navigate } from '../router.js';

const PAGE = 50;

function VerificationBanner(props: { v: AuditVerification }) {
  const v = props.v;
  if (v.ok)
    return (
      <div class="verify verify-ok" role="status" data-testid="audit-verified">
        <span class="verify-icon" aria-hidden="true">
          ✓
        </span>
        <div>
          <strong>Hash chain verified</strong> — {count(v.records)} records, each linked to the one before it.
          <div class="small">
            Head #{v.head?.seq ?? 0} <span class="mono">{v.head ? shortHex(v.head.hash, 16) : ''}</span> ·
            checked {utc(v.checkedAt)}
          </div>
        </div>
      </div>
    );
  return (
    <div class="verify verify-bad" role="alert" data-testid="audit-broken">
      <span class="verify-icon" aria-hidden="true">
        !
      </span>
      <div>
        <strong>Hash chain broken</strong> at record #{v.seq ?? '?'} ({v.code}): {v.message}
        <div class="small">
          {count(v.records)} records checked · {utc(v.checkedAt)}
        </div>
      </div>
    </div>
  );
}

function resultTone(result: string): 'ok' | 'warn' | 'danger' | 'neutral' {
  if (result === 'ok') return 'ok';
  if (result.startsWith('refused')) return 'warn';
  if (result.startsWith('failed')) return 'danger';
  return 'neutral';
}

function Row(props: { r: AuditRecord }) {
  const r = props.r;
  return (
    <tr data-seq={r.seq}>
      <td class="num mono small">{r.seq}</td>
      <td class="small nowrap">{utc(r.time)}</td>
      <td class="mono small">
        <span class="truncate-inline" title={r.actor}>
          {r.actor}
        </span>
      </td>
      <td>
        <strong>{r.action}</strong>
        {r.detail && Object.keys(r.detail).length > 0 ? (
          <details class="audit-detail">
            <summary>detail</summary>
            <pre>{JSON.stringify(r.detail, null, 2)}</pre>
          </details>
        ) : null}
      </td>
      <td>
        <Badge tone={resultTone(r.result)}>{r.result}</Badge>
      </td>
      <td class="small">
        {r.serial && r.issuer ? (
          <Link
            href={certificatePath(r.issuer, r.serial)}
            class="mono nowrap"
            title={`${r.issuer} ${r.serial}`}
          >
            {r.issuer}/{shortHex(r.serial, 6)}
          </Link>
        ) : r.issuer ? (
          <span class="mono">{r.issuer}</span>
        ) : (
          <span class="muted">—</span>
        )}
      </td>
      <td class="mono small nowrap" title={r.hash}>
        {shortHex(r.hash, 8)}
      </td>
    </tr>
  );
}

export function AuditView(props: { query: URLSearchParams }) {
  useTitle('Audit log');
  const api = useApi();
  const verify = useAsync(() => api.auditVerify(), []);
  const v = verify.data;
  const head = v ? (v.head?.seq ?? v.records) : undefined;
  const asked = props.query.get('after');
  const after =
    asked !== null && /^\d{1,15}$/.test(asked)
      ? Number(asked)
      : head !== undefined
        ? Math.max(0, head - PAGE)
        : undefined;
  const page = useAsync(
    () => (after === undefined ? Promise.resolve(undefined) : api.audit(after, PAGE)),
    [after],
  );
  const items = [...(page.data?.items ?? [])].reverse();
  const go = (a: number) => navigate(`/audit?after=${Math.max(0, a)}`);

  return (
    <>
      <PageHeader
        title="Audit log"
        subtitle="Every action of the CA, hash-chained: editing, removing or reordering a record breaks the chain."
      />
      <ErrorNotice error={verify.error} retry={verify.reload} />
      {v ? <VerificationBanner v={v} /> : verify.error ? null : <Loading label="Verifying the hash chain…" />}
      <ErrorNotice error={page.error} retry={page.reload} />
      <Card
        title="Records"
        labelledBy="records-title"
        actions={
          after !== undefined && items.length > 0 ? (
            <span class="muted small">
              #{items.at(-1)!.seq} – #{items[0]!.seq}
            </span>
          ) : null
        }
      >
        {page.data === undefined ? (
          page.error ? null : (
            <Loading />
          )
        ) : items.length === 0 ? (
          <Empty>No records.</Empty>
        ) : (
          <div class="table-wrap">
            <table class="table table-compact" data-testid="audit-table">
              <thead>
                <tr>
                  <th scope="col" class="num">
                    #
                  </th>
                  <th scope="col">Time</th>
                  <th scope="col">Actor</th>
                  <th scope="col">Action</th>
                  <th scope="col">Result</th>
                  <th scope="col">Concerning</th>
                  <th scope="col">Hash</th>
                </tr>
              </thead>
              <tbody>
                {items.map((r) => (
                  <Row key={r.seq} r={r} />
                ))}
              </tbody>
            </table>
          </div>
        )}
        {after !== undefined ? (
          <nav class="pager" aria-label="Audit pages">
            <button
              type="button"
              class="btn btn-small"
              disabled={head === undefined || after + PAGE >= head}
              onClick={() => go(Math.max(0, head! - PAGE))}
            >
              Latest
            </button>
            <button
              type="button"
              class="btn btn-small"
              disabled={head === undefined || after + PAGE >= head}
              onClick={() => go(after + PAGE)}
            >
              ← Newer
            </button>
            <button
              type="button"
              class="btn btn-small"
              disabled={after === 0}
              onClick={() => go(after - PAGE)}
            >
              Older →
            </button>
            <button type="button" class="btn btn-small" disabled={after === 0} onClick={() => go(0)}>
              Oldest
            </button>
          </nav>
        ) : null}
      </Card>
    </>
  );
}
