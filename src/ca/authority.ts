import { randomBytes } from 'node:crypto';
import type { Signer } from '../crypto/signer.js';
import { isCrlReason } from '../issue/crl-extensions.js';
import { Issuer } from '../issue/issuer.js';
import { serialFromInput } from '../issue/serial.js';
import { encodePem } from '../pem/pem.js';
import type { PublishedCrl } from '../revocation/crl-publisher.js';
import type { OcspResponder } from '../revocation/responder.js';
import { serialKey } from '../revocation/status-source.js';
import { type Certificate, parseCertificate } from '../x509/certificate.js';
import type { CertificationRequest } from '../x509/csr.js';
import type { CRLReason } from '../x509/extensions/types.js';
import { type CaConfig, parseConfig } from './config.js';
import { CaError } from './errors.js';
import { Hierarchy, type IssuerInfo, type LoadedIssuer } from './hierarchy.js';
import {
  type ImportIssuerOptions,
  type InitHierarchyOptions,
  importIssuer,
  initHierarchy,
  type RotateOptions,
  rotateIssuer,
} from './init.js';
import type { KeyStore } from './keys.js';
import { type CaLogger, silentLogger } from './logger.js';
import {
  type IssuanceInput,
  IssuancePipeline,
  type IssuedResult,
  type IssueResult,
  verifyRequest,
} from './pipeline.js';
import { POLICY_VALIDATORS, sanEntry, type Validator } from './policy.js';
import type { IssuanceProfile } from './profiles.js';
import { Publication } from './publication.js';
import { recordCertificate } from './records.js';
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
   * hierarchy refreshes run on timers. `off`: nothing runs unless called (the CLI; tests).
   */
  background?: 'on' | 'off';
  /** Policy validators (default POLICY_VALIDATORS); a deployment may append its own. */
  validators?: readonly Validator[];
  /** Audit actor for what the Authority does by itself (CRLs, recovery). Default `system`. */
  systemActor?: string;
}

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

export interface RequesterOptions {
  requester: string;
  /** The issuer, when the serial alone is ambiguous (serials are random: normally not needed). */
  issuerId?: string;
}

export interface RevokeOptions extends RequesterOptions {
  /** RFC 5280 §5.3.2: when the key is known or suspected to have been compromised (epoch ms). */
  invalidityDate?: number;
}

export interface RenewOptions extends RequesterOptions {
  requestId?: string;
  validityDays?: number;
}

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

export class Authority {
  readonly config: CaConfig;
  readonly store: Store;
  readonly keys: KeyStore;
  private hierarchy: Hierarchy;
  private readonly signers = new Map<string, Signer>();
  private readonly issuersForBuild = new Map<string, Issuer>();
  private readonly pipeline: IssuancePipeline;
  private readonly publication: Publication;
  private readonly now: () => number;
  private readonly log: CaLogger;
  private readonly actor: string;
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private closed = false;

  private constructor(o: AuthorityOptions, hierarchy: Hierarchy) {
    this.config = o.config ?? parseConfig({});
    this.store = o.store;
    this.keys = o.keys;
    this.hierarchy = hierarchy;
    this.now = o.clock ?? Date.now;
    this.log = o.logger ?? silentLogger;
    this.actor = o.systemActor ?? 'system';
    this.publication = new Publication(this.store, this.config, this.now, this.log, this.actor);
    this.pipeline = new IssuancePipeline({
      store: this.store,
      now: this.now,
      logger: this.log,
      validators: o.validators ?? POLICY_VALIDATORS,
      issuerFor: (lineage) => this.issuerFor(lineage),
      issuerForId: (id) => this.hierarchy.get(id),
      revocationUrls: (p, id) => this.revocationUrls(p, id),
    });
  }

  /**
   * Opens the Authority on a store that holds a hierarchy (`no-hierarchy` otherwise): loads the
   * issuers and their keys, runs the recovery pass (reservations a crash left behind are voided,
   * audited `recover`), and with `background: 'on'` publishes CRLs and starts the timers.
   */
  static async open(o: AuthorityOptions): Promise<Authority> {
    const config = o.config ?? parseConfig({});
    const h = await Hierarchy.load(o.store, config.hierarchy.defaultIssuer);
    if (h.isEmpty)
      throw new CaError('no-hierarchy', 'the store holds no CA yet (Authority.init creates one)');
    const ca = new Authority({ ...o, config }, h);
    await ca.loadSigners();
    await ca.recordCaCertificates();
    await ca.recover();
    await ca.publication.setIssuers(ca.servingWithSigners());
    if (o.background !== 'off') {
      await ca.publication.start();
      ca.every(config.recovery.sweepIntervalMs, async () => {
        await ca.recover();
        await ca.retireExpired();
      });
      ca.every(HIERARCHY_REFRESH_MS, () => ca.refresh());
    }
    ca.log.info(
      { issuers: h.all().map((i) => `${i.id}:${i.status}`), store: o.store.kind },
      'authority open',
    );
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
  async issue(csr: CertificationRequest | Uint8Array | string, o: IssueOptions): Promise<IssueResult> {
    this.checkOpen();
    const profile = this.config.profiles[o.profile];
    const base = { action: 'issue' as const, requester: o.requester, profile: profile! };
    if (!profile)
      throw await this.pipeline.refused(
        { ...base, detail: { profile: String(o.profile).slice(0, 64) } },
        new CaError('unknown-profile', `no profile "${String(o.profile).slice(0, 64)}"`),
      );
    let req: CertificationRequest;
    try {
      req = verifyRequest(csr);
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
    if (o.requestId !== undefined) {
      const earlier = await this.earlierRequest(input);
      if (earlier) return earlier;
    }
    const checked = await this.pipeline.check(input);
    if (profile.approval === 'manual') return this.hold(req, input);
    return this.pipeline.issue(input, checked);
  }

  /**
   * Issues a new certificate for the same key, subject and SAN as an issued one (RFC 7030 §4.2.2
   * re-enrollment without a new key). The old certificate stays valid (revoke it as `superseded`
   * if wanted). `certificate-not-valid` when it is revoked or expired; policy is checked again.
   */
  async renew(serial: SerialInput, o: RenewOptions): Promise<IssuedResult> {
    this.checkOpen();
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
    if (o.requestId !== undefined) {
      const earlier = await this.earlierRequest(input);
      if (earlier?.status === 'issued') return earlier;
    }
    return this.pipeline.issue(input, await this.pipeline.check(input));
  }

  /**
   * Issues a certificate for a new key (the CSR's) with the subject and SAN of an issued one
   * (RFC 7030 §4.2.2: they must be identical). `key-reuse` when the CSR has the old key.
   */
  async rekey(
    serial: SerialInput,
    csr: CertificationRequest | Uint8Array | string,
    o: RenewOptions,
  ): Promise<IssuedResult> {
    this.checkOpen();
    const { rec, cert, profile } = await this.current(serial, o, 'rekey');
    const base = {
      action: 'rekey' as const,
      requester: o.requester,
      profile,
      detail: { rekeys: `${rec.issuerId}/${rec.serialHex}` },
    };
    let req: CertificationRequest;
    try {
      req = verifyRequest(csr);
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
    if (o.requestId !== undefined) {
      const earlier = await this.earlierRequest(input);
      if (earlier?.status === 'issued') return earlier;
    }
    return this.pipeline.issue(input, await this.pipeline.check(input));
  }

  // ---- manual approval --------------------------------------------------------------------------

  /** Requests waiting for approval (or, with `state`, those approved or rejected), oldest first. */
  listPending(q: { state?: PendingState; limit?: number; afterId?: string } = {}): Promise<PendingRequest[]> {
    return this.store.listPending({
      state: q.state,
      limit: Math.min(q.limit ?? 100, 500),
      afterId: q.afterId,
    });
  }

  getPending(id: string): Promise<PendingRequest | undefined> {
    return this.store.getPending(id);
  }

  /**
   * Approves a pending request and issues its certificate (policy checked again, now). Of two
   * concurrent approvals one issues; the other gets `not-pending`. The certificate carries the
   * pending id as its requestId, so the device's retry with that id receives it.
   */
  async approve(id: string, o: { requester: string }): Promise<IssuedResult> {
    this.checkOpen();
    const p = await this.store.getPending(id);
    if (!p) throw new CaError('not-found', `no pending request ${id}`);
    const profile = this.config.profiles[p.profile];
    if (!profile) throw new CaError('unknown-profile', `profile ${p.profile} no longer exists`);
    const req = verifyRequest(p.csr);
    const input: IssuanceInput = {
      action: 'approve',
      profile,
      requester: o.requester,
      requestId: p.id,
      subject: req.subject,
      spki: req.subjectPublicKeyInfo,
      sans: req.subjectAltName ?? [],
      validityDays: p.validityDays,
      detail: { pendingId: p.id, requestedBy: p.requester },
    };
    const checked = await this.pipeline.check(input);
    const d = await this.store.decidePending(
      id,
      { state: 'approved', by: o.requester, at: this.now() },
      this.event(o.requester, 'approve', 'ok', { pendingId: id, profile: p.profile }),
    );
    if (d !== 'decided') throw new CaError('not-pending', `request ${id} was already decided`);
    return this.pipeline.issue(input, checked);
  }

  /** Rejects a pending request (`not-pending` when it was decided already). */
  async reject(id: string, o: { requester: string; reason?: string }): Promise<void> {
    this.checkOpen();
    const p = await this.store.getPending(id);
    if (!p) throw new CaError('not-found', `no pending request ${id}`);
    const reason = o.reason?.slice(0, 300);
    const d = await this.store.decidePending(
      id,
      { state: 'rejected', by: o.requester, at: this.now(), reason },
      this.event(o.requester, 'reject', 'ok', { pendingId: id, profile: p.profile, reason }),
    );
    if (d !== 'decided') throw new CaError('not-pending', `request ${id} was already decided`);
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
  async revoke(serial: SerialInput, reason: CRLReason, o: RevokeOptions): Promise<RevocationResult> {
    this.checkOpen();
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
  async releaseHold(serial: SerialInput, o: RequesterOptions): Promise<void> {
    this.checkOpen();
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
    const i = this.hierarchy.get(issuerId);
    if (!i || i.status === 'retired') throw new CaError('not-found', `no serving issuer ${issuerId}`);
    return this.publication.publish(issuerId);
  }

  /** The issuer's latest CRL across all instances (published now if there is none yet). */
  async crl(issuerId: string): Promise<CrlRecord> {
    const i = this.hierarchy.get(issuerId);
    if (!i || i.status === 'retired') throw new CaError('not-found', `no serving issuer ${issuerId}`);
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
   * issuers are added to it.
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
   * issuing intermediate's (no argument), `/ca/<issuer>/chain.pem` an issuer's.
   */
  chain(issuerId?: string): Certificate[] {
    const i = issuerId === undefined ? this.defaultIssuer() : this.hierarchy.get(issuerId);
    if (!i) throw new CaError('not-found', `no issuer ${issuerId}`);
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
    const r = this.hierarchy.root;
    if (!r) throw new CaError('no-hierarchy', 'no root');
    return r.certificate;
  }

  /** Every issuer as data (admin API, dashboard). */
  issuers(): IssuerInfo[] {
    return this.hierarchy.all().map((i) => this.hierarchy.info(i));
  }

  /** Every profile as data (admin API, dashboard). */
  profiles(): IssuanceProfile[] {
    return Object.values(this.config.profiles);
  }

  profile(name: string): IssuanceProfile | undefined {
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
    return this.hierarchy.info(this.hierarchy.get(id)!);
  }

  /**
   * Imports an existing intermediate CA: its certificate (issued by a stored issuer, normally the
   * root) and its key — a key file (re-encrypted into DATA/keys) or an RFC 7512 PKCS#11 URI.
   */
  async importIssuer(o: ImportIssuerOptions): Promise<IssuerInfo> {
    this.checkOpen();
    const id = await importIssuer(this.context(), o);
    await this.refresh();
    return this.hierarchy.info(this.hierarchy.get(id)!);
  }

  /** Sets `retiring` issuers whose certificates have all expired to `retired`. */
  async retireExpired(): Promise<string[]> {
    const now = this.now();
    const retired: string[] = [];
    for (const i of this.hierarchy.all()) {
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
    const h = await Hierarchy.load(this.store, this.config.hierarchy.defaultIssuer);
    const before = this.hierarchy
      .all()
      .map((i) => `${i.id}:${i.status}`)
      .join(',');
    const after = h
      .all()
      .map((i) => `${i.id}:${i.status}`)
      .join(',');
    this.hierarchy = h;
    if (before === after) return;
    await this.loadSigners();
    await this.publication.setIssuers(this.servingWithSigners());
    this.log.info({ issuers: after }, 'hierarchy changed');
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

  /** Records an admin action in the audit log (e.g. the service's login or config changes). */
  async audit(e: Omit<AuditEvent, 'time'> & { time?: number }): Promise<void> {
    await this.store.appendAudit([{ ...e, time: e.time ?? this.now() }]);
  }

  /** Stops background work. The store and key store stay open: they belong to the caller. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.publication.stop();
    this.log.info({}, 'authority closed');
  }

  // ---- internals --------------------------------------------------------------------------------

  private checkOpen(): void {
    if (this.closed) throw new CaError('closed', 'the Authority is closed');
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
      hierarchy: this.hierarchy,
      signer: (id: string) => {
        const s = this.signers.get(id);
        if (!s) throw new CaError('key-unavailable', `the key of issuer ${id} is not loaded`);
        return s;
      },
    };
  }

  private defaultIssuer(): LoadedIssuer | undefined {
    return this.hierarchy.active(this.config.hierarchy.defaultIssuer);
  }

  private async issuerFor(lineage: string): Promise<{ issuer: LoadedIssuer; signer: Signer; ca: Issuer }> {
    const issuer = this.hierarchy.active(lineage);
    if (!issuer)
      throw new CaError('issuer-unavailable', `no active issuer for ${lineage}`, { issuerId: lineage });
    const signer = this.signers.get(issuer.id);
    if (!signer) throw new CaError('key-unavailable', `the key of issuer ${issuer.id} is not available`);
    let ca = this.issuersForBuild.get(issuer.id);
    if (!ca) {
      ca = Issuer.fromCertificate(issuer.certificate, signer);
      this.issuersForBuild.set(issuer.id, ca);
    }
    return { issuer, signer, ca };
  }

  private revocationUrls(p: IssuanceProfile, issuerId: string): { crl: string[]; ocsp: string[] } {
    const fill = (l: readonly string[]) => l.map((u) => u.replaceAll('{issuer}', issuerId));
    return {
      crl: fill(p.crlDistributionPoints.length ? p.crlDistributionPoints : this.config.urls.crl),
      ocsp: fill(p.ocsp.length ? p.ocsp : this.config.urls.ocsp),
    };
  }

  /** Loads the keys of every serving issuer; an unavailable key is logged (that issuer cannot sign). */
  private async loadSigners(): Promise<void> {
    await Promise.all(
      this.hierarchy.serving().map(async (i) => {
        if (this.signers.has(i.id)) return;
        try {
          this.signers.set(
            i.id,
            await this.keys.signer(i.record.key, i.certificate.subjectPublicKeyInfo.der),
          );
        } catch (e) {
          if (
            e instanceof CaError &&
            (e.code === 'bad-passphrase' ||
              e.code === 'key-file-permissions' ||
              e.code === 'passphrase-required')
          )
            throw e;
          this.log.warn(
            { issuerId: i.id, code: (e as CaError).code, err: (e as Error).message },
            'issuer key unavailable',
          );
        }
      }),
    );
  }

  private servingWithSigners() {
    return this.hierarchy
      .serving()
      .filter((i) => this.signers.has(i.id))
      .map((i) => ({ issuer: i, signer: this.signers.get(i.id)! }));
  }

  /**
   * Every intermediate's certificate is recorded under its parent (so the root's CRL and a lookup
   * by serial find it). `initHierarchy` and this run at every open, so a crash between them is healed.
   */
  private async recordCaCertificates(): Promise<void> {
    for (const i of this.hierarchy.all()) {
      const parent = i.record.parentId;
      if (!parent) continue;
      const c = i.certificate;
      if (await this.store.getCertificate(parent, c.serialHex)) continue;
      await recordCertificate(this.store, parent, c, {
        profile: 'intermediate',
        requester: this.actor,
        requestId: `ca-certificate:${i.id}`,
        now: this.now(),
        action: 'record-ca',
      });
    }
  }

  private serial(s: SerialInput): string {
    const b =
      typeof s === 'bigint' || s instanceof Uint8Array ? serialFromInput(s) : serialFromInput(s.trim());
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
    const now = this.now();
    if (rec.revocation || rec.notAfter <= now)
      throw new CaError(
        'certificate-not-valid',
        `certificate ${rec.serialHex} is ${rec.revocation ? 'revoked' : 'expired'}; it cannot be ${action}ed`,
        {
          issuerId: rec.issuerId,
          serialHex: rec.serialHex,
        },
      );
    const profile = this.config.profiles[rec.profile];
    if (!profile)
      throw new CaError('unknown-profile', `profile ${rec.profile} of ${rec.serialHex} no longer exists`);
    return { rec, cert: parseCertificate(rec.der!), profile };
  }

  /** A request with this requestId was seen before: its certificate, or its pending state. */
  private async earlierRequest(input: IssuanceInput): Promise<IssueResult | undefined> {
    const rec = await this.store.findByRequestId(input.requestId!);
    if (rec) return this.pipeline.replay(input);
    const p = await this.store.getPending(input.requestId!);
    if (!p) return undefined;
    if (p.state === 'pending') return { status: 'pending', pendingId: p.id, profile: p.profile };
    if (p.state === 'rejected')
      throw new CaError('forbidden', `request ${p.id} was rejected${p.reason ? `: ${p.reason}` : ''}`);
    return undefined; // approved: the approval's issuance is in flight or failed
  }

  /** Stores a checked request for manual approval. */
  private async hold(req: CertificationRequest, input: IssuanceInput): Promise<IssueResult> {
    const id = input.requestId ?? randomBytes(16).toString('hex');
    const r = await this.store.addPending(
      {
        id,
        state: 'pending',
        profile: input.profile.name,
        requester: input.requester,
        csr: req.der,
        subject: input.subject.toString(),
        sans: input.sans.map(sanEntry),
        validityDays: input.validityDays,
        createdAt: this.now(),
      },
      this.event(input.requester, 'issue', 'pending', {
        pendingId: id,
        profile: input.profile.name,
        subject: input.subject.toString().slice(0, 256),
      }),
    );
    if (r === 'exists') {
      const earlier = await this.earlierRequest({ ...input, requestId: id });
      if (earlier) return earlier;
    }
    this.log.info(
      { pendingId: id, profile: input.profile.name, requester: input.requester },
      'request held for approval',
    );
    return { status: 'pending', pendingId: id, profile: input.profile.name };
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
