import type { CaInfo, CertificateSummary, Statistics } from '../../../server/api/schemas.js';
import { IssuanceChart } from '../components/charts.js';
import { Badge, Card, Empty, ErrorNotice, Link, Loading, PageHeader, StatusBadge } from '../components/ui.js';
import { commonName, count, relative, utc } from '../format.js';
import { useApi, useAsync, useTitle } from '../hooks.js';
import { certificatePath, inventoryPath } from '../router.js';

interface OverviewData {
  windows: { days: number; stats: Statistics }[];
  cas: CaInfo[];
  soonest: CertificateSummary[];
}

const sum = (r: Readonly<Record<string, number>>) => Object.values(r).reduce((a, b) => a + b, 0);

function StatusTiles(props: { stats: Statistics }) {
  const s = props.stats.byStatus;
  const tiles = [
    { key: 'valid', label: 'Valid', n: s.valid },
    { key: 'revoked', label: 'Revoked', n: s.revoked },
    { key: 'hold', label: 'On hold', n: s.hold },
    { key: 'expired', label: 'Expired', n: s.expired },
  ] as const;
  const total = s.valid + s.revoked + s.hold + s.expired;
  return (
    <section class="tiles" aria-labelledby="by-status">
      <h2 id="by-status" class="visually-hidden">
        Certificates by status
      </h2>
      {tiles.map((t) => (
        <Link
          key={t.key}
          href={inventoryPath({ status: t.key })}
          class={`tile tile-${t.key}`}
          data-testid={`tile-${t.key}`}
        >
          <span class="tile-label">{t.label}</span>
          <span class="tile-value">{count(t.n)}</span>
          <span class="tile-foot muted">
            {total > 0 ? `${((t.n / total) * 100).toFixed(1)} % of ${count(total)}` : 'none yet'}
          </span>
        </Link>
      ))}
    </section>
  );
}

function ExpiringTiles(props: { windows: OverviewData['windows'] }) {
  return (
    <Card title="Expiring soon" labelledBy="expiring-soon" actions={<Link href="/expiry">Timeline</Link>}>
      <ul class="expiring">
        {props.windows.map(({ days, stats }) => {
          const n = sum(stats.expiringPerDay);
          return (
            <li key={days} data-testid={`expiring-${days}`}>
              <Link href={inventoryPath({ expires: `${days}d` })} class="expiring-link">
                <span class="expiring-n">{count(n)}</span>
                <span class="expiring-label">in the next {days} days</span>
              </Link>
            </li>
          );
        })}
      </ul>
    </Card>
  );
}

function CaTable(props: { cas: CaInfo[]; now: number }) {
  return (
    <div class="table-wrap">
      <table class="table">
        <thead>
          <tr>
            <th scope="col">Certificate authority</th>
            <th scope="col">Status</th>
            <th scope="col">Expires</th>
            <th scope="col" class="num">
              Issued
            </th>
            <th scope="col">Next CRL</th>
          </tr>
        </thead>
        <tbody>
          {props.cas.map((c) => (
            <tr key={c.id}>
              <td>
                <Link href="/hierarchy">{commonName(c.subject)}</Link>
                <div class="muted small">
                  {c.role === 'root' ? 'Root' : 'Intermediate'} · <span class="mono">{c.id}</span>
                </div>
              </td>
              <td>
                <Badge tone={c.status === 'active' ? 'ok' : c.status === 'retiring' ? 'warn' : 'neutral'}>
                  {c.status}
                </Badge>
              </td>
              <td class="nowrap">{relative(c.notAfter, props.now)}</td>
              <td class="num">{count(c.issued)}</td>
              <td class="nowrap">
                {c.crl ? relative(c.crl.nextUpdate, props.now) : <span class="muted">not published</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function OverviewView() {
  useTitle('Overview');
  const api = useApi();
  const data = useAsync<OverviewData>(async () => {
    const [s7, s30, s90, cas, soonest] = await Promise.all([
      api.statistics(7),
      api.statistics(30),
      api.statistics(90),
      api.cas(),
      api.certificates({ status: 'valid', sort: 'notAfter', order: 'asc', limit: 5 }),
    ]);
    return {
      windows: [
        { days: 7, stats: s7 },
        { days: 30, stats: s30 },
        { days: 90, stats: s90 },
      ],
      cas: cas.items,
      soonest: soonest.items,
    };
  }, []);
  const d = data.data;
  const stats = d?.windows[2]?.stats;
  const now = stats ? Date.parse(stats.at) : Date.now();
  const last24 = stats
    ? Object.entries(stats.issuedPerHour)
        .filter(([h]) => Date.parse(`${h}:00:00Z`) > now - 86_400_000)
        .reduce((a, [, n]) => a + n, 0)
    : 0;

  return (
    <>
      <PageHeader
        title="Overview"
        subtitle={stats ? `As of ${utc(stats.at)}` : 'The fleet’s certificates at a glance'}
      />
      <ErrorNotice error={data.error} retry={data.reload} />
      {!d ? (
        data.error ? null : (
          <Loading />
        )
      ) : (
        <div class="grid">
          <StatusTiles stats={stats!} />
          <div class="grid-2">
            <Card
              title="Issuance rate"
              labelledBy="issuance"
              actions={
                <span class="muted small">
                  {count(last24)} in the last 24 h · {count(sum(stats!.issuedPerHour))} in 7 days
                </span>
              }
            >
              <IssuanceChart perHour={stats!.issuedPerHour} now={now} width={680} height={250} />
            </Card>
            <ExpiringTiles windows={d.windows} />
          </div>
          <div class="grid-2">
            <Card
              title="Certificate authorities"
              labelledBy="cas"
              actions={<Link href="/hierarchy">Hierarchy</Link>}
            >
              <CaTable cas={d.cas} now={now} />
            </Card>
            <Card
              title="Next to expire"
              labelledBy="next-expiring"
              actions={
                <Link href={inventoryPath({ status: 'valid', sort: 'notAfter', order: 'asc' })}>All</Link>
              }
            >
              {d.soonest.length === 0 ? (
                <Empty>No valid certificates.</Empty>
              ) : (
                <ul class="list">
                  {d.soonest.map((c) => (
                    <li key={`${c.issuer}/${c.serial}`} class="list-row">
                      <div>
                        <Link href={certificatePath(c.issuer, c.serial)}>{commonName(c.subject)}</Link>
                        <div class="muted small">{c.sans[0] ?? c.profile}</div>
                      </div>
                      <div class="list-right">
                        <StatusBadge status={c.status} />
                        <span class="small">{relative(c.notAfter, now)}</span>
                      </div>
                    </li>
                  ))}
                </ul>
              )}
            </Card>
          </div>
        </div>
      )}
    </>
  );
}
