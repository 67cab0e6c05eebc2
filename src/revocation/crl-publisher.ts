import { defaultProvider } from '../crypto/default-provider.js';
import type { CryptoProvider } from '../crypto/provider.js';
import { type Signer, signWith } from '../crypto/signer.js';
import { toHex } from '../der/bytes.js';
import { OID } from '../der/oid-names.js';
import { DerWriter, encodeDer } from '../der/writer.js';
import { encodeSignatureAlgorithm } from '../x509/algorithm.js';
import type { Certificate } from '../x509/certificate.js';
import { encodeExtension, encodeSigned } from '../x509/encode.js';
import type { CRLReason, Extension } from '../x509/extensions/types.js';
import { DEFAULT_REVOCATION_BACKDATE_MS, isValidBackdate } from './backdate.js';
import { RevocationError } from './errors.js';
import type { RevokedSerial, StatusSource } from './status-source.js';

/**
 * CRL publishing (RFC 5280 §5): builds and signs the full CRL of each configured issuer from the
 * `StatusSource`, on demand (`publish`) and on a schedule (`start`: every `refreshSeconds`, by
 * default half the validity, so a CRL is always replaced well before its nextUpdate — Mosquitto
 * and OpenSSL refuse every client once it passes, RECIPES §4). With `republishOnChange` a status
 * change triggers a new CRL after `debounceMs`, so a revoked device is locked out within seconds.
 *
 * thisUpdate is the moment of signing less `backdateMs` (default 5 minutes, as certificates'
 * notBefore: see backdate.ts), so relying parties with slow clocks accept a fresh CRL;
 * nextUpdate is the moment of signing plus the issuer's validity.
 *
 * Each CRL is v2 with authorityKeyIdentifier (§5.2.1) and cRLNumber (§5.2.3). CRL numbers are
 * strictly increasing per issuer: max(previous + 1, seconds since the epoch), or from a caller's
 * `nextCrlNumber` (the CA service persists them); the time seed keeps numbers increasing across
 * restarts without storage. Entries carry reasonCode (omitted for `unspecified`, §5.3.1) and
 * invalidityDate when known.
 *
 *   const pub = await CrlPublisher.create({ issuers: [{ id: 'int', certificate: int, signer }], source });
 *   const { der } = await pub.publish('int');
 */

export interface CrlIssuer {
  id: string;
  /** The CA certificate: its subject is the CRL issuer, its key (SKI) the AKI. */
  certificate: Certificate;
  /** The CA's signer (its key must be the certificate's key). */
  signer: Signer;
  /** nextUpdate − thisUpdate in seconds; default 86 400 (a day). */
  validitySeconds?: number;
}

/** Options of `CrlPublisher.create`. */
export interface CrlPublisherOptions {
  issuers: readonly CrlIssuer[];
  source: StatusSource;
  /** Seconds between scheduled publications; default half the issuer's validity. */
  refreshSeconds?: number;
  /** Republish an issuer's CRL when the source reports a change (after `debounceMs`, default 1000). */
  republishOnChange?: boolean;
  debounceMs?: number;
  /** Supplies CRL numbers (must be strictly increasing); default: see the header. */
  nextCrlNumber?: (issuerId: string, previous: bigint | undefined) => bigint | Promise<bigint>;
  /** Called after every publication (e.g. to write a file and SIGHUP a broker). */
  onPublish?: (crl: PublishedCrl) => void | Promise<void>;
  /**
   * How far thisUpdate is set back from the moment of signing, in ms. Default
   * `DEFAULT_REVOCATION_BACKDATE_MS` (5 minutes; see backdate.ts). 0 writes the signing time.
   */
  backdateMs?: number;
  now?: () => number;
  provider?: CryptoProvider;
}

/** One published CRL: the issuer's id, the DER, its number and times. */
export interface PublishedCrl {
  issuerId: string;
  der: Uint8Array;
  crlNumber: bigint;
  /** When the CRL was signed (whole seconds); refreshes are scheduled from it. */
  publishedAt: number;
  /** publishedAt less the publisher's `backdateMs`. */
  thisUpdate: number;
  /** publishedAt plus the issuer's validity. */
  nextUpdate: number;
  entries: number;
  /** A strong HTTP validator, quoted. */
  etag?: string;
}

interface IssuerState {
  cfg: CrlIssuer;
  sigAlg: Uint8Array;
  aki: Extension;
  current?: PublishedCrl;
  publishing?: Promise<PublishedCrl>;
  timer?: ReturnType<typeof setTimeout>;
  debounce?: ReturnType<typeof setTimeout>;
}

/** reasonCode extensions are few; encode each once (a 1M-entry CRL would otherwise build 1M of them). */
const REASON_EXT = new Map<CRLReason, Extension>();
function reasonExtension(r: CRLReason): Extension {
  let e = REASON_EXT.get(r);
  if (!e) {
    e = encodeExtension(OID.reasonCode, false, r);
    REASON_EXT.set(r, e);
  }
  return e;
}

/**
 * The CRL publisher described above: `await CrlPublisher.create(options)`, then `publish` or `start`.
 */
export class CrlPublisher {
  private readonly states = new Map<string, IssuerState>();
  private readonly now: () => number;
  private unsubscribe?: () => void;
  private running = false;

  private constructor(
    private readonly opts: CrlPublisherOptions,
    private readonly provider: CryptoProvider,
  ) {
    this.now = opts.now ?? Date.now;
  }

  static async create(opts: CrlPublisherOptions): Promise<CrlPublisher> {
    if (opts.backdateMs !== undefined && !isValidBackdate(opts.backdateMs))
      throw new RevocationError('bad-configuration', `backdateMs must be a non-negative number of ms`);
    const p = new CrlPublisher(opts, opts.provider ?? defaultProvider());
    for (const cfg of opts.issuers) {
      const ca = cfg.certificate;
      if (toHex(ca.subjectPublicKeyInfo.der) !== toHex(cfg.signer.publicKey))
        throw new RevocationError(
          'bad-configuration',
          `issuer ${cfg.id}: the signer's key is not the CA certificate's key`,
        );
      // RFC 5280 §5.2.1: AKI keyIdentifier = the CA's SKI; RFC 5280 §4.2.1.2 method (1) when it has none.
      const keyIdentifier =
        ca.subjectKeyIdentifier ?? (await p.provider.digestAsync('SHA-1', ca.subjectPublicKeyInfo.publicKey));
      p.states.set(cfg.id, {
        cfg,
        sigAlg: encodeSignatureAlgorithm(cfg.signer.algorithm),
        aki: encodeExtension(OID.authorityKeyIdentifier, false, { keyIdentifier }),
      });
    }
    if (opts.republishOnChange && opts.source.onChange)
      p.unsubscribe = opts.source.onChange((issuerId) => p.scheduleRepublish(issuerId));
    return p;
  }

  /** The last CRL published for an issuer. */
  current(issuerId: string): PublishedCrl | undefined {
    return this.states.get(issuerId)?.current;
  }

  /** The latest CRL, publishing one first if there is none or it is past its refresh point. */
  async get(issuerId: string): Promise<PublishedCrl> {
    const st = this.state(issuerId);
    const c = st.current;
    if (c && this.now() < c.publishedAt + this.refreshMs(st)) return c;
    return this.publish(issuerId);
  }

  /** Builds, signs and records a new CRL now. Concurrent calls for one issuer share one publication. */
  publish(issuerId: string): Promise<PublishedCrl> {
    const st = this.state(issuerId);
    if (st.publishing) return st.publishing;
    st.publishing = this.build(st).finally(() => {
      st.publishing = undefined;
    });
    return st.publishing;
  }

  /** Publishes every issuer now and then every `refreshSeconds`. */
  async start(): Promise<void> {
    this.running = true;
    for (const st of this.states.values()) {
      await this.publish(st.cfg.id);
      this.arm(st);
    }
  }

  stop(): void {
    this.running = false;
    this.unsubscribe?.();
    for (const st of this.states.values()) {
      if (st.timer) clearTimeout(st.timer);
      if (st.debounce) clearTimeout(st.debounce);
      st.timer = st.debounce = undefined;
    }
  }

  private state(issuerId: string): IssuerState {
    const st = this.states.get(issuerId);
    if (!st) throw new RevocationError('bad-configuration', `no CRL issuer ${issuerId}`);
    return st;
  }

  private refreshMs(st: IssuerState): number {
    return (this.opts.refreshSeconds ?? (st.cfg.validitySeconds ?? 86_400) / 2) * 1000;
  }

  private arm(st: IssuerState): void {
    if (!this.running) return;
    if (st.timer) clearTimeout(st.timer);
    st.timer = setTimeout(() => {
      this.publish(st.cfg.id).then(
        () => this.arm(st),
        () => this.arm(st),
      );
    }, this.refreshMs(st));
    // Do not keep a process alive just for the schedule (Node); a no-op elsewhere.
    (st.timer as { unref?: () => void }).unref?.();
  }

  private scheduleRepublish(issuerId: string): void {
    const st = this.states.get(issuerId);
    if (!st) return;
    if (st.debounce) clearTimeout(st.debounce);
    st.debounce = setTimeout(() => {
      st.debounce = undefined;
      this.publish(issuerId).catch(() => undefined);
    }, this.opts.debounceMs ?? 1000);
    (st.debounce as { unref?: () => void }).unref?.();
  }

  private async build(st: IssuerState): Promise<PublishedCrl> {
    const cfg = st.cfg;
    const prev = st.current?.crlNumber;
    const now = this.now();
    const publishedAt = Math.floor(now / 1000) * 1000;
    const thisUpdate = publishedAt - (this.opts.backdateMs ?? DEFAULT_REVOCATION_BACKDATE_MS);
    const nextUpdate = publishedAt + (cfg.validitySeconds ?? 86_400) * 1000;
    let crlNumber: bigint;
    if (this.opts.nextCrlNumber) {
      crlNumber = await this.opts.nextCrlNumber(cfg.id, prev);
      if (prev !== undefined && crlNumber <= prev)
        throw new RevocationError(
          'bad-configuration',
          `CRL number ${crlNumber} does not increase (previous ${prev})`,
        );
    } else {
      const seed = BigInt(Math.floor(now / 1000));
      crlNumber = prev !== undefined && prev >= seed ? prev + 1n : seed;
    }
    const src = this.opts.source.revoked(cfg.id);
    const list = src instanceof Promise ? await src : src;
    const tbs = encodeTbsCertListFast({
      signature: st.sigAlg,
      issuer: cfg.certificate.subject.der,
      thisUpdate,
      nextUpdate,
      revoked: encodeRevokedList(list),
      extensions: [st.aki, encodeExtension(OID.cRLNumber, false, crlNumber)],
    });
    const sig = signWith(cfg.signer, tbs);
    const der = encodeSigned(tbs, st.sigAlg, sig instanceof Promise ? await sig : sig);
    const crl: PublishedCrl = {
      issuerId: cfg.id,
      der,
      crlNumber,
      publishedAt,
      thisUpdate,
      nextUpdate,
      entries: list.length,
      etag: this.provider.supportsSync
        ? `"${toHex(this.provider.digest('SHA-256', der).subarray(0, 16))}"`
        : undefined,
    };
    st.current = crl;
    await this.opts.onPublish?.(crl);
    return crl;
  }
}

/**
 * The revokedCertificates SEQUENCE (RFC 5280 §5.1) written straight into one buffer: a 1M-entry
 * CRL is ~45 MB, and a closure, a Date and a few arrays per entry (the generic DerWriter path)
 * cost several seconds. Entry shape: SEQUENCE { INTEGER serial, Time revocationDate,
 * [SEQUENCE { reasonCode?, invalidityDate? }] }, times per RFC 5280 §4.1.2.5.
 */
export function encodeRevokedList(list: readonly RevokedSerial[]): Uint8Array | undefined {
  if (list.length === 0) return undefined;
  // Pass 1: sizes.
  const extDer: (Uint8Array | undefined)[] = new Array(list.length);
  let content = 0;
  for (let i = 0; i < list.length; i++) {
    const e = list[i]!;
    const ext = entryExtensions(e);
    extDer[i] = ext;
    const body = tlvLen(e.serialNumber.length) + timeLen(e.revocationTime) + (ext ? ext.length : 0);
    content += tlvLen(body);
  }
  const out = new Uint8Array(tlvLen(content));
  let p = writeHeader(out, 0, 0x30, content);
  const timeCache = new Map<number, Uint8Array>();
  for (let i = 0; i < list.length; i++) {
    const e = list[i]!;
    const ext = extDer[i];
    const serialLen = e.serialNumber.length;
    if (
      serialLen === 0 ||
      (serialLen > 1 &&
        ((e.serialNumber[0] === 0 && !(e.serialNumber[1]! & 0x80)) ||
          (e.serialNumber[0] === 0xff && e.serialNumber[1]! & 0x80)))
    )
      throw new RevocationError('bad-configuration', 'revoked entry serial is not a minimal INTEGER content');
    let t = timeCache.get(e.revocationTime);
    if (!t) {
      t = encodeDer((w) => w.time(e.revocationTime));
      if (timeCache.size < 100_000) timeCache.set(e.revocationTime, t);
    }
    const body = tlvLen(serialLen) + t.length + (ext ? ext.length : 0);
    p = writeHeader(out, p, 0x30, body);
    p = writeHeader(out, p, 0x02, serialLen);
    out.set(e.serialNumber, p);
    p += serialLen;
    out.set(t, p);
    p += t.length;
    if (ext) {
      out.set(ext, p);
      p += ext.length;
    }
  }
  return out;
}

/** crlEntryExtensions SEQUENCE for an entry, or undefined; the common cases are cached. */
const ENTRY_EXT_CACHE = new Map<CRLReason, Uint8Array>();
function entryExtensions(e: RevokedSerial): Uint8Array | undefined {
  // RFC 5280 §5.3.1: the reason code unspecified SHOULD be absent rather than encoded.
  const reason = e.reason && e.reason !== 'unspecified' ? e.reason : undefined;
  if (e.invalidityDate === undefined) {
    if (!reason) return undefined;
    let d = ENTRY_EXT_CACHE.get(reason);
    if (!d) {
      const x = reasonExtension(reason);
      d = encodeDer((w) => w.sequence((w) => w.raw(x.der)));
      ENTRY_EXT_CACHE.set(reason, d);
    }
    return d;
  }
  const inv = encodeExtension(OID.invalidityDate, false, e.invalidityDate);
  return encodeDer((w) =>
    w.sequence((w) => {
      if (reason) w.raw(reasonExtension(reason).der);
      w.raw(inv.der);
    }),
  );
}

function timeLen(ms: number): number {
  const y = new Date(ms).getUTCFullYear();
  return y >= 1950 && y <= 2049 ? 15 : 17;
}

function tlvLen(n: number): number {
  return 1 + (n < 0x80 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : n < 0x1000000 ? 4 : 5) + n;
}

function writeHeader(b: Uint8Array, p: number, tag: number, n: number): number {
  b[p++] = tag;
  if (n < 0x80) b[p++] = n;
  else {
    const k = n < 0x100 ? 1 : n < 0x10000 ? 2 : n < 0x1000000 ? 3 : 4;
    b[p++] = 0x80 | k;
    for (let i = k - 1; i >= 0; i--) b[p++] = (n >>> (i * 8)) & 0xff;
  }
  return p;
}

/** TBSCertList v2 with a pre-encoded revokedCertificates SEQUENCE (same layout as encodeTbsCertList). */
function encodeTbsCertListFast(f: {
  signature: Uint8Array;
  issuer: Uint8Array;
  thisUpdate: number;
  nextUpdate: number;
  revoked: Uint8Array | undefined;
  extensions: readonly Extension[];
}): Uint8Array {
  const w = new DerWriter(512 + (f.revoked?.length ?? 0));
  w.sequence((w) => {
    w.integer(1);
    w.raw(f.signature);
    w.raw(f.issuer);
    w.time(f.thisUpdate);
    w.time(f.nextUpdate);
    if (f.revoked) w.raw(f.revoked);
    w.explicit(0, (w) =>
      w.sequence((w) => {
        for (const x of f.extensions) w.raw(x.der);
      }),
    );
  });
  return w.finish();
}
