// The expiry timeline: valid certificates expiring per UTC day over the next 90 days (counted by the
// service from its per-hour counters, `GET /api/v1/statistics?days=90`), as a chart and as a table.
import { ExpiryChart } from '../components/charts.js';
import { Card, Empty, ErrorNotice, Link, Loading, PageHeader } from '../components/ui.js';
import { count, DAY_MS, shortDay, utc, utcDay } from '../format.js';
import { useApi, useAsync, useTitle } from '../hooks.js';
import { dayRange } from '../model/scale.js';
import { inventoryPath } from '../router.js';

const DAYS = 90;

/** The inventory showing the certificates that expire on one UTC day. */
function dayLink(day: string): string {
  return inventoryPath({ expires: 'custom', from: day, to: day, status: 'valid' });
}

export function ExpiryView() {
  useTitle('Expiry timeline');
  const api = useApi();
  const data = useAsync(() => api.statistics(DAYS), []);
  const s = data.data;
  const today = s ? utcDay(s.at) : utcDay(Date.now());
  const days = dayRange(today, DAYS);
  const perDay = s?.expiringPerDay ?? {};
  const rows = days.filter((d) => (perDay[d] ?? 0) > 0);
  const total = rows.reduce((a, d) => a + perDay[d]!, 0);
  const busiest = rows.reduce<string | undefined>(
    (b, d) => (b === undefined || perDay[d]! > perDay[b]! ? d : b),
    undefined,
  );
  const within = (n: number) => days.slice(0, n).reduce((a, d) => a + (perDay[d] ?? 0), 0);

  return (
    <>
      <PageHeader
        title="Expiry timeline"
        subtitle={`Valid certificates expiring per day (UTC) over the next ${DAYS} days${s ? `, as of ${utc(s.at)}` : ''}.`}
      />
      <ErrorNotice error={data.error} retry={data.reload} />
      {!s ? (
        data.error ? null : (
          <Loading />
        )
      ) : (
        <div class="grid">
          <section class="tiles tiles-3" aria-label="Expiry summary">
            <div class="tile">
              <span class="tile-label">Next {DAYS} days</span>
              <span class="tile-value" data-testid="expiry-total">
                {count(total)}
              </span>
              <span class="tile-foot muted">{count(rows.length)} days with expiries</span>
            </div>
            <div class="tile">
              <span class="tile-label">Next 7 days</span>
              <span class="tile-value">{count(within(7))}</span>
              <span class="tile-foot muted">today … {shortDay(days[6]!)}</span>
            </div>
            <div class="tile">
              <span class="tile-label">Busiest day</span>
              <span class="tile-value">{busiest ? shortDay(busiest) : '—'}</span>
              <span class="tile-foot muted">
                {busiest
                  ? `${count(perDay[busiest]!)} certificate${perDay[busiest] === 1 ? '' : 's'}`
                  : 'nothing expires'}
              </span>
            </div>
          </section>
          <Card title="Certificates expiring per day" labelledBy="chart-title">
            <figure class="figure">
              <ExpiryChart perDay={perDay} from={today} days={DAYS} />
              <figcaption class="muted small">
                Each bar is one UTC day, from today ({today}) to {days[DAYS - 1]}. Revoked certificates are
                not counted.
              </figcaption>
            </figure>
          </Card>
          <Card title="Days with expiries" labelledBy="days-title">
            {rows.length === 0 ? (
              <Empty>No valid certificate expires in the next {DAYS} days.</Empty>
            ) : (
              <div class="table-wrap">
                <table class="table table-compact" data-testid="expiry-table">
                  <thead>
                    <tr>
                      <th scope="col">Day (UTC)</th>
                      <th scope="col">In</th>
                      <th scope="col" class="num">
                        Certificates
                      </th>
                      <th scope="col">
                        <span class="visually-hidden">Link</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {rows.map((d) => {
                      const inDays = Math.round(
                        (Date.parse(`${d}T00:00:00Z`) - Date.parse(`${today}T00:00:00Z`)) / DAY_MS,
                      );
                      return (
                        <tr key={d} data-day={d}>
                          <td class="mono">{d}</td>
                          <td>{inDays === 0 ? 'today' : inDays === 1 ? 'tomorrow' : `${inDays} days`}</td>
                          <td class="num">{count(perDay[d]!)}</td>
                          <td>
                            <Link href={dayLink(d)} aria-label={`Show the certificates expiring on ${d}`}>
                              Show
                            </Link>
                          </td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </div>
            )}
          </Card>
        </div>
      )}
    </>
  );
}
