import type { TLSSocket } from 'node:tls';
import type { FastifyRequest } from 'fastify';
import type { Authority } from '../../ca/authority.js';
import { PeerVerifier, StatusLookupRevocation } from '../../mtls/index.js';
import type { Certificate } from '../../x509/certificate.js';
import { ServerError } from '../errors.js';
import type { Authenticator, Principal } from './types.js';

/**
 * The admin client certificate (mTLS). The TLS server asks every client for a certificate without
 * requiring one (mtls/ `mtlsServerOptions` with an empty OpenSSL store: OpenSSL decides nothing),
 * and this authenticator judges the chain the client sent, per request, with our path validation:
 *
 * 1. `PeerVerifier` (RFC 5280 §6 under the `iot` profile, purpose clientAuth) against the service's
 *    own root, revocation of every certificate below the root answered from the store;
 * 2. the leaf must be a certificate this CA issued under an admin profile (`admin` by default) and
 *    still `issued` in the store, with the same SHA-256 fingerprint: a device certificate from the
 *    same CA validates as a path but is not an admin credential.
 *
 * Deciding at the HTTP layer rather than in the handshake lets a refused certificate get a 401
 * problem with the path validation's reason (`verifyCode`), and keeps the public endpoints open to
 * clients holding unrelated certificates.
 */
export interface ClientCertificateOptions {
  /** Profiles whose certificates are admin credentials. Default `['admin']`. */
  profiles?: readonly string[];
  now?: () => number;
}

/** How long the issuer lookup tables are reused before the hierarchy is read again. */
const REFRESH_MS = 10_000;

export class ClientCertificateAuthenticator implements Authenticator {
  readonly method = 'client-certificate';
  readonly onInvalid = 'ignore' as const;
  private verifier?: PeerVerifier;
  private issuerIds = new Map<string, string>();
  private builtAt = -Infinity;
  private readonly profiles: ReadonlySet<string>;
  private readonly now: () => number;

  constructor(
    private readonly ca: Authority,
    o: ClientCertificateOptions = {},
  ) {
    this.profiles = new Set(o.profiles ?? ['admin']);
    this.now = o.now ?? Date.now;
  }

  async authenticate(req: FastifyRequest): Promise<Principal | undefined> {
    const socket = req.raw.socket as TLSSocket;
    if (typeof socket.getPeerX509Certificate !== 'function') return undefined;
    const verdict = await this.current().verifySocket(socket);
    if (!verdict.ok && verdict.error.code === 'no-peer-certificate') return undefined;
    if (!verdict.ok) {
      const e = verdict.error;
      throw new ServerError(
        'client-certificate-rejected',
        e.verifyCode ? `client certificate refused: ${e.verifyCode}` : 'client certificate refused',
        e.verifyCode ? { verifyCode: e.verifyCode } : {},
      );
    }
    const id = verdict.identity;
    const issuerId = this.issuerIdOf(id.issuer);
    const rec = issuerId ? await this.ca.store.getCertificate(issuerId, id.serialHex) : undefined;
    if (rec?.state !== 'issued' || rec.fingerprint !== id.fingerprint256 || !this.profiles.has(rec.profile))
      throw new ServerError(
        'client-certificate-rejected',
        'client certificate refused: not an admin certificate of this CA',
        { verifyCode: 'not-admin' },
      );
    return {
      method: this.method,
      id: id.fingerprint256,
      requester: `admin:cert:${id.fingerprint256}`,
      subject: id.subject,
    };
  }

  /** The verifier for the current hierarchy (rebuilt when it may have changed: rotation, import). */
  private current(): PeerVerifier {
    const now = this.now();
    if (this.verifier && now - this.builtAt < REFRESH_MS) return this.verifier;
    const ids = new Map<string, string>();
    const intermediates: Certificate[] = [];
    for (const info of this.ca.issuers()) {
      const cert = this.ca.chain(info.id)[0]!;
      ids.set(key(cert), info.id);
      if (info.role === 'intermediate' && info.status !== 'retired') intermediates.push(cert);
    }
    const store = this.ca.store;
    const old = this.verifier;
    this.issuerIds = ids;
    this.verifier = new PeerVerifier({
      trustAnchors: [this.ca.rootCertificate()],
      intermediates,
      purpose: 'clientAuth',
      revocation: new StatusLookupRevocation(({ issuer, serialHex }) => {
        const issuerId = ids.get(key(issuer));
        return issuerId ? store.status(issuerId, serialHex) : undefined;
      }),
      // Keep the caches across rebuilds: the same certificates keep coming.
      certificateCache: old?.certificateCache,
      signatureCache: old?.signatureCache,
      now: this.now,
    });
    this.builtAt = now;
    return this.verifier;
  }

  private issuerIdOf(cert: Certificate): string | undefined {
    return this.issuerIds.get(key(cert));
  }
}

function key(c: Certificate): string {
  return Buffer.from(c.der.buffer, c.der.byteOffset, c.der.byteLength).toString('base64');
}
