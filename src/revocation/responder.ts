import { BoundedMap, isCacheSize } from '../cache/bounded-map.js';
import { defaultProvider } from '../crypto/default-provider.js';
import type { CryptoProvider } from '../crypto/provider.js';
import { type Signer, signWith } from '../crypto/signer.js';
import { bytesEqual, toHex } from '../der/bytes.js';
import { OID } from '../der/oid-names.js';
import { encodeSignatureAlgorithm, parseSignatureAlgorithm } from '../x509/algorithm.js';
import type { Certificate } from '../x509/certificate.js';
import { makeExtension } from '../x509/encode.js';
import type { Extension } from '../x509/extensions/types.js';
import { DEFAULT_REVOCATION_BACKDATE_MS, isValidBackdate } from './backdate.js';
import { RevocationError } from './errors.js';
import { issuerKey } from './ocsp/cert-id.js';
import { nonceExtension } from './ocsp/nonce.js';
import {
  DEFAULT_REQUEST_LIMITS,
  type OcspRequest,
  type OcspRequestLimits,
  parseOcspRequest,
} from './ocsp/request.js';
import {
  type CertStatus,
  encodeBasicOcspResponse,
  encodeOcspResponse,
  encodeResponderId,
  encodeResponseData,
  errorResponse,
  type OcspResponseStatus,
  type SingleResponseFields,
} from './ocsp/response.js';
import { type SerialStatus, type StatusSource, serialKey } from './status-source.js';

/**
 * The pure OCSP responder (RFC 6960, with the RFC 5019 lightweight profile's caching in mind):
 * request bytes in, signed response bytes out. No I/O of its own: statuses come from a
 * `StatusSource`, signatures from a `Signer` (the CA key or a delegated responder's key).
 *
 * Answers:
 * - `malformedRequest` for anything that does not parse, exceeds the size or CertID-count caps,
 *   or carries a bad nonce — decided before any status lookup or signature;
 * - `unauthorized` when a CertID names an issuer we do not serve (or an unsupported hash), or
 *   when one request mixes issuers (one response has one signer);
 * - `internalError` when the status source or the signer fails;
 * - otherwise `successful`: `good` only for serials the issuer actually issued, `revoked` with
 *   time and reason, and `unknown` for serials it never issued — or, with `notIssued: 'revoked'`,
 *   RFC 6960 §2.2's extended revoked (revocationTime 1970-01-01, reason certificateHold, plus the
 *   extended-revoke response extension, §4.4.8).
 *
 * producedAt and thisUpdate are the moment of signing less `backdateMs` (default 5 minutes, as
 * certificates' notBefore: see backdate.ts), so relying parties with slow clocks accept a fresh
 * response; nextUpdate is the moment of signing plus `validitySeconds`.
 *
 * Requests without a nonce for a single CertID are answered from a cache of pre-signed responses,
 * re-signed once half their validity has passed (so none is served close to its nextUpdate) and
 * dropped when the status source reports a change. Requests with a nonce are signed live and
 * echo the nonce (RFC 9654).
 *
 *   const responder = await OcspResponder.create({ issuers: [{ id: 'int', certificate: int, signer }], source });
 *   const { der } = await responder.respond(requestBytes);
 */

export interface ResponderIssuer {
  /** The issuer's id in the StatusSource. */
  id: string;
  /** The CA certificate whose CertIDs this entry answers for. */
  certificate: Certificate;
  /** Signs responses: the CA's key, or the delegated responder's key when `responderCertificate` is set. */
  signer: Signer;
  /**
   * A delegated responder certificate issued directly by `certificate` with id-kp-OCSPSigning
   * (RFC 6960 §4.2.2.2); it is sent in `certs` so that clients can verify it.
   */
  responderCertificate?: Certificate;
}

/** Options of `OcspResponder.create`. */
export interface ResponderOptions {
  issuers: readonly ResponderIssuer[];
  source: StatusSource;
  /** Answer for serials the issuer never issued (RFC 6960 §2.2). Default `unknown`. */
  notIssued?: 'unknown' | 'revoked';
  /** responderID form; default `byKey` (smaller, and what RFC 5019 §2.2.3 asks for). */
  responderId?: 'byKey' | 'byName';
  /** nextUpdate − thisUpdate, in seconds. Default 3600: a revoked device is refused by caching clients within the hour. */
  validitySeconds?: number;
  limits?: Readonly<OcspRequestLimits>;
  /**
   * Most cached responses kept (least recently used dropped first); 0: none. Default 100 000 (~50 MB
   * of P-256 responses).
   */
  cacheSize?: number;
  /**
   * How far producedAt and thisUpdate are set back from the moment of signing, in ms. Default
   * `DEFAULT_REVOCATION_BACKDATE_MS` (5 minutes; see backdate.ts). 0 writes the signing time.
   */
  backdateMs?: number;
  now?: () => number;
  provider?: CryptoProvider;
}

/** One answer of `OcspResponder.respond`: the response DER and what HTTP needs to serve it. */
export interface OcspResult {
  der: Uint8Array;
  responseStatus: OcspResponseStatus;
  /** A response that HTTP caches may keep (successful, no nonce). */
  cacheable: boolean;
  /** From the cache rather than signed for this request. */
  cached: boolean;
  producedAt?: number;
  thisUpdate?: number;
  nextUpdate?: number;
  /** A strong validator for HTTP (RFC 5019 §6.2), quoted. */
  etag?: string;
}

interface IssuerEntry {
  issuer: ResponderIssuer;
  responderIdDer: Uint8Array;
  signatureAlgorithm: Uint8Array;
  certs: Uint8Array[];
}

interface CacheEntry {
  result: OcspResult;
  /** When the response was signed; a clock that went back before it bypasses the cache. */
  signedAt: number;
  refreshAt: number;
}

/** RFC 6960 §2.2: extended revoked — "January 1, 1970" with reason certificateHold. */
const EXTENDED_REVOKED: CertStatus = {
  status: 'revoked',
  revocationTime: 0,
  revocationReason: 'certificateHold',
};
/** RFC 6960 §4.4.8 id-pkix-ocsp-extended-revoke, extnValue NULL. */
const EXTENDED_REVOKE_OID = '1.3.6.1.5.5.7.48.1.9';

const STATIC_ERRORS: Record<Exclude<OcspResponseStatus, 'successful'>, Uint8Array> = {
  malformedRequest: errorResponse('malformedRequest'),
  internalError: errorResponse('internalError'),
  tryLater: errorResponse('tryLater'),
  sigRequired: errorResponse('sigRequired'),
  unauthorized: errorResponse('unauthorized'),
};

/**
 * The pure OCSP responder described above: `await OcspResponder.create(options)`, then `respond`.
 */
export class OcspResponder {
  private readonly byKey = new Map<string, IssuerEntry>();
  /** Undefined with `cacheSize: 0` (every answer signed anew). */
  private readonly cache: BoundedMap<string, CacheEntry> | undefined;
  private readonly notIssued: 'unknown' | 'revoked';
  private readonly validityMs: number;
  private readonly backdateMs: number;
  private readonly limits: Readonly<OcspRequestLimits>;
  private readonly cacheSize: number;
  private readonly now: () => number;
  private readonly unsubscribe?: () => void;
  private readonly extendedRevokeExt: Extension;
  private gen = 0;

  private constructor(
    private readonly opts: ResponderOptions,
    private readonly provider: CryptoProvider,
  ) {
    this.notIssued = opts.notIssued ?? 'unknown';
    this.validityMs = (opts.validitySeconds ?? 3600) * 1000;
    this.backdateMs = opts.backdateMs ?? DEFAULT_REVOCATION_BACKDATE_MS;
    this.limits = opts.limits ?? DEFAULT_REQUEST_LIMITS;
    this.cacheSize = opts.cacheSize ?? 100_000;
    if (!isCacheSize(this.cacheSize))
      throw new RevocationError(
        'bad-configuration',
        `cacheSize must be a non-negative integer, not ${this.cacheSize}`,
      );
    this.cache = this.cacheSize > 0 ? new BoundedMap(this.cacheSize) : undefined;
    this.now = opts.now ?? Date.now;
    this.extendedRevokeExt = makeExtension(EXTENDED_REVOKE_OID, false, Uint8Array.of(0x05, 0x00));
    this.unsubscribe = opts.source.onChange?.((issuerId, serialHex) => this.invalidate(issuerId, serialHex));
  }

  /** Validates the configuration (responder certificates, signer keys) and indexes the issuers. */
  static async create(opts: ResponderOptions): Promise<OcspResponder> {
    if (opts.backdateMs !== undefined && !isValidBackdate(opts.backdateMs))
      throw new RevocationError('bad-configuration', 'backdateMs must be a non-negative number of ms');
    const provider = opts.provider ?? defaultProvider();
    const r = new OcspResponder(opts, provider);
    for (const issuer of opts.issuers) await r.addIssuer(issuer);
    return r;
  }

  /**
   * Starts answering for another issuer (a CA service adds a rotated intermediate without
   * replacing the responder its HTTP routes hold). An issuer with the same id is replaced.
   */
  async addIssuer(issuer: ResponderIssuer): Promise<void> {
    this.removeIssuer(issuer.id);
    const ca = issuer.certificate;
    const rc = issuer.responderCertificate;
    const signerCert = rc ?? ca;
    if (!bytesEqual(signerCert.subjectPublicKeyInfo.der, issuer.signer.publicKey))
      throw new RevocationError(
        'bad-configuration',
        `issuer ${issuer.id}: the signer's key is not the ${rc ? 'responder' : 'CA'} certificate's key`,
      );
    if (rc) {
      // RFC 6960 §4.2.2.2: a delegated responder is issued directly by the CA and carries id-kp-OCSPSigning.
      if (!rc.issuer.equals(ca.subject))
        throw new RevocationError(
          'bad-configuration',
          `issuer ${issuer.id}: responder certificate not issued by the CA`,
        );
      if (!rc.extKeyUsage?.includes(OID.OCSPSigning))
        throw new RevocationError(
          'bad-configuration',
          `issuer ${issuer.id}: responder certificate lacks id-kp-OCSPSigning`,
        );
      const ok = await this.provider.verifyAsync(
        parseSignatureAlgorithm(rc.signatureAlgorithm),
        ca.subjectPublicKeyInfo.der,
        rc.tbs,
        rc.signatureValue,
      );
      if (!ok)
        throw new RevocationError(
          'bad-configuration',
          `issuer ${issuer.id}: responder certificate signature does not verify under the CA key`,
        );
    }
    const keyHash = await this.provider.digestAsync('SHA-1', signerCert.subjectPublicKeyInfo.publicKey);
    const responderIdDer =
      this.opts.responderId === 'byName'
        ? encodeResponderId({ byName: signerCert.subject })
        : encodeResponderId({ byKey: keyHash });
    const entry: IssuerEntry = {
      issuer,
      responderIdDer,
      signatureAlgorithm: encodeSignatureAlgorithm(issuer.signer.algorithm),
      certs: rc ? [rc.der] : [],
    };
    for (const hash of ['SHA-1', 'SHA-256'] as const) {
      const nameHash = await this.provider.digestAsync(hash, ca.subject.der);
      const caKeyHash = await this.provider.digestAsync(hash, ca.subjectPublicKeyInfo.publicKey);
      this.byKey.set(issuerKey(hash, nameHash, caKeyHash), entry);
    }
  }

  /** Stops answering for an issuer (a retired CA): its CertIDs then get `unauthorized`. */
  removeIssuer(id: string): void {
    for (const [k, e] of this.byKey) if (e.issuer.id === id) this.byKey.delete(k);
    this.invalidate(id);
  }

  /** Ids of the issuers answered for. */
  get issuerIds(): string[] {
    return [...new Set([...this.byKey.values()].map((e) => e.issuer.id))];
  }

  /** Stops listening to the status source. */
  close(): void {
    this.unsubscribe?.();
    this.cache?.clear();
  }

  /** Bumped on every invalidation, so caches in front of the responder (HTTP) can drop entries too. */
  get generation(): number {
    return this.gen;
  }

  /** Drops cached answers for one serial (both CertID hash forms). */
  invalidate(issuerId: string, serialHex?: string): void {
    this.gen++;
    if (serialHex === undefined) {
      // A whole issuer (removeIssuer, rare): every answer goes, the cache is not searched.
      this.cache?.clear();
      return;
    }
    this.cache?.delete(`${issuerId}|SHA-1|${serialHex}`);
    this.cache?.delete(`${issuerId}|SHA-256|${serialHex}`);
  }

  /** Number of cached responses (for metrics and tests). */
  get cachedCount(): number {
    return this.cache?.size ?? 0;
  }

  /** Answers one DER-encoded OCSPRequest. Never throws for bad input. */
  async respond(requestDer: Uint8Array): Promise<OcspResult> {
    let req: OcspRequest;
    try {
      req = parseOcspRequest(requestDer, this.limits);
    } catch (e) {
      if (e instanceof RevocationError) return this.error('malformedRequest');
      throw e;
    }
    return this.respondParsed(req);
  }

  /** Answers a parsed request (the HTTP layer parses GET paths itself). */
  async respondParsed(req: OcspRequest): Promise<OcspResult> {
    // One signer per response: every CertID must name the same served issuer.
    let entry: IssuerEntry | undefined;
    for (const q of req.requestList) {
      const id = q.reqCert;
      if (!id.hash) return this.error('unauthorized');
      const e = this.byKey.get(issuerKey(id.hash, id.issuerNameHash, id.issuerKeyHash));
      if (!e || (entry && e !== entry)) return this.error('unauthorized');
      entry = e;
    }
    if (!entry) return this.error('malformedRequest');
    const now = this.now();
    const single = req.requestList.length === 1 && req.nonce === undefined;
    let cacheKey: string | undefined;
    if (single) {
      const id = req.requestList[0]!.reqCert;
      cacheKey = `${entry.issuer.id}|${id.hash}|${serialKey(id.serialNumber)}`;
      const hit = this.cache?.get(cacheKey);
      if (hit && now < hit.refreshAt && now >= hit.signedAt) return { ...hit.result, cached: true };
    }

    let statuses: (SerialStatus | undefined)[];
    try {
      statuses = [];
      for (const q of req.requestList) {
        const s = this.opts.source.lookup(entry.issuer.id, serialKey(q.reqCert.serialNumber));
        statuses.push(s instanceof Promise ? await s : s);
      }
    } catch {
      return this.error('internalError');
    }

    const signedAt = Math.floor(now / 1000) * 1000;
    const thisUpdate = signedAt - this.backdateMs;
    const nextUpdate = signedAt + this.validityMs;
    let extendedRevoked = false;
    const responses: SingleResponseFields[] = req.requestList.map((q, i) => {
      const s = statuses[i];
      let certStatus: CertStatus;
      if (!s) {
        certStatus = this.notIssued === 'revoked' ? EXTENDED_REVOKED : { status: 'unknown' };
        if (this.notIssued === 'revoked') extendedRevoked = true;
      } else if (s.status === 'good') certStatus = { status: 'good' };
      else certStatus = { status: 'revoked', revocationTime: s.revocationTime, revocationReason: s.reason };
      return { certId: q.reqCert, certStatus, thisUpdate, nextUpdate };
    });
    const responseExtensions: Extension[] = [];
    if (req.nonce) responseExtensions.push(nonceExtension(req.nonce));
    if (extendedRevoked) responseExtensions.push(this.extendedRevokeExt);

    const tbs = encodeResponseData({
      responderId: entry.responderIdDer,
      producedAt: thisUpdate,
      responses,
      responseExtensions,
    });
    let signature: Uint8Array;
    try {
      const s = signWith(entry.issuer.signer, tbs);
      signature = s instanceof Promise ? await s : s;
    } catch {
      return this.error('internalError');
    }
    const der = encodeOcspResponse(
      'successful',
      encodeBasicOcspResponse(tbs, entry.signatureAlgorithm, signature, entry.certs),
    );
    const result: OcspResult = {
      der,
      responseStatus: 'successful',
      cacheable: req.nonce === undefined,
      cached: false,
      producedAt: thisUpdate,
      thisUpdate,
      nextUpdate,
      etag: this.etag(der),
    };
    if (cacheKey) {
      this.cache?.set(cacheKey, { result, signedAt, refreshAt: signedAt + this.validityMs / 2 });
    }
    return result;
  }

  private etag(der: Uint8Array): string | undefined {
    if (!this.provider.supportsSync) return undefined;
    return `"${toHex(this.provider.digest('SHA-256', der).subarray(0, 16))}"`;
  }

  private error(status: Exclude<OcspResponseStatus, 'successful'>): OcspResult {
    return { der: STATIC_ERRORS[status], responseStatus: status, cacheable: false, cached: false };
  }
}
