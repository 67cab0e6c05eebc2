import type { Server as TlsServer } from 'node:tls';
import { defaultProvider } from '../crypto/default-provider.js';
import type { CryptoProvider } from '../crypto/provider.js';
import { buildOcspRequest, ocspUrls, sendOcspRequest } from '../revocation/ocsp/client.js';
import { checkOcspResponse, type OcspCertStatus } from '../revocation/ocsp-check.js';
import { OcspResponder } from '../revocation/responder.js';
import { type Certificate, parseCertificate } from '../x509/certificate.js';
import { MtlsError } from './errors.js';

/**
 * OCSP stapling for a server's own certificate (RFC 6066 §8 `status_request`; TLS 1.3 carries it
 * in the Certificate message, RFC 8446 §4.4.2.1): keeps a current, checked OCSP response and hands
 * it to Node's `OCSPRequest` event, so clients learn our status without asking the responder.
 *
 * - Source: a function returning response DER, an in-process `OcspResponder` (the CA service's),
 *   or by default the certificate's AIA OCSP URL. Requests carry no nonce: a stapled response is
 *   shared by every client (RFC 5019 §2.1 pre-produced responses).
 * - Every response is checked before use (signature, CertID, freshness: checkOcspResponse); one
 *   that fails is not stapled and the previous one is kept while it is still fresh.
 * - Refresh: when `refreshFraction` (default ½) of [thisUpdate, nextUpdate] has passed, so a
 *   response is never served close to its nextUpdate; after a failure, again in `retryMs`. A
 *   response past its nextUpdate is dropped (stapling nothing is better than stapling stale data).
 * - A `revoked` answer is stapled as is (it is the truth) and reported through `onError`.
 *
 *   const stapler = await OcspStapler.start({ certificate: serverCert, issuer: intermediate, source: responder });
 *   const server = createMtlsServer({ tls, clientAuth, stapling: stapler });
 */
export interface OcspStaplerOptions {
  certificate: Certificate | Uint8Array | string;
  issuer: Certificate | Uint8Array | string;
  source?: OcspSource;
  /** Fraction of the validity window after which a response is replaced. Default 0.5. */
  refreshFraction?: number;
  /** Wait after a failed refresh. Default 60 s. */
  retryMs?: number;
  /** Refresh period for responses without nextUpdate. Default 1 hour. */
  defaultRefreshMs?: number;
  /** HTTP timeout for the AIA source. Default 5 s. */
  timeoutMs?: number;
  /** Told about every failed refresh and every revoked answer. */
  onError?: (e: MtlsError) => void;
  now?: () => number;
  crypto?: CryptoProvider;
}

/** Where OCSP responses for our certificate come from. */
export type OcspSource =
  | ((q: { certificate: Certificate; issuer: Certificate }) => Promise<Uint8Array>)
  | OcspResponder
  | { url: string };

interface Current {
  der: Uint8Array;
  status: OcspCertStatus;
}

export class OcspStapler {
  readonly certificate: Certificate;
  readonly issuer: Certificate;
  private cur?: Current;
  private timer?: ReturnType<typeof setTimeout>;
  private stopped = false;
  private refreshAt?: number;
  private readonly now: () => number;
  private readonly crypto: CryptoProvider;

  private constructor(private readonly opts: OcspStaplerOptions) {
    const parse = (c: Certificate | Uint8Array | string) =>
      typeof c === 'string' || c instanceof Uint8Array ? parseCertificate(c) : c;
    this.certificate = parse(opts.certificate);
    this.issuer = parse(opts.issuer);
    this.now = opts.now ?? Date.now;
    this.crypto = opts.crypto ?? defaultProvider();
  }

  /** Fetches and checks the first response (throws `stapling-failed` if that fails), then keeps it fresh. */
  static async start(opts: OcspStaplerOptions): Promise<OcspStapler> {
    const s = new OcspStapler(opts);
    await s.refresh({ throwOnError: true });
    return s;
  }

  /** The response to staple now: undefined when none is held or the one held is past nextUpdate. */
  get response(): Uint8Array | undefined {
    const c = this.cur;
    if (!c) return undefined;
    if (c.status.nextUpdate !== undefined && this.now() >= c.status.nextUpdate) return undefined;
    return c.der;
  }

  /** The status the held response gives. */
  get status(): OcspCertStatus | undefined {
    return this.cur?.status;
  }

  /** Obtains a new response now; on failure keeps the current one and retries later. */
  async refresh(o: { throwOnError?: boolean } = {}): Promise<void> {
    clearTimeout(this.timer);
    try {
      const der = await this.fetch();
      const status = await checkOcspResponse(der, this.certificate, this.issuer, {
        crypto: this.crypto,
        time: this.now(),
      });
      this.cur = { der, status };
      if (status.status !== 'good')
        this.opts.onError?.(
          new MtlsError('stapling-failed', `the OCSP responder says our certificate is ${status.status}`),
        );
      this.schedule(this.refreshDelay(status));
    } catch (e) {
      const err =
        e instanceof MtlsError
          ? e
          : new MtlsError('stapling-failed', `OCSP response for stapling: ${(e as Error).message}`, {
              cause: e,
            });
      this.schedule(this.opts.retryMs ?? 60_000);
      if (o.throwOnError) {
        this.stop();
        throw err;
      }
      this.opts.onError?.(err);
    }
  }

  private refreshDelay(s: OcspCertStatus): number {
    if (s.nextUpdate === undefined) return this.opts.defaultRefreshMs ?? 3_600_000;
    const f = this.opts.refreshFraction ?? 0.5;
    const at = s.thisUpdate + (s.nextUpdate - s.thisUpdate) * f;
    return Math.max(1000, at - this.now());
  }

  /** When the next refresh is due (epoch ms), while one is scheduled. */
  get nextRefreshAt(): number | undefined {
    return this.stopped ? undefined : this.refreshAt;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.refreshAt = this.now() + ms;
    // setTimeout's limit is 2^31-1 ms; a longer wait re-arms on the way.
    this.timer = setTimeout(() => void this.refresh(), Math.min(ms, 0x7fffffff));
    this.timer.unref?.();
  }

  private async fetch(): Promise<Uint8Array> {
    const src = this.opts.source ?? { url: ocspUrls(this.certificate)[0] ?? '' };
    if (typeof src === 'function') return src({ certificate: this.certificate, issuer: this.issuer });
    const req = await buildOcspRequest(this.certificate, this.issuer, { nonce: false, crypto: this.crypto });
    if (src instanceof OcspResponder) {
      const r = await src.respond(req.der);
      if (r.responseStatus !== 'successful')
        throw new MtlsError('stapling-failed', `the OCSP responder answered ${r.responseStatus}`);
      return r.der;
    }
    if (!src.url) throw new MtlsError('bad-configuration', 'our certificate names no OCSP responder (AIA)');
    return sendOcspRequest(src.url, req.der, { method: 'POST', timeoutMs: this.opts.timeoutMs ?? 5000 });
  }

  /** Staples on `server` from now on (Node's `OCSPRequest` event; asked only by clients that request status). */
  attach(server: TlsServer): void {
    server.on(
      'OCSPRequest',
      (_cert: Buffer, _issuer: Buffer, cb: (err: Error | null, resp?: Buffer) => void) => {
        const r = this.response;
        cb(null, r ? Buffer.from(r.buffer, r.byteOffset, r.byteLength) : undefined);
      },
    );
  }

  /** Stops refreshing. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
