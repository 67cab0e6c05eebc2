import { DerError } from './errors.js';

/**
 * UTCTime and GeneralizedTime in the exact forms RFC 5280 §4.1.2.5 requires of DER:
 *   UTCTime          YYMMDDHHMMSSZ    (13 octets; YY ≥ 50 → 19YY, else 20YY)
 *   GeneralizedTime  YYYYMMDDHHMMSSZ  (15 octets; no fractional seconds, no offsets)
 * Seconds are mandatory, the zone is always Z, and impossible dates (Feb 30, hour 24,
 * second 60) are rejected. Times are returned as milliseconds since the epoch.
 */

function digits(b: Uint8Array, start: number, n: number, offset: number): number {
  let v = 0;
  for (let i = start; i < start + n; i++) {
    const c = b[i]! - 0x30;
    if (c < 0 || c > 9) throw new DerError('bad-time', 'non-digit in time value', offset);
    v = v * 10 + c;
  }
  return v;
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

function toMillis(
  y: number,
  mo: number,
  d: number,
  h: number,
  mi: number,
  s: number,
  offset: number,
): number {
  if (mo < 1 || mo > 12) throw new DerError('bad-time', `month ${mo} out of range`, offset);
  const dim = mo === 2 && isLeap(y) ? 29 : DAYS[mo - 1]!;
  if (d < 1 || d > dim) throw new DerError('bad-time', `day ${d} out of range`, offset);
  if (h > 23 || mi > 59 || s > 59) throw new DerError('bad-time', 'time of day out of range', offset);
  return Date.UTC(y, mo - 1, d, h, mi, s);
}

export function decodeUtcTime(b: Uint8Array, offset = 0): number {
  if (b.length !== 13 || b[12] !== 0x5a)
    throw new DerError('bad-time', 'UTCTime must be YYMMDDHHMMSSZ', offset);
  const yy = digits(b, 0, 2, offset);
  const y = yy >= 50 ? 1900 + yy : 2000 + yy;
  return toMillis(
    y,
    digits(b, 2, 2, offset),
    digits(b, 4, 2, offset),
    digits(b, 6, 2, offset),
    digits(b, 8, 2, offset),
    digits(b, 10, 2, offset),
    offset,
  );
}

export function decodeGeneralizedTime(b: Uint8Array, offset = 0): number {
  if (b.length !== 15 || b[14] !== 0x5a)
    throw new DerError('bad-time', 'GeneralizedTime must be YYYYMMDDHHMMSSZ', offset);
  const y = digits(b, 0, 4, offset);
  const ms = toMillis(
    y,
    digits(b, 4, 2, offset),
    digits(b, 6, 2, offset),
    digits(b, 8, 2, offset),
    digits(b, 10, 2, offset),
    digits(b, 12, 2, offset),
    offset,
  );
  // Date.UTC maps years 0–99 to 1900+; fix them up so year 0050 stays 0050.
  if (y < 100) {
    const dt = new Date(ms);
    dt.setUTCFullYear(y);
    return dt.getTime();
  }
  return ms;
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');

function checkMillis(ms: number): Date {
  if (!Number.isFinite(ms)) throw new DerError('cannot-encode', 'invalid date', 0);
  if (ms % 1000 !== 0) ms = Math.floor(ms / 1000) * 1000; // DER times carry whole seconds
  return new Date(ms);
}

/** Encodes a UTCTime body; only years 1950–2049 are representable. */
export function encodeUtcTime(ms: number): string {
  const d = checkMillis(ms);
  const y = d.getUTCFullYear();
  if (y < 1950 || y > 2049) throw new DerError('cannot-encode', `year ${y} not representable as UTCTime`, 0);
  return `${pad(y % 100, 2)}${pad(d.getUTCMonth() + 1, 2)}${pad(d.getUTCDate(), 2)}${pad(d.getUTCHours(), 2)}${pad(d.getUTCMinutes(), 2)}${pad(d.getUTCSeconds(), 2)}Z`;
}

export function encodeGeneralizedTime(ms: number): string {
  const d = checkMillis(ms);
  const y = d.getUTCFullYear();
  if (y < 0 || y > 9999) throw new DerError('cannot-encode', `year ${y} not representable`, 0);
  return `${pad(y, 4)}${pad(d.getUTCMonth() + 1, 2)}${pad(d.getUTCDate(), 2)}${pad(d.getUTCHours(), 2)}${pad(d.getUTCMinutes(), 2)}${pad(d.getUTCSeconds(), 2)}Z`;
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
export function useUtcTime(ms: number): boolean {
  // Years 1950..2049 ⟺ 1950-01-01T00:00:00Z ≤ ms < 2050-01-01T00:00:00Z (no Date object; NaN → false).
  return ms >= -631_152_000_000 && ms < 2_524_608_000_000;
}
