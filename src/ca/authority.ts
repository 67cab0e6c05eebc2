import { defaultProvider } from '../crypto/default-provider.js';
import type { CryptoProvider } from '../crypto/provider.js';
import { isCrlReason } from '../issue/crl-extensions.js';
import { serialFromInput } from '../issue/serial.js';
import { encodePem } from '../pem/pem.js';
import type { PublishedCrl } from '../revocation/crl-publisher.js';
import type { OcspResponder } from '../revocation/responder.js';
import { serialKey } from '../revocation/status-source.js';
import { type Certificate, parseCertificate } from '../x509/certificate.js';
import type { CertificationRequest } from '../x509/csr.js';
import type { CRLReason } from '../x509/extensions/types.js';
import { Approvals } from './approvals.js';
import { type CaConfig, parseConfig } from './config.js';
import { CaError } from './errors.js';
import type { IssuerInfo } from './hierarchy.js';
import {
  type ImportIssuerOptions,
  type InitHierarchyOptions,
  importIssuer,
  initHierarchy,
  type RotateOptions,
  rotateIssuer,
} from './init.js';
import { IssuerSet } from './issuers.js';
import type { KeyStore } from './keys.js';
import { type CaLogger, silentLogger } from './logger.js';
import {
  type IssuanceInput,
  IssuancePipeline,
  type IssuedResult,
  type IssueResult,
  verifyRequestAsync,
} from './pipeline.js';
import { POLICY_VALIDATORS, sanEntry, type Validator } from './policy.js';
import type { CaProfile } from './profiles.js';
import { Publication } from './publication.js';
import type {
  AuditEvent,
  CertificatePage,
  CertificateQuery,
  CertificateRecord,
  CertificateStatistics,
  CrlRecord,
  PendingRequest,
  PendingState,
  Store,
} from './store/types.js';

/**
 * The Authority: fleetpki's CA as a library. The HTTP service (`fleetpki serve`), the `ca …`/`crl …`
 * CLI, EST enrollment and MQTT provisioning are thin layers over it.
 *
 *   const keys = await KeyStore.open({ dataDir, passphrase });
 *   const { authority: ca } = await Authority.init({ store, keys, config });   // first start; else open()
 *   const r = await ca.issue(csrPem, { profile: 'device', requester: 'est:bootstrap-7' });
 *   if (r.status === 'issued') send(r.certificate, r.chain);
 *   await ca.revoke(r.serialHex, 'keyCompromise', { requester: 'admin:token:ops' });
 *   const responder = await ca.ocspResponder();          // for src/server/ocsp.ts routes
 *   await ca.close();
 *
 * Every operation takes a `requester` — who asks, as written into the audit log: `system`,
 * `cli:<user>`, `admin:cert:<fingerprint>`, `admin:token:<id>`, `est:<username>`, `mqtt:<claim>`.
 * Profiles decide which requesters may use them. Errors are `CaError` with a documented `code`
 * (errors.ts). See pipeline.ts for the issuance stages, publication.ts for CRL and OCSP,
 * hierarchy.ts for issuers and rotation, init.ts for creating and importing CAs.
 *
 * Several instances may share one store (PostgreSQL, or one SQLite file): serials, CRL numbers and
 * the audit chain are the store's invariants, OCSP caches follow other instances' revocations by
 * polling (`ocsp.pollIntervalMs`), and each instance re-reads the hierarchy every 30 s (a rotation
 * made elsewhere) or on `refresh()`.
 */
export interface AuthorityOptions {
  store: Store;
  keys: KeyStore;
  /** Parsed configuration (`loadConfig`/`parseConfig`); default: every default. */
  config?: CaConfig;
  /** Epoch ms; default Date.now. */
  clock?: () => number;
  /** pino-compatible; default silent. */
  logger?: CaLogger;
  /**
   * `on` (default): CRL schedule, polling for other instances' status changes, recovery sweeps and
   * hierarchy refreshes run on timers, and a revocation republishes its CRL `crl.debounceMs` later.
   * `off`: nothing runs unless called (the CLI; tests) — CRLs are published by `publishCrl`.
   */
  background?: 'on' | 'off';
  /** Policy validators (default POLICY_VALIDATORS); a deployment may append its own. */
  validators?: readonly Validator[];
  /** Audit actor for what the Authority does by itself (CRLs, recovery). Default `system`. */
  systemActor?: string;
  /**
   * Verifies CSR signatures (proof of possession) and each new certificate's signature, through
   * `verifyAsync`. Default: the default provider. A service passes crypto/ `VerifyPool` to keep
   * these public-key operations off its event loop.
   */
  crypto?: CryptoProvider;
}

/** Options of `Authority.issue`. */
export interface IssueOptions {
  /** Profile name (`device`, `server`, …). */
  profile: string;
  requester: string;
  /**
   * Idempotency key (EST/MQTT request id; for EST without one, a hash of the CSR). A retry with the
   * same id and the same key and subject returns the certificate issued the first time (`replayed`);
   * with a manual-approval profile it is also the pending request's id.
   */
  requestId?: string;
  /** Validity in days (≤ the profile's maxValidityDays); default the profile's. */
  validityDays?: number;
}

/** Who asks, and for which issuer's serial. */
export interface RequesterOptions {
  requester: string;
  /** The issuer, when the serial alone is ambiguous (serials are random: normally not needed). */
  issuerId?: string;
}

/** Options of `Authority.revoke`. */
export interface RevokeOptions extends RequesterOptions {
  /** RFC 5280 §5.3.2: when the key is known or suspected to have been compromised (epoch ms). */
  invalidityDate?: number;
}

/** Options of `Authority.renew` and `Authority.rekey`. */
export interface RenewOptions extends RequesterOptions {
  requestId?: string;
  validityDays?: number;
}

/** What `Authority.revoke` recorded. */
export interface RevocationResult {
  issuerId: string;
  serialHex: string;
  reason: CRLReason;
  revocationTime: number;
}

/** A serial as hex text (colons allowed), a bigint, or INTEGER content bytes. */
export type SerialInput = string | bigint | Uint8Array;

/** CRL reasons a revocation may give (RFC 5280 §5.3.1; removeFromCRL only appears in delta CRLs). */
export const REVOCATION_REASONS: readonly CRLReason[] = [
  'unspecified',
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'certificateHold',
  'privilegeWithdrawn',
  'aACompromise',
];

const HIERARCHY_REFRESH_MS = 30_000;

/** The CA; see `AuthorityOptions` above for the whole picture. */
export class Authority {
  readonly config: CaConfig;
  readonly store: Store;
  readonly keys: KeyStore;
  private readonly pipeline: IssuancePipeline;
  private readonly crypto: CryptoProvider;
  private readonly publication: Publication;
  private readonly approvals: Approvals;
  private readonly now: () => number;
  private readonly log: CaLogger;
  private readonly actor: string;
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private readonly inflight = new Set<Promise<unknown>>();
  private closed = false;

  private constructor(
    o: AuthorityOptions & { config: CaConfig },
    private readonly issuerSet: IssuerSet,
  ) {
    this.config = o.config;
    this.store = o.store;
    this.keys = o.keys;
    this.now = o.clock ?? Date.now;
    this.log = o.logger ?? silentLogger;
    this.actor = o.systemActor ?? 'system';
    this.publication = new Publication(this.store, this.config, this.now, this.log, this.actor, {
      republishOnChange: o.background !== 'off' && this.config.crl.republishOnChange,
    });
    this.crypto = o.crypto ?? defaultProvider();
    this.pipeline = new IssuancePipeline({
      store: this.store,
      crypto: this.crypto,
      now: this.now,
      logger: this.log,
      validators: o.validators ?? POLICY_VALIDATORS,
      issuerFor: async (lineage) => this.issuerSet.forIssuance(lineage),
      issuerForId: (id) => this.issuerSet.hierarchy.get(id),
      revocationUrls: (p, id) => this.revocationUrls(p, id),
    });
    this.approvals = new Approvals(this.store, this.pipeline, this.config, this.now);
  }

  /**
   * Opens the Authority on a store that holds a hierarchy (`no-hierarchy` otherwise): loads the
   * issuers and their keys, runs the recovery pass (reservations a crash left behind are voided,
   * audited `recover`), and with `background: 'on'` publishes CRLs and starts the timers.
   */
  static async open(o: AuthorityOptions): Promise<Authority> {
    const config = o.config ?? parseConfig({});
    const log = o.logger ?? silentLogger;
    const issuers = await IssuerSet.load(o.store, o.keys, config.hierarchy.defaultIssuer, log);
    const h = issuers.hierarchy;
    if (h.isEmpty)
      throw new CaError('no-hierarchy', 'the store holds no CA yet (Authority.init creates one)');
    const ca = new Authority({ ...o, config }, issuers);
    await issuers.recordCaCertificates(ca.actor, ca.now());
    await ca.recover();
    await ca.publication.setIssuers(issuers.serving());
    if (o.background !== 'off') {
      await ca.publication.start();
      ca.every(config.recovery.sweepIntervalMs, async () => {
        await ca.recover();
        await ca.retireExpired();
      });
      ca.every(HIERARCHY_REFRESH_MS, () => ca.refresh());
    }
    for (const p of Object.values(config.profiles))
      if (!h.active(p.issuer))
        log.warn({ profile: p.name, issuer: p.issuer }, 'profile names an issuer without an active CA');
    log.info({ issuers: h.all().map((i) => `${i.id}:${i.status}`), store: o.store.kind }, 'authority open');
    return ca;
  }

  /**
   * Creates the hierarchy on a store that has none (first start of `serve`, or `ca init`), then
   * opens it. Of several concurrent inits on one store exactly one creates the CA (`created: true`);
   * the others adopt it, removing the key files they wrote. An existing root can be imported
   * (certificate + key file or PKCS#11 URI) instead of generating one.
   */
  static async init(
    o: AuthorityOptions & InitHierarchyOptions,
  ): Promise<{ authority: Authority; created: boolean }> {
    const config = o.config ?? parseConfig({});
    const created = await initHierarchy({
      ...o,
      config,
      now: o.clock ?? Date.now,
      logger: o.logger ?? silentLogger,
    });
    return { authority: await Authority.open({ ...o, config }), created };
  }

  // ---- issuance ---------------------------------------------------------------------------------

  /**
   * Issues a certificate from a CSR (DER, PEM or parsed) under a profile; see pipeline.ts for the
   * stages. Resolves `{ status: 'issued', … }`, or `{ status: 'pending' }` for a profile with
   * manual approval. Refusals throw `CaError` (audited `refused:<code>`, nothing stored, no key used).
   */
  issue(csr: CertificationRequest | Uint8Array | string, o: IssueOptions): Promise<IssueResult> {
    return this.run(() => this.issueNow(csr, o));
  }

  private async issueNow(
    csr: CertificationRequest | Uint8Array | string,
    o: IssueOptions,
  ): Promise<IssueResult> {
    this.checkRequest(o);
    const profile = this.config.profiles[o.profile];
    if (!profile) {
      const name = String(o.profile).slice(0, 64);
      throw await this.pipeline.refused(
        { action: 'issue', requester: o.requester, detail: { profile: name } },
        new CaError('unknown-profile', `no profile "${name}"`),
      );
    }
    const base = { action: 'issue' as const, requester: o.requester, profile };
    let req: CertificationRequest;
    try {
      req = await verifyRequestAsync(csr, this.crypto);
    } catch (e) {
      throw await this.pipeline.refused(base, e);
    }
    const input: IssuanceInput = {
      ...base,
      requestId: o.requestId,
      subject: req.subject,
      spki: req.subjectPublicKeyInfo,
      sans: req.subjectAltName ?? [],
      validityDays: o.validityDays,
    };
    const earlier = await this.earlierRequest(input);
    if (earlier) return earlier;
    const checked = await this.pipeline.check(input);
    if (profile.approval === 'manual') {
      const r = await this.approvals.hold(req, input);
      this.log.info({ profile: profile.name, requester: o.requester }, 'request held for approval');
      return r;
    }
    return this.pipeline.issue(input, checked);
  }

  /**
   * Issues a new certificate for the same key, subject and SAN as an issued one (RFC 7030 §4.2.2
   * re-enrollment without a new key). The old certificate stays valid (revoke it as `superseded`
   * if wanted). `certificate-not-valid` when it is revoked or expired; policy is checked again.
   */
  renew(serial: SerialInput, o: RenewOptions): Promise<IssuedResult> {
    return this.run(() => this.renewNow(serial, o));
  }

  private async renewNow(serial: SerialInput, o: RenewOptions): Promise<IssuedResult> {
    this.checkRequest(o);
    const { rec, cert, profile } = await this.current(serial, o, 'renew');
    const input: IssuanceInput = {
      action: 'renew',
      profile,
      requester: o.requester,
      requestId: o.requestId,
      subject: cert.subject,
      spki: cert.subjectPublicKeyInfo,
      sans: cert.subjectAltName ?? [],
      validityDays: o.validityDays,
      detail: { renews: `${rec.issuerId}/${rec.serialHex}` },
    };
    const earlier = await this.earlierRequest(input);
    if (earlier?.status === 'issued') return earlier;
    return this.pipeline.issue(input, await this.pipeline.check(input));
  }

  /**
   * Issues a certificate for a new key (the CSR's) with the subject and SAN of an issued one
   * (RFC 7030 §4.2.2: they must be identical). `key-reuse` when the CSR has the old key.
   */
  rekey(
    serial: SerialInput,
    csr: CertificationRequest | Uint8Array | string,
    o: RenewOptions,
  ): Promise<IssuedResult> {
    return this.run(() => this.rekeyNow(serial, csr, o));
  }

  private async rekeyNow(
    serial: SerialInput,
    csr: CertificationRequest | Uint8Array | string,
    o: RenewOptions,
  ): Promise<IssuedResult> {
    this.checkRequest(o);
    const { rec, cert, profile } = await this.current(serial, o, 'rekey');
    const base = {
      action: 'rekey' as const,
      requester: o.requester,
      profile,
      detail: { rekeys: `${rec.issuerId}/${rec.serialHex}` },
    };
    let req: CertificationRequest;
    try {
      req = await verifyRequestAsync(csr, this.crypto);
      const sameKey = Buffer.compare(req.subjectPublicKeyInfo.der, cert.subjectPublicKeyInfo.der) === 0;
      if (sameKey) throw new CaError('key-reuse', 'rekey needs a new key; use renew to keep the key');
      const oldSans = (cert.subjectAltName ?? []).map(sanEntry).sort().join('\n');
      const newSans = (req.subjectAltName ?? []).map(sanEntry).sort().join('\n');
      if (!req.subject.equals(cert.subject) || oldSans !== newSans)
        throw new CaError(
          'subject-not-allowed',
          'a rekey request must carry the subject and subjectAltName of the certificate it replaces',
          { rule: 'reenroll', section: 'RFC 7030 §4.2.2' },
        );
    } catch (e) {
      throw await this.pipeline.refused(base, e);
    }
    const input: IssuanceInput = {
      ...base,
      requestId: o.requestId,
      subject: req.subject,
      spki: req.subjectPublicKeyInfo,
      sans: req.subjectAltName ?? [],
      validityDays: o.validityDays,
    };
    const earlier = await this.earlierRequest(input);
    if (earlier?.status === 'issued') return earlier;
    return this.pipeline.issue(input, await this.pipeline.check(input));
  }

  // ---- manual approval --------------------------------------------------------------------------

  /** Requests waiting for approval (or, with `state`, those approved or rejected), oldest first. */
  listPending(q: { state?: PendingState; limit?: number; afterId?: string } = {}): Promise<PendingRequest[]> {
    return this.approvals.list(q);
  }

  getPending(id: string): Promise<PendingRequest | undefined> {
    return this.approvals.get(id);
  }

  /**
   * Approves a pending request and issues its certificate (policy checked again, now). Of two
   * concurrent approvals one issues; the other gets `not-pending`.
   */
  approve(id: string, o: { requester: string }): Promise<IssuedResult> {
    return this.run(async () => {
      this.checkRequest(o);
      return this.approvals.approve(id, o.requester);
    });
  }

  /** Rejects a pending request (`not-pending` when it was decided already). */
  reject(id: string, o: { requester: string; reason?: string }): Promise<void> {
    return this.run(async () => {
      this.checkRequest(o);
      return this.approvals.reject(id, o.requester, o.reason);
    });
  }

  // ---- certificates -----------------------------------------------------------------------------

  /** A certificate record by serial (any state), or undefined. */
  async get(serial: SerialInput, issuerId?: string): Promise<CertificateRecord | undefined> {
    const s = this.serial(serial);
    if (issuerId !== undefined) return this.store.getCertificate(issuerId, s);
    const all = await this.store.findBySerial(s);
    if (all.length > 1)
      throw new CaError('ambiguous-serial', `serial ${s} exists under ${all.length} issuers`, {
        serialHex: s,
      });
    return all[0];
  }

  /** Searches certificates (keyset pagination; see `CertificateQuery`). */
  find(q: CertificateQuery): Promise<CertificatePage> {
    return this.store.findCertificates({ now: this.now(), ...q, limit: Math.min(Math.max(1, q.limit), 500) });
  }

  /** Counts for the dashboard: by status, by issuer, expiring per day for `days`, issued per hour. */
  statistics(days = 90): Promise<CertificateStatistics> {
    const now = this.now();
    return this.store.statistics(now, now + days * 86_400_000);
  }

  // ---- revocation -------------------------------------------------------------------------------

  /**
   * Revokes an issued certificate (RFC 5280 §5.3.1 reason). OCSP answers change at once on this
   * instance (cache invalidated) and within `ocsp.pollIntervalMs` on the others; the CRL is
   * republished `crl.debounceMs` later. A certificateHold may be escalated to another reason;
   * otherwise a second revocation is `already-revoked`.
   */
  revoke(serial: SerialInput, reason: CRLReason, o: RevokeOptions): Promise<RevocationResult> {
    return this.run(() => this.revokeNow(serial, reason, o));
  }

  private async revokeNow(
    serial: SerialInput,
    reason: CRLReason,
    o: RevokeOptions,
  ): Promise<RevocationResult> {
    this.checkRequest(o);
    if (!isCrlReason(reason) || !REVOCATION_REASONS.includes(reason))
      throw new CaError(
        'bad-reason',
        `"${String(reason)}" is not a revocation reason (${REVOCATION_REASONS.join(', ')})`,
      );
    if (o.invalidityDate !== undefined && !Number.isFinite(o.invalidityDate))
      throw new CaError('bad-reason', 'invalidityDate is not a time');
    const rec = await this.issued(serial, o.issuerId);
    const time = this.now();
    const r = await this.store.revoke(
      rec.issuerId,
      rec.serialHex,
      { time, reason, invalidityDate: o.invalidityDate },
      this.event(o.requester, 'revoke', 'ok', { reason, profile: rec.profile }, rec),
    );
    if (r === 'not-issued')
      throw new CaError('not-found', `serial ${rec.serialHex} is not an issued certificate`);
    if (r === 'already-revoked') {
      await this.store.appendAudit([
        this.event(o.requester, 'revoke', 'refused:already-revoked', { reason }, rec),
      ]);
      throw new CaError('already-revoked', `certificate ${rec.serialHex} is already revoked`, {
        issuerId: rec.issuerId,
        serialHex: rec.serialHex,
      });
    }
    this.publication.source.changed(rec.issuerId, rec.serialHex);
    this.log.info(
      { issuerId: rec.issuerId, serialHex: rec.serialHex, reason, requester: o.requester },
      'certificate revoked',
    );
    return { issuerId: rec.issuerId, serialHex: rec.serialHex, reason, revocationTime: time };
  }

  /** Releases a certificateHold: the certificate is good again (`not-on-hold` otherwise). */
  releaseHold(serial: SerialInput, o: RequesterOptions): Promise<void> {
    return this.run(() => this.releaseHoldNow(serial, o));
  }

  private async releaseHoldNow(serial: SerialInput, o: RequesterOptions): Promise<void> {
    this.checkRequest(o);
    const rec = await this.issued(serial, o.issuerId);
    const r = await this.store.releaseHold(
      rec.issuerId,
      rec.serialHex,
      this.event(o.requester, 'release-hold', 'ok', {}, rec),
    );
    if (r === 'not-issued')
      throw new CaError('not-found', `serial ${rec.serialHex} is not an issued certificate`);
    if (r === 'not-on-hold') {
      await this.store.appendAudit([this.event(o.requester, 'release-hold', 'refused:not-on-hold', {}, rec)]);
      throw new CaError('not-on-hold', `certificate ${rec.serialHex} is not on hold`);
    }
    this.publication.source.changed(rec.issuerId, rec.serialHex);
    this.log.info(
      { issuerId: rec.issuerId, serialHex: rec.serialHex, requester: o.requester },
      'hold released',
    );
  }

  /**
   * Publishes CRLs now: one issuer's (`publishCrl('issuing')`), or with no argument every serving
   * issuer's, the root's included.
   */
  publishCrl(): Promise<PublishedCrl[]>;
  publishCrl(issuerId: string): Promise<PublishedCrl>;
  async publishCrl(issuerId?: string): Promise<PublishedCrl | PublishedCrl[]> {
    this.checkOpen();
    if (issuerId === undefined) return this.publication.publishAll();
    this.serving(issuerId);
    return this.publication.publish(issuerId);
  }

  /** The issuer's latest CRL across all instances (published now if there is none, or it expired). */
  async crl(issuerId: string): Promise<CrlRecord> {
    this.serving(issuerId);
    const c = await this.store.latestCrl(issuerId);
    if (c && c.nextUpdate > this.now()) return c;
    const p = await this.publication.publish(issuerId);
    return {
      issuerId,
      crlNumber: p.crlNumber,
      thisUpdate: p.thisUpdate,
      nextUpdate: p.nextUpdate,
      der: p.der,
    };
  }

  /**
   * The OCSP responder for every serving intermediate (active and retiring), answering from the
   * store; give it to src/server/ocsp.ts. The same object for the Authority's lifetime: rotated
   * issuers are added to it, retired ones removed.
   */
  ocspResponder(): Promise<OcspResponder> {
    this.checkOpen();
    return this.publication.ocsp();
  }

  /** Polls the store for other instances' status changes now (normally a timer does it). */
  pollStatusChanges(): Promise<void> {
    return this.publication.source.poll();
  }

  // ---- hierarchy --------------------------------------------------------------------------------

  /**
   * The chain of an issuer, itself first and the root last: `/ca/chain.pem` serves the default
   * issuing intermediate's (no argument), a per-issuer route an issuer's.
   */
  chain(issuerId?: string): Certificate[] {
    const i =
      issuerId === undefined ? this.issuerSet.defaultIssuer() : this.issuerSet.hierarchy.get(issuerId);
    if (!i) throw new CaError('not-found', `no issuer ${issuerId ?? this.config.hierarchy.defaultIssuer}`);
    return [i.certificate, ...i.chain];
  }

  /** `chain()` as PEM text. */
  chainPem(issuerId?: string): string {
    return this.chain(issuerId)
      .map((c) => encodePem('CERTIFICATE', c.der))
      .join('');
  }

  /** The root certificate (what relying parties trust). */
  rootCertificate(): Certificate {
    const r = this.issuerSet.hierarchy.root;
    if (!r) throw new CaError('no-hierarchy', 'no root');
    return r.certificate;
  }

  /** Every issuer as data (admin API, dashboard). */
  issuers(): IssuerInfo[] {
    const h = this.issuerSet.hierarchy;
    return h.all().map((i) => h.info(i));
  }

  /** Every profile as data (admin API, dashboard). */
  profiles(): CaProfile[] {
    return Object.values(this.config.profiles);
  }

  profile(name: string): CaProfile | undefined {
    return this.config.profiles[name];
  }

  /**
   * Rotates an intermediate lineage: a new key and certificate (`<lineage>-g<N>`) signed by the
   * root; the previous generation becomes `retiring` (no new certificates; CRL and OCSP still
   * served) and `retired` once its last certificate has expired (`retireExpired`).
   */
  async rotate(lineage: string, o: RotateOptions): Promise<IssuerInfo> {
    this.checkOpen();
    const id = await rotateIssuer(this.context(), lineage, o);
    await this.refresh();
    return this.info(id);
  }

  /**
   * Imports an existing intermediate CA: its certificate (issued by a stored issuer, normally the
   * root) and its key — a key file (re-encrypted into DATA/keys) or an RFC 7512 PKCS#11 URI.
   */
  async importIssuer(o: ImportIssuerOptions): Promise<IssuerInfo> {
    this.checkOpen();
    const id = await importIssuer(this.context(), o);
    await this.refresh();
    return this.info(id);
  }

  /** Sets `retiring` issuers whose certificates have all expired to `retired`. */
  async retireExpired(): Promise<string[]> {
    const now = this.now();
    const retired: string[] = [];
    for (const i of this.issuerSet.hierarchy.all()) {
      if (i.status !== 'retiring') continue;
      const live = await this.store.findCertificates({ issuerId: i.id, expiresFrom: now, limit: 1, now });
      if (live.items.length > 0) continue;
      await this.store.setIssuerStatus(
        i.id,
        'retired',
        this.event(this.actor, 'retire', 'ok', {}, { issuerId: i.id }),
      );
      retired.push(i.id);
    }
    if (retired.length) await this.refresh();
    return retired;
  }

  /** Re-reads the hierarchy from the store (a rotation or import made by another instance). */
  async refresh(): Promise<void> {
    if (!(await this.issuerSet.refresh())) return;
    await this.publication.setIssuers(this.issuerSet.serving());
    this.log.info({ issuers: this.issuers().map((i) => `${i.id}:${i.status}`) }, 'hierarchy changed');
  }

  // ---- recovery ---------------------------------------------------------------------------------

  /**
   * Voids reservations still `reserved` that were made before `before` (default: now −
   * `recovery.graceMs`), each audited `recover`: a crash between reserve and complete leaves such
   * rows, and no client can hold their certificates. Returns how many were voided.
   */
  async recover(o: { before?: number } = {}): Promise<number> {
    const before = o.before ?? this.now() - this.config.recovery.graceMs;
    let n = 0;
    // Bounded: 100 pages of 500 per pass; the next sweep continues.
    for (let page = 0; page < 100; page++) {
      const rows = await this.store.unresolvedReservations(before, 500);
      for (const r of rows) {
        await this.store.voidReservation(r.issuerId, r.serialHex, {
          time: this.now(),
          actor: this.actor,
          action: 'recover',
          result: 'ok',
          issuerId: r.issuerId,
          serialHex: r.serialHex,
          detail: { profile: r.profile, reservedAt: r.reservedAt, requester: r.requester },
        });
        n++;
      }
      if (rows.length < 500) break;
    }
    if (n) this.log.warn({ voided: n }, 'recovery: voided reservations left by an interrupted issuance');
    return n;
  }

  /** Records an admin action in the audit log (e.g. the service's logins or configuration changes). */
  async audit(e: Omit<AuditEvent, 'time'> & { time?: number }): Promise<void> {
    await this.store.appendAudit([{ ...e, time: e.time ?? this.now() }]);
  }

  /**
   * Stops taking requests (`closed`), lets the ones in flight finish (a SIGTERM drains issuances
   * instead of cutting them between reserve and complete), then stops background work. The store
   * and key store stay open: they belong to the caller.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.inflight]);
    this.publication.stop();
    this.log.info({}, 'authority closed');
  }

  /** Requests in flight (issuances, revocations…), for metrics and graceful shutdown. */
  get inFlight(): number {
    return this.inflight.size;
  }

  // ---- internals --------------------------------------------------------------------------------

  private checkOpen(): void {
    if (this.closed) throw new CaError('closed', 'the Authority is closed');
  }

  /** Who asks and the request id are written to the store and the audit log: bounded, printable. */
  private checkRequest(o: { requester: string; requestId?: string; validityDays?: number }): void {
    const ok = (v: unknown, max: number) =>
      typeof v === 'string' && v.length > 0 && v.length <= max && !/[\u0000-\u001f\u007f]/.test(v);
    if (!ok(o.requester, 256)) throw new CaError('bad-request', 'requester: 1 to 256 printable characters');
    if (o.requestId !== undefined && !ok(o.requestId, 256))
      throw new CaError('bad-request', 'requestId: 1 to 256 printable characters');
    if (o.validityDays !== undefined && !Number.isSafeInteger(o.validityDays))
      throw new CaError('bad-request', 'validityDays: a whole number of days');
  }

  /** Runs a request while the Authority is open, tracked so that `close()` can wait for it. */
  private run<T>(f: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new CaError('closed', 'the Authority is closed'));
    const p = f();
    this.inflight.add(p);
    const done = () => this.inflight.delete(p);
    p.then(done, done);
    return p;
  }

  private every(ms: number, f: () => Promise<void>): void {
    if (ms <= 0) return;
    const tick = () => {
      if (this.closed) return;
      const t = setTimeout(() => {
        this.timers.delete(t);
        f()
          .catch((e) => this.log.error({ err: String(e) }, 'background task failed'))
          .finally(tick);
      }, ms);
      t.unref?.();
      this.timers.add(t);
    };
    tick();
  }

  private context() {
    return {
      store: this.store,
      keys: this.keys,
      config: this.config,
      now: this.now,
      logger: this.log,
      hierarchy: this.issuerSet.hierarchy,
      signer: (id: string) => this.issuerSet.signer(id),
    };
  }

  private info(id: string): IssuerInfo {
    const h = this.issuerSet.hierarchy;
    return h.info(h.get(id)!);
  }

  private serving(issuerId: string): void {
    const i = this.issuerSet.hierarchy.get(issuerId);
    if (!i || i.status === 'retired') throw new CaError('not-found', `no serving issuer ${issuerId}`);
  }

  private revocationUrls(p: CaProfile, issuerId: string): { crl: string[]; ocsp: string[] } {
    const fill = (l: readonly string[]) => l.map((u) => u.replaceAll('{issuer}', issuerId));
    return {
      crl: fill(p.crlDistributionPoints.length ? p.crlDistributionPoints : this.config.urls.crl),
      ocsp: fill(p.ocsp.length ? p.ocsp : this.config.urls.ocsp),
    };
  }

  private serial(s: SerialInput): string {
    const b = typeof s === 'string' ? serialFromInput(s.trim()) : serialFromInput(s);
    if (!b) throw new CaError('not-found', `"${String(s).slice(0, 80)}" is not a serial number`);
    return serialKey(b);
  }

  /** An issued certificate by serial (`not-found` for any other state). */
  private async issued(serial: SerialInput, issuerId?: string): Promise<CertificateRecord> {
    const rec = await this.get(serial, issuerId);
    if (rec?.state !== 'issued')
      throw new CaError('not-found', `no issued certificate ${this.serial(serial)}`);
    return rec;
  }

  /** A valid (issued, not revoked, not expired) certificate and its profile, for renew and rekey. */
  private async current(serial: SerialInput, o: RequesterOptions, action: 'renew' | 'rekey') {
    const rec = await this.issued(serial, o.issuerId);
    if (rec.revocation || rec.notAfter <= this.now())
      throw new CaError(
        'certificate-not-valid',
        `certificate ${rec.serialHex} is ${rec.revocation ? 'revoked' : 'expired'}; it cannot be ${action}ed`,
        { issuerId: rec.issuerId, serialHex: rec.serialHex },
      );
    const profile = this.config.profiles[rec.profile];
    if (!profile)
      throw new CaError('unknown-profile', `profile ${rec.profile} of ${rec.serialHex} no longer exists`);
    return { rec, cert: parseCertificate(rec.der!), profile };
  }

  /** A request with this request id was seen before: its certificate, or its pending state. */
  private async earlierRequest(input: IssuanceInput): Promise<IssueResult | undefined> {
    if (input.requestId === undefined) return undefined;
    if (await this.store.findByRequestId(input.requestId)) return this.pipeline.replay(input);
    return this.approvals.earlier(input.requestId);
  }

  private event(
    actor: string,
    action: string,
    result: string,
    detail: Record<string, unknown>,
    cert?: { issuerId: string; serialHex?: string; fingerprint?: string },
  ): AuditEvent {
    return {
      time: this.now(),
      actor,
      action,
      result,
      issuerId: cert?.issuerId,
      serialHex: cert?.serialHex,
      fingerprint: cert?.fingerprint,
      detail,
    };
  }
}
