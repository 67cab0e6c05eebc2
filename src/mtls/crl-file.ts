import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { encodePem } from '../pem/pem.js';
import { type CertificateList, parseCrl } from '../x509/crl.js';
import { MtlsError } from './errors.js';

/**
 * Keeps a broker's `crlfile` current: on every CRL publication (`update`, e.g. from the CRL
 * publisher's `onPublish`) and before the earliest nextUpdate of the CRLs it holds (`refresh`),
 * it rewrites the file atomically and tells the broker to re-read it (SIGHUP for Mosquitto,
 * RECIPES §4). An expired CRL makes Mosquitto refuse every client ("CRL has expired"), so a
 * refresh is scheduled `marginMs` before the earliest nextUpdate (default: a quarter of the
 * CRL's validity, at least a minute) and retried every `retryMs` while it fails.
 *
 * The file holds every issuer's latest CRL as PEM blocks (Mosquitto loads them all; it checks
 * the leaf's issuer's CRL only). Each CRL is parsed before it is written, so a corrupt one never
 * reaches the broker; a CRL older than the one held for the same issuer (lower cRLNumber) is
 * ignored. Writes go to a temporary file in the same directory, are fsync'ed, and renamed over
 * the old file, so the broker never reads half a file.
 *
 *   const keeper = new CrlFileKeeper({ path: 'broker/crl.pem', reload: { pid: broker.pid },
 *     refresh: async () => [(await publisher.publish('int')).der] });
 *   const publisher = await CrlPublisher.create({ ..., onPublish: (c) => keeper.update(c.der) });
 */
export interface CrlFileKeeperOptions {
  path: string;
  /** How the broker re-reads the file: SIGHUP to a PID, or a function. */
  reload: { pid: number } | (() => void | Promise<void>);
  /** Fresh CRLs on demand (e.g. the publisher publishing each issuer), called before nextUpdate. */
  refresh?: () => Promise<readonly (Uint8Array | CertificateList)[]>;
  /** How long before the earliest nextUpdate to refresh. Default: ¼ of that CRL's validity, ≥ 60 s. */
  marginMs?: number;
  /** Wait after a failed refresh. Default 60 s. */
  retryMs?: number;
  /** Told about failed refreshes and reloads. */
  onError?: (e: MtlsError) => void;
  now?: () => number;
}

export class CrlFileKeeper {
  /** Latest CRL per issuer (keyed by the issuer name's DER, hex). */
  private readonly held = new Map<string, CertificateList>();
  private timer?: ReturnType<typeof setTimeout>;
  private stopped = true;
  private chain: Promise<void> = Promise.resolve();
  private readonly now: () => number;

  constructor(private readonly opts: CrlFileKeeperOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** The CRLs held (one per issuer). */
  get crls(): CertificateList[] {
    return [...this.held.values()];
  }

  /**
   * Takes new CRLs (complete CRLs, one or more issuers), rewrites the file and reloads the broker.
   * Calls are serialised; each resolves once its CRLs are on disk and the broker was told.
   */
  update(...crls: (Uint8Array | CertificateList)[]): Promise<void> {
    const parsed = crls.map((c) => {
      try {
        return c instanceof Uint8Array ? parseCrl(c) : c;
      } catch (e) {
        throw new MtlsError('bad-configuration', `not a CRL: ${(e as Error).message}`, { cause: e });
      }
    });
    const run = this.chain.then(() => this.apply(parsed));
    this.chain = run.catch(() => {});
    return run;
  }

  private async apply(crls: CertificateList[]): Promise<void> {
    let changed = false;
    for (const c of crls) {
      const key = Buffer.from(c.issuer.der).toString('hex');
      const old = this.held.get(key);
      if (old && (old.cRLNumber ?? -1n) > (c.cRLNumber ?? -1n)) continue;
      this.held.set(key, c);
      changed = true;
    }
    if (!changed) return;
    writeAtomically(this.opts.path, this.crls.map((c) => encodePem('X509 CRL', c.der)).join(''));
    await this.reload();
    this.schedule();
  }

  private async reload(): Promise<void> {
    const r = this.opts.reload;
    try {
      if (typeof r === 'function') await r();
      else process.kill(r.pid, 'SIGHUP');
    } catch (e) {
      const err = new MtlsError(
        'crl-refresh-failed',
        `could not make the broker re-read ${this.opts.path}: ${(e as Error).message}`,
        {
          cause: e,
        },
      );
      this.opts.onError?.(err);
      throw err;
    }
  }

  /** Starts the refresh timer (after the first `update`, or now when CRLs are held). */
  start(): void {
    this.stopped = false;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Milliseconds until the next refresh is due (0: overdue), or undefined without CRLs or a refresh source. */
  nextRefreshIn(): number | undefined {
    if (!this.opts.refresh) return undefined;
    let due: number | undefined;
    for (const c of this.held.values()) {
      if (c.nextUpdate === undefined) continue;
      const margin = this.opts.marginMs ?? Math.max(60_000, (c.nextUpdate - c.thisUpdate) / 4);
      const at = c.nextUpdate - margin;
      due = due === undefined ? at : Math.min(due, at);
    }
    return due === undefined ? undefined : Math.max(0, due - this.now());
  }

  /** Fetches fresh CRLs through `refresh` and applies them now. */
  async refreshNow(): Promise<void> {
    if (!this.opts.refresh) throw new MtlsError('bad-configuration', 'no refresh source configured');
    try {
      await this.update(...(await this.opts.refresh()));
    } catch (e) {
      const err =
        e instanceof MtlsError
          ? e
          : new MtlsError('crl-refresh-failed', `CRL refresh failed: ${(e as Error).message}`, { cause: e });
      this.opts.onError?.(err);
      this.arm(this.opts.retryMs ?? 60_000);
      throw err;
    }
  }

  private schedule(): void {
    const ms = this.nextRefreshIn();
    if (ms !== undefined) this.arm(ms);
  }

  private arm(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.refreshNow().catch(() => {}), Math.min(ms, 0x7fffffff));
    this.timer.unref?.();
  }
}

/** Writes `text` to `path` via a temporary file in the same directory, fsync and rename. */
export function writeAtomically(path: string, text: string, mode = 0o644): void {
  const tmp = join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', mode);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    unlinkSync(tmp);
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
}
