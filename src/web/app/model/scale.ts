// Axis arithmetic for the charts.
import { DAY_MS, utcDay } from '../format.js';

/** A round axis maximum ≥ n (1, 2, 5 × 10^k) and its tick step. */
export function niceScale(n: number): { max: number; step: number } {
  if (n <= 4) return { max: Math.max(1, n), step: 1 };
  const raw = n / 4;
  const mag = 10 ** Math.floor(Math.log10(raw));
  // Counts are integers: a step of 2.5 only from 25 up.
  const step =
    [1, 2, 2.5, 5, 10]
      .map((f) => f * mag)
      .filter(Number.isInteger)
      .find((s) => s >= raw) ?? 10 * mag;
  return { max: Math.ceil(n / step) * step, step };
}

/** The UTC days `from`, `from`+1, … (`YYYY-MM-DD`), `days` of them. */
export function dayRange(from: string, days: number): string[] {
  const t0 = Date.parse(`${from}T00:00:00Z`);
  return Array.from({ length: days }, (_, i) => utcDay(t0 + i * DAY_MS));
}
