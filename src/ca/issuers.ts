import type { Signer } from '../crypto/signer.js';
import { Issuer } from '../issue/issuer.js';
import { CaError } from './errors.js';
import { Hierarchy, type LoadedIssuer } from './hierarchy.js';
import type { KeyStore } from './keys.js';
import type { CaLogger } from './logger.js';
import type { ServingIssuer } from './publication.js';
import { recordCertificate } from './records.js';
import type { Store } from './store/types.js';

/**
 * The hierarchy with its keys loaded: what the Authority signs with. Keys of every serving issuer
 * (active and retiring) are loaded at open and after each change of the hierarchy; a key that
 * cannot be loaded (a token not plugged in, an offline root) is logged and leaves that issuer
 * unable to sign (`key-unavailable`) without stopping the others. A wrong passphrase or an
 * exposed key file stops the start instead: those are configuration errors, not outages.
 */
export class IssuerSet {
  private readonly signers = new Map<string, Signer>();
  private readonly builders = new Map<string, Issuer>();

  private constructor(
    private readonly store: Store,
    private readonly keys: KeyStore,
    private readonly defaultLineage: string,
    private readonly log: CaLogger,
    private current: Hierarchy,
  ) {}

  static async load(store: Store, keys: KeyStore, defaultLineage: string, log: CaLogger): Promise<IssuerSet> {
    const s = new IssuerSet(store, keys, defaultLineage, log, await Hierarchy.load(store, defaultLineage));
    await s.loadSigners();
    return s;
  }

  get hierarchy(): Hierarchy {
    return this.current;
  }

  /** Re-reads the hierarchy; true when an issuer was added or changed status. */
  async refresh(): Promise<boolean> {
    const h = await Hierarchy.load(this.store, this.defaultLineage);
    const fingerprint = (x: Hierarchy) =>
      x
        .all()
        .map((i) => `${i.id}:${i.status}`)
        .join(',');
    const changed = fingerprint(h) !== fingerprint(this.current);
    this.current = h;
    if (changed) await this.loadSigners();
    return changed;
  }

  /** The active issuer of a lineage, its signer and its builder-side `Issuer`. */
  forIssuance(lineage: string): { issuer: LoadedIssuer; signer: Signer; ca: Issuer } {
    const issuer = this.current.active(lineage);
    if (!issuer)
      throw new CaError('issuer-unavailable', `no active issuer for ${lineage}`, { issuerId: lineage });
    const signer = this.signer(issuer.id);
    let ca = this.builders.get(issuer.id);
    if (!ca) {
      ca = Issuer.fromCertificate(issuer.certificate, signer);
      this.builders.set(issuer.id, ca);
    }
    return { issuer, signer, ca };
  }

  /** The loaded signer of an issuer (`key-unavailable` otherwise). */
  signer(id: string): Signer {
    const s = this.signers.get(id);
    if (!s)
      throw new CaError('key-unavailable', `the key of issuer ${id} is not available`, { issuerId: id });
    return s;
  }

  /** Serving issuers whose keys are loaded (what publishes CRLs and answers OCSP). */
  serving(): ServingIssuer[] {
    return this.current
      .serving()
      .filter((i) => this.signers.has(i.id))
      .map((i) => ({ issuer: i, signer: this.signers.get(i.id)! }));
  }

  /** The default lineage's active issuer (`/ca/chain.pem`). */
  defaultIssuer(): LoadedIssuer | undefined {
    return this.current.active(this.defaultLineage);
  }

  /**
   * Records every intermediate's certificate under its parent (so the root's CRL and a lookup by
   * serial find it). Run at every open, so a crash between `initHierarchy` and the recording heals.
   */
  async recordCaCertificates(actor: string, now: number): Promise<void> {
    for (const i of this.current.all()) {
      const parent = i.record.parentId;
      if (!parent) continue;
      const c = i.certificate;
      if (await this.store.getCertificate(parent, c.serialHex)) continue;
      await recordCertificate(this.store, parent, c, {
        profile: 'intermediate',
        requester: actor,
        requestId: `ca-certificate:${i.id}`,
        now,
        action: 'record-ca',
      });
    }
  }

  private async loadSigners(): Promise<void> {
    await Promise.all(
      this.current.serving().map(async (i) => {
        if (this.signers.has(i.id)) return;
        try {
          this.signers.set(
            i.id,
            await this.keys.signer(i.record.key, i.certificate.subjectPublicKeyInfo.der),
          );
        } catch (e) {
          const code = e instanceof CaError ? e.code : undefined;
          if (code === 'bad-passphrase' || code === 'key-file-permissions' || code === 'passphrase-required')
            throw e;
          this.log.warn({ issuerId: i.id, code, err: (e as Error).message }, 'issuer key unavailable');
        }
      }),
    );
  }
}
