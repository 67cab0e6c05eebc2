/**
 * How far the CRL publisher sets `thisUpdate`, and the OCSP responder `thisUpdate` and
 * `producedAt`, back from the moment of signing: 5 minutes, the value certificates already use for
 * `notBefore` (issue/certificate.ts `DEFAULT_BACKDATE_MS`). A relying party whose clock is up to
 * 5 minutes slow — IoT devices often are — then accepts a CRL or OCSP response published a second
 * ago exactly as it accepts a certificate issued a second ago, while RFC 5280 §6.3.3 (a)(1)/(2)
 * and RFC 6960 §4.2.2.1 ask it to refuse a `thisUpdate` in its future. `nextUpdate` still counts
 * from the moment of signing, so backdating never shortens the validity a publisher promises.
 */
export const DEFAULT_REVOCATION_BACKDATE_MS = 5 * 60_000;

/** Checks a `backdateMs` option: a finite, non-negative number of milliseconds. */
export function isValidBackdate(ms: number): boolean {
  return Number.isFinite(ms) && ms >= 0;
}
