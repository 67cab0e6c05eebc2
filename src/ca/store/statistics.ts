import { type CertificateStatistics, StoreError } from './types.js';
import { checkTime } from './validate.js';

/**
 * `statistics()` from counters, shared by both backends. The database keeps, by trigger (so they
 * cannot drift from the rows): issued and unrevoked certificates per issuer and UTC hour of
 * notAfter (`stat_expiry`), revoked ones per issuer with holds apart (`stat_revoked`), and
 * completions per UTC hour (`stat_issued`). Whole hours come from the counters; only the hours cut
 * by `now` or `expiringUntil` are counted from rows (an index range over one hour of expiries), so
 * the cost does not grow with the number of certificates.
 */
export interface StatisticsQueries {
  /** Σ stat_expiry.n per issuer. */
  unrevokedByIssuer(): Promise<{ issuerId: string; n: number }[]>;
  /** Σ stat_revoked.n per issuer and hold flag. */
  revokedByIssuer(): Promise<{ issuerId: string; hold: boolean; n: number }[]>;
  /** Σ stat_expiry.n over hours in [fromHour, toHour). */
  unrevokedInHours(fromHour: number, toHour: number): Promise<number>;
  /** Σ stat_expiry.n per UTC day over hours in [fromHour, toHour). */
  unrevokedPerDay(fromHour: number, toHour: number): Promise<{ day: number; n: number }[]>;
  /** stat_issued over hours in [fromHour, toHour). */
  issuedPerHour(fromHour: number, toHour: number): Promise<{ hour: number; n: number }[]>;
  /** Issued, unrevoked certificates with notAfter in [from, to), counted from rows. */
  countUnrevoked(from: number, to: number): Promise<number>;
}

export const HOUR_MS = 3_600_000;
const DAY_HOURS = 24;
/** The issued-per-hour chart covers this many hours before `now`. */
const ISSUED_WINDOW_HOURS = 7 * 24;
/** `expiringUntil` may lie at most this far after `now` (one chart bar per day). */
const MAX_EXPIRY_WINDOW_DAYS = 3660;

export async function computeStatistics(
  q: StatisticsQueries,
  now: number,
  expiringUntil: number,
): Promise<CertificateStatistics> {
  checkTime(now, 'now');
  checkTime(expiringUntil, 'expiringUntil');
  if (expiringUntil - now > MAX_EXPIRY_WINDOW_DAYS * DAY_HOURS * HOUR_MS)
    throw new StoreError('bad-input', `expiringUntil: at most ${MAX_EXPIRY_WINDOW_DAYS} days after now`);
  const nowHour = Math.floor(now / HOUR_MS);

  const [unrevoked, revoked, validLater, validThisHour] = await Promise.all([
    q.unrevokedByIssuer(),
    q.revokedByIssuer(),
    q.unrevokedInHours(nowHour + 1, Number.MAX_SAFE_INTEGER),
    q.countUnrevoked(now, (nowHour + 1) * HOUR_MS),
  ]);
  const byIssuer: Record<string, number> = {};
  let unrevokedTotal = 0;
  for (const r of unrevoked) {
    byIssuer[r.issuerId] = (byIssuer[r.issuerId] ?? 0) + r.n;
    unrevokedTotal += r.n;
  }
  let revokedN = 0;
  let holdN = 0;
  for (const r of revoked) {
    byIssuer[r.issuerId] = (byIssuer[r.issuerId] ?? 0) + r.n;
    if (r.hold) holdN += r.n;
    else revokedN += r.n;
  }
  for (const [k, v] of Object.entries(byIssuer)) if (v === 0) delete byIssuer[k];
  const valid = validLater + validThisHour;

  const expiringPerDay: Record<string, number> = {};
  const add = (t: number, n: number) => {
    if (n <= 0) return;
    const day = dayKey(t);
    expiringPerDay[day] = (expiringPerDay[day] ?? 0) + n;
  };
  if (expiringUntil > now) {
    const untilHour = Math.floor(expiringUntil / HOUR_MS);
    if (untilHour === nowHour) {
      add(now, await q.countUnrevoked(now, expiringUntil));
    } else {
      add(now, validThisHour);
      for (const r of await q.unrevokedPerDay(nowHour + 1, untilHour)) add(r.day * DAY_HOURS * HOUR_MS, r.n);
      if (expiringUntil > untilHour * HOUR_MS)
        add(untilHour * HOUR_MS, await q.countUnrevoked(untilHour * HOUR_MS, expiringUntil));
    }
  }

  const issuedPerHour: Record<string, number> = {};
  for (const r of await q.issuedPerHour(nowHour - ISSUED_WINDOW_HOURS + 1, nowHour + 1))
    if (r.n > 0) issuedPerHour[new Date(r.hour * HOUR_MS).toISOString().slice(0, 13)] = r.n;

  return {
    byStatus: { valid, expired: unrevokedTotal - valid, revoked: revokedN, hold: holdN },
    byIssuer,
    expiringPerDay: sortKeys(expiringPerDay),
    issuedPerHour,
  };
}

function dayKey(t: number): string {
  return new Date(t).toISOString().slice(0, 10);
}

function sortKeys(r: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
