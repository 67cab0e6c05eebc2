import {
  type RevokedSerial,
  type SerialStatus,
  type StatusSource,
  serialBytes,
} from '../revocation/status-source.js';
import type { CaLogger } from './logger.js';
import type { Store } from './store/types.js';

/**
 * The revocation status the OCSP responder and the CRL publisher read (revocation/status-source.ts),
 * backed by the store. Changes reach listeners (the responder's cache, the publisher's
 * republish-on-change) two ways:
 * - locally at once: the Authority calls `changed()` after its own revocations and releases;
 * - from other instances sharing the store: `start()` polls `store.statusChanges` every
 *   `pollIntervalMs` (default 2 s, so a revocation on one instance is served `revoked` by every
 *   other within about that delay plus one poll).
 *
 * PostgreSQL can commit changes out of `seq` order (sequences are handed out before commit), so
 * each poll re-reads a window of `REREAD_WINDOW` sequence numbers behind the highest seen and
 * drops the ones it already reported.
 */
export interface StoreStatusOptions {
  pollIntervalMs?: number;
  logger?: CaLogger;
}

/** Sequence numbers re-read behind the highest seen (concurrent transactions in flight at once). */
const REREAD_WINDOW = 256;
/** Changes read per poll query. */
const PAGE = 1000;

/** The store as a revocation StatusSource, with local and polled change notices (described above). */
export class StoreStatusSource implements StatusSource {
  private readonly listeners = new Set<(issuerId: string, serialHex: string) => void>();
  private timer?: ReturnType<typeof setTimeout>;
  private highest = 0;
  private readonly seen = new Set<number>();
  private polling?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly opts: StoreStatusOptions = {},
  ) {}

  lookup(issuerId: string, serialHex: string): Promise<SerialStatus | undefined> {
    return this.store.status(issuerId, serialHex);
  }

  async revoked(issuerId: string): Promise<readonly RevokedSerial[]> {
    const rows = await this.store.revokedEntries(issuerId);
    return rows.map((r) => ({
      serialNumber: serialBytes(r.serialHex),
      revocationTime: r.revocationTime,
      reason: r.reason,
      invalidityDate: r.invalidityDate,
    }));
  }

  onChange(listener: (issuerId: string, serialHex: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Reports a change made by this instance (cache invalidation without waiting for the poll). */
  changed(issuerId: string, serialHex: string): void {
    for (const l of this.listeners) {
      try {
        l(issuerId, serialHex);
      } catch (e) {
        this.opts.logger?.error({ err: String(e) }, 'status listener failed');
      }
    }
  }

  /**
   * Skips the history (caches are empty at start), then polls for changes until `stop()`.
   * Resolves once the history has been read.
   */
  async start(): Promise<void> {
    this.stopped = false;
    for (;;) {
      const page = await this.store.statusChanges(this.highest, PAGE);
      for (const c of page) {
        this.highest = Math.max(this.highest, c.seq);
        this.seen.add(c.seq);
      }
      this.prune();
      if (page.length < PAGE) break;
    }
    this.arm();
  }

  /** Polls once now (tests and `Authority.refresh`). */
  poll(): Promise<void> {
    this.polling ??= this.pollOnce().finally(() => {
      this.polling = undefined;
    });
    return this.polling;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.poll()
        .catch((e) => this.opts.logger?.warn({ err: String(e) }, 'status poll failed'))
        .finally(() => this.arm());
    }, this.opts.pollIntervalMs ?? 2000);
    this.timer.unref?.();
  }

  private async pollOnce(): Promise<void> {
    const from = Math.max(0, this.highest - REREAD_WINDOW);
    let after = from;
    // Bounded: a burst of changes is read in pages, at most 100 pages per poll.
    for (let i = 0; i < 100; i++) {
      const page = await this.store.statusChanges(after, PAGE);
      for (const c of page) {
        after = c.seq;
        if (this.seen.has(c.seq) || c.seq <= from) continue;
        this.seen.add(c.seq);
        if (c.seq > this.highest) this.highest = c.seq;
        this.changed(c.issuerId, c.serialHex);
      }
      if (page.length < PAGE) break;
    }
    this.prune();
  }

  /** Forgets sequence numbers that fell out of the re-read window. */
  private prune(): void {
    if (this.seen.size > 4 * REREAD_WINDOW)
      for (const s of this.seen) if (s <= this.highest - REREAD_WINDOW) this.seen.delete(s);
  }
}
