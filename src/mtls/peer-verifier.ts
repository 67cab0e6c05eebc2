import type { TLSSocket } from 'node:tls';
import { BoundedMap, isCacheSize } from '../cache/bounded-map.js';
import { defaultProvider } from '../crypto/default-provider.js';
import type { CryptoProvider } from '../crypto/provider.js';
import { DerReader } from '../der/reader.js';
import { Tag } from '../der/tags.js';
import { RevocationError } from '../revocation/errors.js';
import { SignatureCache } from '../verify/build.js';
import { CertificateCache } from '../verify/certificate-cache.js';
import { type VerifyOptions, type VerifyResult, verifyPath, verifyPathSync } from '../verify/index.js';
import {
  profilePolicy,
  type RevocationChecker,
  type RevocationContext,
  type RevocationStatus,
  type ValidationPolicy,
  type ValidationProfile,
} from '../verify/policy.js';
import { type Certificate, parseCertificate, parseCertificates } from '../x509/certificate.js';
import { MtlsError } from './errors.js';
import { PeerIdentity } from './identity.js';

/**
 * Our path validation for the certificate chain a TLS peer sent: RFC 5280 §6 through
 * `verifyPath`/`verifyPathSync` (verify/), under a profile (`iot` by default), for a purpose
 * (`clientAuth` when we are the server, `serverAuth` when we are the client, plus RFC 9525 name
 * checks then), with revocation from a pluggable checker.
 *
 * Made for the handshake path: trust anchors and configured intermediates are parsed once; the
 * peer's DER certificates go through a shared `CertificateCache` (each distinct certificate parsed
 * once) and signatures through a shared `SignatureCache` (each distinct signature verified once —
 * the intermediate's for every device; a returning device's own is covered by its remembered path,
 * see `pathCacheSize`). Verification is
 * synchronous whenever the revocation checker can answer synchronously (`checkSync`); when it
 * cannot (an asynchronous store lookup, live OCSP), the verifier switches to the asynchronous path
 * for good and says so in `isAsync`.
 */
export interface PeerVerifierOptions {
  /** Certificates we trust as anchors (PEM text — a bundle is fine —, DER or parsed). */
  trustAnchors: readonly (Certificate | Uint8Array | string)[];
  /** Intermediates we hold locally, for peers that send only their leaf. */
  intermediates?: readonly (Certificate | Uint8Array | string)[];
  /** The purpose the peer's certificate must serve. */
  purpose: 'clientAuth' | 'serverAuth';
  /** A validation policy or profile name; default `iot`. Its purpose is replaced by `purpose`. */
  policy?: ValidationPolicy | ValidationProfile;
  /**
   * Revocation: a checker (`StatusLookupRevocation`, `CrlRevocation`, the revocation layer's
   * `createRevocationChecker(...)`), or `'none'` to skip revocation checks — said explicitly,
   * never by omission.
   */
  revocation: RevocationChecker | 'none';
  certificateCache?: CertificateCache;
  /**
   * Default: one of 10 000 entries that keeps no leaf signatures (`leaves: false`) while paths
   * are remembered (`pathCacheSize` > 0), and keeps them when they are not.
   */
  signatureCache?: SignatureCache;
  /**
   * How `verifySocket` reads what the peer sent. Reading the certificates after the leaf is dear
   * on Node 20 (its OpenSSL 3.0 decodes each one anew: ~0.15 ms per intermediate, more than our
   * whole verification of a new device), while the leaf alone comes cheaply from the session.
   * `when-needed` (the default when this verifier holds `intermediates`, as `fleetpki serve`'s do):
   * the leaf is verified with our own intermediates first, and the peer's chain is read and the
   * verification run again with it only when that first one fails — so a peer is accepted exactly
   * when `always` would accept it. `always` (the default without intermediates): read the chain.
   */
  readPeerChain?: 'always' | 'when-needed';
  /**
   * Validated paths remembered per leaf certificate (exact DER), at most this many (LRU);
   * 0 disables. Default 10 000. See `verify`. An entry keeps the leaf's DER (as its key) and the
   * path's other certificates (shared), not the parsed leaf — ~1.5 KB of heap per device instead
   * of ~7 KB, so 10 000 devices hold 15 MB rather than 70 MB that every major GC marks. A
   * returning leaf is parsed again: ~5 µs more per reconnection (13 µs instead of 8.6 here).
   */
  pathCacheSize?: number;
  crypto?: CryptoProvider;
  /** Clock for validation (tests); default Date.now. */
  now?: () => number;
}

/** The verdict on a peer's chain. */
export type PeerVerdict = { ok: true; identity: PeerIdentity } | { ok: false; error: MtlsError };

/** Reference identities for a server's certificate (RFC 9525 §6); at most one of each. */
export interface ReferenceIdentity {
  hostname?: string;
  ip?: string;
}

/** Most certificates read from a peer's chain; TLS chains are a handful (RFC 8446 §4.4.2). */
export const MAX_PEER_CHAIN = 10;

function toCerts(list: readonly (Certificate | Uint8Array | string)[]): Certificate[] {
  return list.flatMap((c) =>
    typeof c === 'string' ? parseCertificates(c) : [c instanceof Uint8Array ? parseCertificate(c) : c],
  );
}

export class PeerVerifier {
  readonly anchors: readonly Certificate[];
  readonly intermediates: readonly Certificate[];
  readonly policy: ValidationPolicy;
  readonly certificateCache: CertificateCache;
  readonly signatureCache: SignatureCache;
  private readonly crypto: CryptoProvider;
  private readonly now: () => number;
  private asyncOnly: boolean;
  /** Keyed by the leaf's DER as a latin1 string (one char per octet: exact bytes). */
  private readonly paths: BoundedMap<string, CachedPath> | undefined;
  private pathHits = 0;

  constructor(readonly options: PeerVerifierOptions) {
    this.anchors = toCerts(options.trustAnchors);
    if (this.anchors.length === 0) throw new MtlsError('bad-configuration', 'no trust anchors');
    this.intermediates = toCerts(options.intermediates ?? []);
    const base = typeof options.policy === 'object' ? options.policy : profilePolicy(options.policy ?? 'iot');
    this.policy = { ...base, purpose: options.purpose };
    this.certificateCache = options.certificateCache ?? new CertificateCache();
    this.crypto = options.crypto ?? defaultProvider();
    this.now = options.now ?? Date.now;
    this.asyncOnly = !this.crypto.supportsSync;
    const pathCacheSize = options.pathCacheSize ?? 10_000;
    if (!isCacheSize(pathCacheSize))
      throw new MtlsError(
        'bad-configuration',
        `pathCacheSize must be a non-negative integer, not ${pathCacheSize}`,
      );
    if (pathCacheSize > 0) this.paths = new BoundedMap(pathCacheSize);
    // Without a cache of our own paths, leaf signatures are worth remembering (a reconnection).
    this.signatureCache = options.signatureCache ?? new SignatureCache(10_000, { leaves: !this.paths });
  }

  /** Remembered paths (see `pathCacheSize`): how many are held, and how many calls reused one. */
  get pathCacheStats(): { size: number; hits: number } {
    return { size: this.paths?.size ?? 0, hits: this.pathHits };
  }

  /** True once verification needs the asynchronous path (see the header). */
  get isAsync(): boolean {
    return this.asyncOnly;
  }

  private input(
    chain: readonly Uint8Array[],
    ref: ReferenceIdentity,
    revocation: RevocationChecker | undefined,
    time: number,
  ): VerifyOptions {
    const r = revocation ?? this.options.revocation;
    return {
      leaf: chain[0]!,
      intermediates: chain.length > 1 ? [...chain.slice(1), ...this.intermediates] : this.intermediates,
      trustAnchors: this.anchors,
      time,
      policy: this.policy,
      hostname: ref.hostname,
      ip: ref.ip,
      revocation: r === 'none' ? undefined : r,
      crypto: this.crypto,
      signatureCache: this.signatureCache,
      certificateCache: this.certificateCache,
    };
  }

  private verdict(r: VerifyResult): PeerVerdict {
    if (r.ok) return { ok: true, identity: new PeerIdentity(r.chain, this.crypto) };
    return {
      ok: false,
      error: new MtlsError('peer-rejected', `peer certificate refused: ${r.code}: ${r.message}`, {
        verifyCode: r.code,
        certIndex: r.certIndex,
      }),
    };
  }

  /**
   * Verifies a chain as sent (leaf first; DER). Returns the verdict synchronously when it can,
   * else a Promise of it. Never throws for a bad peer: a revocation source failing with an error
   * that is not a verdict gives `verification-failed`.
   *
   * A path validated for a leaf is remembered (`pathCacheSize`): path validation is a function of
   * the certificates, the anchors, the policy and the time, and for a fixed path its outcome can
   * only change at a notBefore or notAfter. So while the time stays within the path's common
   * validity window, a returning peer with the same leaf (the same DER: the peer proves it holds
   * the key in the handshake) and the same certificates after it gets that path again without
   * re-validation — but its revocation status is checked anew on every call, with the same
   * rules as `verifyPath` (revoked, or unknown under `revocationUnknown: 'deny'`, refuses).
   * When that check fails, the full validation runs again (it may find another path). Refusals
   * are never remembered.
   */
  verify(
    chain: readonly Uint8Array[],
    ref: ReferenceIdentity = {},
    revocation?: RevocationChecker,
  ): PeerVerdict | Promise<PeerVerdict> {
    return this.verifyChain(chain, ref, revocation, true);
  }

  /**
   * `verify` for a resumed TLS session, where Node has only the peer's leaf (a session keeps the
   * peer's certificate, not its chain): the path remembered for that leaf is used whatever was
   * sent with it then (the same revocation re-check applies); without one, the leaf is validated
   * with our own intermediates.
   */
  verifyResumed(
    chain: readonly Uint8Array[],
    ref: ReferenceIdentity = {},
    revocation?: RevocationChecker,
  ): PeerVerdict | Promise<PeerVerdict> {
    return this.verifyChain(chain, ref, revocation, false);
  }

  private verifyChain(
    chain: readonly Uint8Array[],
    ref: ReferenceIdentity,
    revocation: RevocationChecker | undefined,
    matchSent: boolean,
  ): PeerVerdict | Promise<PeerVerdict> {
    if (chain.length === 0) return { ok: false, error: noPeerCertificate() };
    const time = Math.floor(this.now() / 1000) * 1000;
    const refKey = `${ref.hostname ?? ''}\u0000${ref.ip ?? ''}`;
    const checker = this.checker(revocation);
    // The leaf is parsed here, outside the shared CertificateCache (see pathCacheSize); a
    // malformed one is left to the full validation, which reports it.
    let leaf: Certificate | undefined;
    try {
      leaf = parseCertificate(chain[0]!);
    } catch {
      leaf = undefined;
    }
    const key = leaf && this.paths ? derKey(chain[0]!) : undefined;
    const hit = key === undefined ? undefined : this.paths?.get(key);
    if (
      leaf &&
      hit &&
      hit.ref === refKey &&
      time >= hit.from &&
      time <= hit.until &&
      (!matchSent || this.sameSent(hit, chain))
    ) {
      this.pathHits++;
      const path = [leaf, ...hit.rest];
      // Validate again with the remembered path's certificates at hand: a resumed session has
      // only the leaf, and the verdict should name the real reason (e.g. revoked).
      const withPath = [chain[0]!, ...chain.slice(1), ...hit.rest.slice(0, -1).map((c) => c.der)];
      const again = () => this.fullVerify(withPath, ref, revocation, time, leaf, key, refKey);
      const ok = this.recheckRevocation(path, checker, time);
      if (ok === true) return this.accepted(path);
      if (ok === false) return again();
      return ok.then(
        (good) => (good ? this.accepted(path) : again()),
        (e) => this.failed(e),
      );
    }
    return this.fullVerify(chain, ref, revocation, time, leaf, key, refKey);
  }

  private fullVerify(
    chain: readonly Uint8Array[],
    ref: ReferenceIdentity,
    revocation: RevocationChecker | undefined,
    time: number,
    leaf: Certificate | undefined,
    key: string | undefined,
    refKey: string,
  ): PeerVerdict | Promise<PeerVerdict> {
    const opts = this.input(chain, ref, revocation, time);
    if (leaf) opts.leaf = leaf;
    const done = (r: VerifyResult) => {
      if (r.ok && key !== undefined && r.chain[0] === leaf) this.remember(key, chain, r.chain, refKey);
      return this.verdict(r);
    };
    if (!this.asyncOnly) {
      try {
        return done(verifyPathSync(opts));
      } catch (e) {
        if (!isAsyncRequired(e)) return this.failed(e);
        // The revocation source needs I/O: from now on verify asynchronously.
        this.asyncOnly = true;
      }
    }
    return verifyPath(opts).then(done, (e) => this.failed(e));
  }

  private checker(revocation?: RevocationChecker): RevocationChecker | undefined {
    const r = revocation ?? this.options.revocation;
    return r === 'none' ? this.policy.revocation : r;
  }

  /** Did the peer send the same certificates after the leaf as when the path was remembered? */
  private sameSent(hit: CachedPath, chain: readonly Uint8Array[]): boolean {
    if (hit.sent.length !== chain.length - 1) return false;
    try {
      for (let i = 1; i < chain.length; i++)
        if (this.certificateCache.get(chain[i]!) !== hit.sent[i - 1]) return false;
    } catch {
      return false;
    }
    return true;
  }

  private remember(key: string, sent: readonly Uint8Array[], chain: Certificate[], ref: string): void {
    let from = Number.NEGATIVE_INFINITY;
    let until = Number.POSITIVE_INFINITY;
    for (const c of chain) {
      from = Math.max(from, c.notBefore);
      until = Math.min(until, c.notAfter);
    }
    let others: Certificate[];
    try {
      others = sent.slice(1).map((d) => this.certificateCache.get(d));
    } catch {
      return;
    }
    this.paths?.set(key, { rest: chain.slice(1), from, until, ref, sent: others });
  }

  private accepted(path: Certificate[]): PeerVerdict {
    return { ok: true, identity: new PeerIdentity(path, this.crypto) };
  }

  /**
   * The revocation checks `verifyPath` makes on an accepted path (every certificate below the
   * anchor, leaf first): true when all pass, false when one is revoked or unknown under
   * `revocationUnknown: 'deny'`.
   */
  private recheckRevocation(
    chain: readonly Certificate[],
    checker: RevocationChecker | undefined,
    time: number,
  ): boolean | Promise<boolean> {
    if (!checker) return true;
    const deny = this.policy.revocationUnknown === 'deny';
    const bad = (s: RevocationStatus) => s.status === 'revoked' || (s.status === 'unknown' && deny);
    const ctx = (i: number): RevocationContext => ({
      cert: chain[i]!,
      issuer: chain[i + 1]!,
      chain,
      index: i,
      time,
      clockSkewMs: this.policy.clockSkewMs,
    });
    const n = chain.length - 1;
    const viaAsync = async (from: number): Promise<boolean> => {
      for (let i = from; i < n; i++) if (bad(await checker.check(ctx(i)))) return false;
      return true;
    };
    if (this.asyncOnly) return viaAsync(0);
    for (let i = 0; i < n; i++) {
      let s: RevocationStatus | Promise<RevocationStatus>;
      try {
        s = checker.checkSync ? checker.checkSync(ctx(i)) : checker.check(ctx(i));
      } catch (e) {
        if (!isAsyncRequired(e)) throw e;
        this.asyncOnly = true;
        return viaAsync(i);
      }
      if (s instanceof Promise) return s.then((x) => !bad(x) && viaAsync(i + 1));
      if (bad(s)) return false;
    }
    return true;
  }

  private failed(e: unknown): PeerVerdict {
    return {
      ok: false,
      error: new MtlsError(
        'verification-failed',
        `verification failed: ${(e as Error)?.message ?? String(e)}`,
        {
          cause: e,
        },
      ),
    };
  }

  /**
   * `verify` on what the peer of a connected TLS socket sent (see `readPeerChain`). With
   * `when-needed`, the leaf alone is verified first against our own intermediates, and the peer's
   * chain is read and tried only if that fails.
   */
  verifySocket(
    socket: TLSSocket,
    ref: ReferenceIdentity = {},
    revocation?: RevocationChecker,
  ): PeerVerdict | Promise<PeerVerdict> {
    if (socket.isSessionReused()) return this.verifyResumed(peerChain(socket), ref, revocation);
    const mode = this.options.readPeerChain ?? (this.intermediates.length > 0 ? 'when-needed' : 'always');
    if (mode !== 'when-needed' || this.intermediates.length === 0)
      return this.verify(peerChain(socket), ref, revocation);
    const leaf = peerLeaf(socket);
    if (!leaf) return this.verify([], ref, revocation);
    const retry = (v: PeerVerdict): PeerVerdict | Promise<PeerVerdict> => {
      if (v.ok) return v;
      const chain = peerChain(socket);
      return chain.length > 1 ? this.verify(chain, ref, revocation) : v;
    };
    const first = this.verify([leaf], ref, revocation);
    return first instanceof Promise ? first.then(retry) : retry(first);
  }
}

/** A validated path remembered for its leaf, with the window in which the verdict holds. */
interface CachedPath {
  /** The path after the leaf (intermediates, the trust anchor last). */
  rest: Certificate[];
  /** Latest notBefore and earliest notAfter of the path's certificates. */
  from: number;
  until: number;
  /** The reference identity it was validated for. */
  ref: string;
  /** The certificates the peer sent after the leaf (cached objects): the same must be sent again. */
  sent: Certificate[];
}

/**
 * The verdict's error for a peer without a certificate — an ordinary outcome (every EST client
 * authenticating with a password, every admin API call with a bearer token), so without a stack
 * trace: capturing one under fastify's hooks cost ~20 µs per request, 2 % of an issuance.
 */
function noPeerCertificate(): MtlsError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new MtlsError('no-peer-certificate', 'the peer sent no certificate');
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** The exact DER as a Map key: one latin1 char per octet. */
function derKey(der: Uint8Array): string {
  return Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('latin1');
}

function isAsyncRequired(e: unknown): boolean {
  return e instanceof RevocationError && e.code === 'async-required';
}

/** What `peerChain` read per socket: Node can hand the chain out only once (see there). */
const sentChains = new WeakMap<TLSSocket, Uint8Array[]>();

/**
 * The DER of the peer's own certificate only, or undefined when it sent none. Read from the TLS
 * session (OpenSSL's SSL_SESSION encoding, whose `peer [3]` is the certificate the peer
 * authenticated with — the one `getPeerCertificate` reads too): about 15 µs, where Node's
 * certificate accessors spend 80–150 µs on a new connection. The session encoding also carries the
 * master secret: the copy is zeroed at once. Falls back to `getPeerCertificate(false)`.
 */
export function peerLeaf(socket: TLSSocket): Uint8Array | undefined {
  const known = sentChains.get(socket);
  if (known) return known[0];
  const fromSession = sessionPeer(socket);
  if (fromSession) return fromSession;
  const c = socket.getPeerCertificate(false) as { raw?: Buffer } | null;
  return c?.raw && c.raw.length > 0 ? c.raw : undefined;
}

/** Fields of an SSL_SESSION looked at before `peer` (there are 8 before it in OpenSSL's encoding). */
const MAX_SESSION_FIELDS = 16;

/**
 * `peer [3] EXPLICIT Certificate` of the session's DER (OpenSSL ssl/ssl_asn1.c: SEQUENCE {
 * version, sslversion, cipher, sessionID, masterKey, keyArg [0] OPTIONAL, time [1], timeout [2],
 * peer [3] OPTIONAL, … }), copied; undefined when absent or not readable as such.
 */
function sessionPeer(socket: TLSSocket): Uint8Array | undefined {
  let session: Buffer | undefined;
  try {
    session = socket.getSession();
    if (!session) return undefined;
    const r = DerReader.from(session, 'SSL_SESSION').readSequence('SSL_SESSION');
    for (let i = 0; i < MAX_SESSION_FIELDS && !r.atEnd(); i++) {
      const tag = r.peekTag();
      // A copy (Buffer#slice would be a view, and the session is zeroed below).
      if (tag === 0xa3)
        return new Uint8Array(r.readExplicit(3, 'peer').readTlvBytes(Tag.SEQUENCE, 'certificate'));
      // Past where `peer` would be: the peer sent no certificate.
      if (tag > 0xa3 && tag <= 0xbf) return undefined;
      r.readAny('field');
    }
    return undefined;
  } catch {
    return undefined;
  } finally {
    session?.fill(0);
  }
}

/**
 * The DER certificates the peer of a connected TLS socket sent, leaf first: Node links each
 * certificate to its issuer among those the peer sent (X509Certificate.issuerCertificate);
 * unrelated extra certificates are not returned (they could not be part of a path anyway).
 * Bounded by MAX_PEER_CHAIN. Empty when the peer sent none.
 *
 * Read once per socket and remembered: on a server, Node 20's `getPeerX509Certificate()` takes
 * the certificates after the leaf out of the connection as it hands them over, so a second call
 * (a second request on a keep-alive connection) would see the leaf alone.
 */
export function peerChain(socket: TLSSocket): Uint8Array[] {
  const known = sentChains.get(socket);
  if (known) return known;
  const out: Uint8Array[] = [];
  let x = socket.getPeerX509Certificate();
  let prev: Buffer | undefined;
  while (x && out.length < MAX_PEER_CHAIN) {
    // `raw` re-encodes on every access (i2d): read it once per certificate.
    const raw = x.raw;
    if (prev?.equals(raw)) break; // a self-issued certificate names itself as issuer
    out.push(raw);
    prev = raw;
    x = x.issuerCertificate;
  }
  if (out.length > 0) sentChains.set(socket, out);
  return out;
}
