import type { TLSSocket } from 'node:tls';
import { defaultProvider } from '../crypto/default-provider.js';
import type { CryptoProvider } from '../crypto/provider.js';
import { RevocationError } from '../revocation/errors.js';
import { SignatureCache } from '../verify/build.js';
import { CertificateCache } from '../verify/certificate-cache.js';
import { type VerifyOptions, type VerifyResult, verifyPath, verifyPathSync } from '../verify/index.js';
import {
  profilePolicy,
  type RevocationChecker,
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
 * the intermediate's for every device, a device's own on reconnection). Verification is
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
  signatureCache?: SignatureCache;
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

  constructor(readonly options: PeerVerifierOptions) {
    this.anchors = toCerts(options.trustAnchors);
    if (this.anchors.length === 0) throw new MtlsError('bad-configuration', 'no trust anchors');
    this.intermediates = toCerts(options.intermediates ?? []);
    const base = typeof options.policy === 'object' ? options.policy : profilePolicy(options.policy ?? 'iot');
    this.policy = { ...base, purpose: options.purpose };
    this.certificateCache = options.certificateCache ?? new CertificateCache();
    this.signatureCache = options.signatureCache ?? new SignatureCache();
    this.crypto = options.crypto ?? defaultProvider();
    this.now = options.now ?? Date.now;
    this.asyncOnly = !this.crypto.supportsSync;
  }

  /** True once verification needs the asynchronous path (see the header). */
  get isAsync(): boolean {
    return this.asyncOnly;
  }

  private input(
    chain: readonly Uint8Array[],
    ref: ReferenceIdentity,
    revocation?: RevocationChecker,
  ): VerifyOptions {
    const r = revocation ?? this.options.revocation;
    return {
      leaf: chain[0]!,
      intermediates: chain.length > 1 ? [...chain.slice(1), ...this.intermediates] : this.intermediates,
      trustAnchors: this.anchors,
      time: this.now(),
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
   */
  verify(
    chain: readonly Uint8Array[],
    ref: ReferenceIdentity = {},
    revocation?: RevocationChecker,
  ): PeerVerdict | Promise<PeerVerdict> {
    if (chain.length === 0)
      return { ok: false, error: new MtlsError('no-peer-certificate', 'the peer sent no certificate') };
    const opts = this.input(chain, ref, revocation);
    if (!this.asyncOnly) {
      try {
        return this.verdict(verifyPathSync(opts));
      } catch (e) {
        if (!(e instanceof RevocationError && e.code === 'async-required')) return this.failed(e);
        // The revocation source needs I/O: from now on verify asynchronously.
        this.asyncOnly = true;
      }
    }
    return verifyPath(opts).then(
      (r) => this.verdict(r),
      (e) => this.failed(e),
    );
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

  /** `verify` on the chain a connected TLS socket's peer sent. */
  verifySocket(
    socket: TLSSocket,
    ref: ReferenceIdentity = {},
    revocation?: RevocationChecker,
  ): PeerVerdict | Promise<PeerVerdict> {
    return this.verify(peerChain(socket), ref, revocation);
  }
}

/**
 * The DER certificates the peer of a connected TLS socket sent, leaf first: Node links each
 * certificate to its issuer among those the peer sent (X509Certificate.issuerCertificate);
 * unrelated extra certificates are not returned (they could not be part of a path anyway).
 * Bounded by MAX_PEER_CHAIN. Empty when the peer sent none.
 */
export function peerChain(socket: TLSSocket): Uint8Array[] {
  const out: Uint8Array[] = [];
  let x = socket.getPeerX509Certificate();
  while (x && out.length < MAX_PEER_CHAIN) {
    out.push(x.raw);
    const next = x.issuerCertificate;
    if (!next || next === x || next.raw.equals(x.raw)) break;
    x = next;
  }
  return out;
}
