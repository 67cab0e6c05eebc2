// Formatting for the views. Times are shown in UTC (the CA's own time base: CRLs, OCSP and the
// expiry chart count UTC days), as `2026-12-05 10:00 UTC`.

export const DAY_MS = 86_400_000;

/** `2026-12-05 10:00 UTC`. */
export function utc(iso: string | number): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** `2026-12-05`. */
export function utcDay(iso: string | number): string {
  return new Date(iso).toISOString().slice(0, 10);
}

/** `Dec 5`. */
export function shortDay(day: string): string {
  const d = new Date(`${day}T00:00:00Z`);
  return d.toLocaleDateString('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });
}

/** `in 3 days`, `2 hours ago`, … relative to `now`. */
export function relative(iso: string | number, now = Date.now()): string {
  const t = new Date(iso).getTime();
  const diff = t - now;
  const abs = Math.abs(diff);
  const [n, unit] =
    abs >= 365 * DAY_MS
      ? [Math.round(abs / (365 * DAY_MS)), 'year']
      : abs >= 2 * DAY_MS
        ? [Math.round(abs / DAY_MS), 'day']
        : abs >= 2 * 3_600_000
          ? [Math.round(abs / 3_600_000), 'hour']
          : [Math.max(1, Math.round(abs / 60_000)), 'minute'];
  const text = `${n} ${unit}${n === 1 ? '' : 's'}`;
  return diff >= 0 ? `in ${text}` : `${text} ago`;
}

/** 1 234 567 → `1,234,567`. */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** A long hex string shortened for tables: `3f2a…91c0`. */
export function shortHex(hex: string, keep = 8): string {
  return hex.length <= keep * 2 + 1 ? hex : `${hex.slice(0, keep)}…${hex.slice(-4)}`;
}

/** `aa:bb:cc` for a hex string. */
export function colonHex(hex: string): string {
  return hex.match(/.{1,2}/g)?.join(':') ?? hex;
}

/** The CN of an RFC 4514 subject (its first `CN=`), else the whole text. */
export function commonName(subject: string): string {
  const m = /(?:^|,)\s*CN=((?:\\.|[^,\\])*)/i.exec(subject);
  return m ? m[1]!.replace(/\\(.)/g, '$1') : subject || '(empty subject)';
}

/** `keyCompromise` → `Key compromise`. */
export function humanize(name: string): string {
  const words = name.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/^cA/, 'CA');
  return (
    words.charAt(0).toUpperCase() +
    words
      .slice(1)
      .toLowerCase()
      .replace(/\bca\b/g, 'CA')
  );
}
