// Charts drawn as SVG elements (no chart library, nothing inline for the CSP to refuse): the expiry
// timeline (certificates expiring per UTC day), the issuance rate (per hour over a week) and the
// validity bar of a CA. Each chart carries a text alternative; the views add a table with the data.
import { count, shortDay } from '../format.js';
import { dayRange, niceScale } from '../model/scale.js';

const W = 960;
const M = { top: 14, right: 14, bottom: 34, left: 48 };

/**
 * Certificates expiring per UTC day over `days` days from `from` (today). Each bar is a `rect`
 * with `data-day` and `data-count`, titled with its day and count.
 */
export function ExpiryChart(props: {
  perDay: Readonly<Record<string, number>>;
  from: string;
  days: number;
  height?: number;
}) {
  const H = props.height ?? 280;
  const days = dayRange(props.from, props.days);
  const values = days.map((d) => props.perDay[d] ?? 0);
  const total = values.reduce((a, b) => a + b, 0);
  const { max, step } = niceScale(Math.max(...values, 0));
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const bw = pw / days.length;
  const y = (v: number) => M.top + ph - (v / max) * ph;
  const ticks: number[] = [];
  for (let v = 0; v <= max; v += step) ticks.push(v);
  return (
    <svg
      class="chart chart-expiry"
      viewBox={`0 0 ${W} ${H}`}
      role="img"
      aria-label={`Certificates expiring per day over the next ${props.days} days: ${count(total)} in total`}
      data-testid="expiry-chart"
    >
      {ticks.map((v) => (
        <g key={`t${v}`} class="chart-grid">
          <line x1={M.left} x2={W - M.right} y1={y(v)} y2={y(v)} />
          <text x={M.left - 8} y={y(v) + 4} text-anchor="end">
            {count(v)}
          </text>
        </g>
      ))}
      {days.map((d, i) =>
        i % 7 === 0 ? (
          <g key={`x${d}`} class="chart-axis">
            <line
              x1={M.left + i * bw + bw / 2}
              x2={M.left + i * bw + bw / 2}
              y1={M.top + ph}
              y2={M.top + ph + 5}
            />
            <text x={M.left + i * bw + bw / 2} y={H - 10} text-anchor="middle">
              {i === 0 ? 'Today' : shortDay(d)}
            </text>
          </g>
        ) : null,
      )}
      {days.map((d, i) => {
        const v = values[i]!;
        if (v === 0) return null;
        const h = Math.max(2, (v / max) * ph);
        return (
          <rect
            key={d}
            class="chart-bar"
            x={M.left + i * bw + bw * 0.12}
            y={M.top + ph - h}
            width={bw * 0.76}
            height={h}
            rx={Math.min(2, bw * 0.2)}
            data-day={d}
            data-count={v}
          >
            <title>{`${d}: ${count(v)} certificate${v === 1 ? '' : 's'} expire`}</title>
          </rect>
        );
      })}
      <line class="chart-baseline" x1={M.left} x2={W - M.right} y1={M.top + ph} y2={M.top + ph} />
    </svg>
  );
}

/** Certificates issued per hour over the last 7 days (`YYYY-MM-DDTHH` keys, UTC). */
export function IssuanceChart(props: {
  perHour: Readonly<Record<string, number>>;
  now: number;
  width?: number;
  height?: number;
}) {
  const W = props.width ?? 960;
  const H = props.height ?? 170;
  const hours = 7 * 24;
  const endHour = Math.floor(props.now / 3_600_000);
  const keys = Array.from({ length: hours }, (_, i) =>
    new Date((endHour - hours + 1 + i) * 3_600_000).toISOString().slice(0, 13),
  );
  const values = keys.map((k) => props.perHour[k] ?? 0);
  const total = values.reduce((a, b) => a + b, 0);
  const { max, step } = niceScale(Math.max(...values, 0));
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const bw = pw / hours;
  const y = (v: number) => M.top + ph - (v / max) * ph;
  const ticks: number[] = [];
  for (let v = 0; v <= max; v += step) ticks.push(v);
  return (
    <svg
      class="chart chart-issuance"
      viewBox={`0 0 ${W} ${H}`}
      role="img"
      aria-label={`Certificates issued per hour over the last 7 days: ${count(total)} in total`}
      data-testid="issuance-chart"
    >
      {ticks.map((v) => (
        <g key={`t${v}`} class="chart-grid">
          <line x1={M.left} x2={W - M.right} y1={y(v)} y2={y(v)} />
          <text x={M.left - 8} y={y(v) + 4} text-anchor="end">
            {count(v)}
          </text>
        </g>
      ))}
      {keys.map((k, i) =>
        k.endsWith('T00') && i + 12 < hours ? (
          <g key={`d${k}`} class="chart-axis">
            <line
              x1={M.left + i * bw}
              x2={M.left + i * bw}
              y1={M.top}
              y2={M.top + ph + 5}
              class="chart-day"
            />
            <text x={M.left + i * bw + 12 * bw} y={H - 10} text-anchor="middle">
              {shortDay(k.slice(0, 10))}
            </text>
          </g>
        ) : null,
      )}
      {keys.map((k, i) => {
        const v = values[i]!;
        if (v === 0) return null;
        const h = Math.max(2, (v / max) * ph);
        return (
          <rect
            key={k}
            class="chart-bar chart-bar-issued"
            x={M.left + i * bw + 0.5}
            y={M.top + ph - h}
            width={Math.max(1, bw - 1)}
            height={h}
          >
            <title>{`${k.replace('T', ' ')}:00 UTC: ${count(v)} issued`}</title>
          </rect>
        );
      })}
      <line class="chart-baseline" x1={M.left} x2={W - M.right} y1={M.top + ph} y2={M.top + ph} />
    </svg>
  );
}

/**
 * How far a validity period has run: the elapsed part filled, a marker at `now`; the tone turns
 * amber in the last 10 % and red when less than 5 % remains or it has ended.
 */
export function ValidityBar(props: { notBefore: string; notAfter: string; now: number }) {
  const a = Date.parse(props.notBefore);
  const b = Date.parse(props.notAfter);
  const frac = b > a ? Math.min(1, Math.max(0, (props.now - a) / (b - a))) : 1;
  const tone = frac >= 0.95 ? 'danger' : frac >= 0.9 ? 'warn' : 'ok';
  const pct = `${(frac * 100).toFixed(2)}%`;
  return (
    <svg
      class={`validity-bar validity-${tone}`}
      width="100%"
      height="10"
      role="img"
      aria-label={`${Math.round(frac * 100)} % of the validity period has elapsed`}
    >
      <rect class="validity-track" x="0" y="0" width="100%" height="10" rx="5" />
      <rect class="validity-fill" x="0" y="0" width={pct} height="10" rx="5" />
    </svg>
  );
}
