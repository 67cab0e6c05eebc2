/**
 * Token buckets, one per key (a claim identity): `burst` tokens at most, refilled continuously at
 * `perMinute`; a request takes one token or is refused with the time until one is back. The set
 * of keys is bounded by the caller (claims come from the configuration); `maxKeys` guards the map
 * anyway, dropping the fullest (idle) buckets first.
 *
 *   const rl = new RateLimiter();
 *   const r = rl.take('claim-factory-a', { burst: 20, perMinute: 120 });
 *   if (!r.ok) answer('rate-limited', r.retryAfterMs);
 */
export interface RateLimit {
  burst: number;
  perMinute: number;
}

export type RateDecision = { ok: true } | { ok: false; retryAfterMs: number };

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly maxKeys = 100_000,
  ) {}

  /** Takes one token from `key`'s bucket. */
  take(key: string, limit: RateLimit): RateDecision {
    const now = this.now();
    const ratePerMs = limit.perMinute / 60_000;
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= this.maxKeys) this.evict(now, ratePerMs, limit.burst);
      b = { tokens: limit.burst, at: now };
      this.buckets.set(key, b);
    } else {
      // A clock that steps back refills nothing rather than draining the bucket.
      b.tokens = Math.min(limit.burst, b.tokens + Math.max(0, now - b.at) * ratePerMs);
      b.at = now;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterMs: Math.ceil((1 - b.tokens) / ratePerMs) };
  }

  /** Drops the buckets that would be full by now (their state is the default one anyway). */
  private evict(now: number, ratePerMs: number, burst: number): void {
    for (const [k, b] of this.buckets)
      if (b.tokens + (now - b.at) * ratePerMs >= burst) this.buckets.delete(k);
    // Still full of busy buckets: forget the oldest (Map keeps insertion order).
    if (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
  }
}
