import type { Signer } from '../crypto/signer.js';
import { CrlPublisher, type PublishedCrl } from '../revocation/crl-publisher.js';
import { OcspResponder } from '../revocation/responder.js';
import type { CaConfig } from './config.js';
import type { LoadedIssuer } from './hierarchy.js';
import type { CaLogger } from './logger.js';
import type { Store } from './store/types.js';
import { StoreStatusSource } from './store-status.js';

/**
 * Revocation publishing for the Authority: one store-backed status source feeding
 * - CRLs (revocation/crl-publisher.ts) for every serving issuer, the root included: published on a
 *   schedule (`crl.refreshSeconds`, default half the validity) and `crl.debounceMs` after a change;
 *   numbered by `store.nextCrlNumber` (strictly increasing across instances, RFC 5280 §5.2.3),
 *   saved with `store.saveCrl`, each publication audited;
 * - one OCSP responder (revocation/responder.ts) for the serving intermediates, signed by each
 *   intermediate's own key. The root's key signs only intermediates and CRLs, so the root is not
 *   answered for by OCSP: its CRL covers the intermediates.
 * The issuer set changes at run time (rotation, import, retirement): `setIssuers` rebuilds the CRL
 * publisher and adds or removes issuers in the same responder object, which the HTTP routes keep.
 */
export interface ServingIssuer {
  issuer: LoadedIssuer;
  signer: Signer;
}

/** CRLs and OCSP for the serving issuers, from one store-backed status source (described above). */
export class Publication {
  readonly source: StoreStatusSource;
  private crl?: CrlPublisher;
  private responder?: OcspResponder;
  private responderInit?: Promise<OcspResponder>;
  private issuers: ServingIssuer[] = [];
  private timer?: ReturnType<typeof setTimeout>;
  private running = false;

  constructor(
    private readonly store: Store,
    private readonly config: CaConfig,
    private readonly now: () => number,
    private readonly logger: CaLogger,
    private readonly actor: string,
    private readonly o: { republishOnChange: boolean },
  ) {
    this.source = new StoreStatusSource(store, { pollIntervalMs: config.ocsp.pollIntervalMs, logger });
  }

  /** (Re)configures the issuers whose CRLs and OCSP answers are published. */
  async setIssuers(issuers: readonly ServingIssuer[]): Promise<void> {
    this.issuers = [...issuers];
    this.crl?.stop();
    this.crl = await CrlPublisher.create({
      issuers: issuers.map((s) => ({
        id: s.issuer.id,
        certificate: s.issuer.certificate,
        signer: s.signer,
        validitySeconds: this.config.crl.validitySeconds,
      })),
      source: this.source,
      refreshSeconds: this.config.crl.refreshSeconds,
      republishOnChange: this.o.republishOnChange,
      debounceMs: this.config.crl.debounceMs,
      nextCrlNumber: (id) => this.store.nextCrlNumber(id),
      onPublish: (c) => this.saved(c),
      now: this.now,
    });
    if (this.responder) {
      const want = new Set(this.ocspIssuers().map((s) => s.issuer.id));
      for (const id of this.responder.issuerIds) if (!want.has(id)) this.responder.removeIssuer(id);
      for (const s of this.ocspIssuers())
        if (!this.responder.issuerIds.includes(s.issuer.id))
          await this.responder.addIssuer({
            id: s.issuer.id,
            certificate: s.issuer.certificate,
            signer: s.signer,
          });
    }
  }

  /** Starts polling for other instances' changes and the CRL schedule (publishing every CRL once now). */
  async start(): Promise<void> {
    this.running = true;
    await this.source.start();
    await this.publishAll();
    this.arm();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.source.stop();
    this.crl?.stop();
    this.responder?.close();
  }

  /** Publishes a CRL for one issuer now. */
  publish(issuerId: string): Promise<PublishedCrl> {
    if (!this.crl) throw new Error('publication is not configured');
    return this.crl.publish(issuerId);
  }

  /** Publishes every serving issuer's CRL; failures are logged and skipped. */
  async publishAll(): Promise<PublishedCrl[]> {
    const out: PublishedCrl[] = [];
    for (const s of this.issuers) {
      try {
        out.push(await this.publish(s.issuer.id));
      } catch (e) {
        this.logger.error({ issuerId: s.issuer.id, err: String(e) }, 'CRL publication failed');
      }
    }
    return out;
  }

  /** The OCSP responder (created on first use). */
  ocsp(): Promise<OcspResponder> {
    this.responderInit ??= OcspResponder.create({
      issuers: this.ocspIssuers().map((s) => ({
        id: s.issuer.id,
        certificate: s.issuer.certificate,
        signer: s.signer,
      })),
      source: this.source,
      notIssued: this.config.ocsp.notIssued,
      validitySeconds: this.config.ocsp.validitySeconds,
      cacheSize: this.config.ocsp.cacheSize,
      now: this.now,
    }).then((r) => {
      this.responder = r;
      return r;
    });
    return this.responderInit;
  }

  private ocspIssuers(): ServingIssuer[] {
    return this.issuers.filter((s) => s.issuer.role === 'intermediate');
  }

  private arm(): void {
    if (!this.running) return;
    const seconds = this.config.crl.refreshSeconds ?? this.config.crl.validitySeconds / 2;
    this.timer = setTimeout(() => {
      this.publishAll().finally(() => this.arm());
    }, seconds * 1000);
    this.timer.unref?.();
  }

  private async saved(c: PublishedCrl): Promise<void> {
    await this.store.saveCrl({
      issuerId: c.issuerId,
      crlNumber: c.crlNumber,
      thisUpdate: c.thisUpdate,
      nextUpdate: c.nextUpdate,
      der: c.der,
    });
    await this.store.appendAudit([
      {
        time: this.now(),
        actor: this.actor,
        action: 'crl',
        result: 'ok',
        issuerId: c.issuerId,
        detail: { crlNumber: c.crlNumber.toString(), entries: c.entries, nextUpdate: c.nextUpdate },
      },
    ]);
    this.logger.info(
      { issuerId: c.issuerId, crlNumber: c.crlNumber.toString(), entries: c.entries },
      'CRL published',
    );
  }
}
