import { constants as cryptoConstants } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import {
  createServer as createTlsServer,
  type TLSSocket,
  type TlsOptions,
  type Server as TlsServer,
} from 'node:tls';
import type { MtlsErrorCode } from './errors.js';
import { MtlsError } from './errors.js';
import type { PeerIdentity } from './identity.js';
import { type PeerVerdict, PeerVerifier, type PeerVerifierOptions } from './peer-verifier.js';
import type { OcspStapler } from './stapling.js';

/**
 * Mutual-TLS servers on `node:tls` / `node:https` whose client-certificate decision is OUR path
 * validation (PeerVerifier: RFC 5280 §6 under the `iot` profile, purpose clientAuth, revocation
 * from a pluggable checker), not OpenSSL's.
 *
 * How, and what Node allows (Node 20/24, OpenSSL 3):
 * - Node installs an OpenSSL verify callback that always returns 1 and reports OpenSSL's own
 *   result only after the handshake (`verifyError()`); JS cannot reach that callback. The hooks
 *   JS does get during a handshake — SNICallback, ALPNCallback, the OCSPRequest event — all run
 *   at the ClientHello, before the client's Certificate message. So the decision is made when the
 *   handshake completes and before the application sees the connection or reads a byte: the
 *   server asks for a certificate (`requestCert`), lets OpenSSL accept any chain
 *   (`rejectUnauthorized: false`), runs our verification on the chain the client sent, and only
 *   then emits `secureConnection` (with the `PeerIdentity` as second argument; `peerIdentity(socket)`
 *   gives it later, e.g. from `req.socket`). A refused client is logged with a typed reason
 *   (`mtlsRejected` event, `onReject`) and its connection destroyed.
 * - What the refused client sees: with TLS 1.2 the server's Finished is never sent, so the client
 *   fails the handshake (curl `(35) SSL_connect: SSL_ERROR_SYSCALL`, Node `ECONNRESET ... before
 *   secure TLS connection was established`). With TLS 1.3 the client has finished its side before
 *   the server judged its certificate (RFC 8446 §4.4.2: the client's Certificate comes after the
 *   server's Finished), so it sees the connection closed on its first read (curl `(52) Empty reply
 *   from server` or `(56) ... reset`, openssl s_client `unexpected eof while reading`, mqtt.js a
 *   close before CONNACK). No fatal alert with a reason: Node offers no way to send one (only
 *   close_notify, which would tell the client all was well). OpenSSL's own refusal of a missing
 *   certificate (`certificate_required`) is not used either, since enabling it
 *   (`rejectUnauthorized: true`) would also make OpenSSL's verification decide and drop clients
 *   silently, without our reason.
 * - Session resumption is off by default (`sessionResumption`): a resumed session would carry
 *   only the client's leaf. When it is on, resumed sessions are verified too, revocation included,
 *   on every connection.
 * - OpenSSL still processes the chain it receives (with SSL_VERIFY_PEER it always does), and we
 *   keep that work minimal: by default it gets an empty trust store (`ca: []`), so it checks only
 *   the leaf's signature by the intermediate the client sent and stops; our verifier does the
 *   rest — and caches, so a reconnecting device costs no signature check of ours at all. With
 *   `advertiseTrustAnchors: true` OpenSSL gets our anchors, so that CertificateRequest names them
 *   (RFC 8446 §4.2.4, useful to browsers holding several certificates) — at the price of OpenSSL
 *   verifying the whole chain as well (its result is ignored).
 */
export interface MtlsServerOptions {
  /**
   * TLS options (key, cert — our certificate followed by its chain —, minVersion, ciphers, …).
   * `requestCert`, `rejectUnauthorized` and (unless told otherwise) `ca` are set by us.
   */
  tls: TlsOptions;
  /** How client certificates are verified (purpose clientAuth), or a verifier to share. */
  clientAuth: Omit<PeerVerifierOptions, 'purpose'> | PeerVerifier;
  /**
   * `required` (default): a client without a certificate is refused. `optional`: it is let
   * through without an identity (`peerIdentity` undefined) for the application to authenticate
   * otherwise — e.g. EST's HTTP Basic (RFC 7030 §3.2.3); a certificate that is presented must
   * still pass.
   */
  clientCertificate?: 'required' | 'optional';
  /**
   * TLS session resumption. `off` (default): no session tickets (SSL_OP_NO_TICKET; Node keeps no
   * server-side session cache unless the application handles `newSession`), so every connection
   * is a full handshake with the client's certificate. `on`: tickets are issued; a resumed
   * session carries only the client's leaf (OpenSSL keeps the peer certificate, not its chain), so
   * it is accepted with the path validated when the session began (still in this verifier's
   * memory) or one built from intermediates we hold — and its revocation is checked again.
   */
  sessionResumption?: 'off' | 'on';
  /** Name the trust anchors in CertificateRequest (gives them to OpenSSL as `ca`). Default false. */
  advertiseTrustAnchors?: boolean;
  /** Staple OCSP responses for our own certificate (see OcspStapler). */
  stapling?: OcspStapler;
  /** Called for every refused client (also emitted as `mtlsRejected` on the server). */
  onReject?: (rejection: MtlsRejection) => void;
}

/** A refused client: why, and from where. */
export interface MtlsRejection {
  error: MtlsError;
  code: MtlsErrorCode;
  remoteAddress?: string;
  remotePort?: number;
}

/** Counters of a server's decisions (per rejection code). */
export interface MtlsStats {
  accepted: number;
  rejected: number;
  byCode: Partial<Record<string, number>>;
}

/** What `attachMtls` installed: the verifier and the counters. */
export interface MtlsServerHandle {
  verifier: PeerVerifier;
  stats: MtlsStats;
}

const identities = new WeakMap<TLSSocket, PeerIdentity>();

/**
 * The verified identity of the client on `socket` — the TLSSocket of `secureConnection`, or an
 * HTTP request's `req.socket` — undefined for sockets we did not verify.
 */
export function peerIdentity(socket: object): PeerIdentity | undefined {
  return identities.get(socket as TLSSocket);
}

function makeVerifier(o: MtlsServerOptions['clientAuth']): PeerVerifier {
  if (o instanceof PeerVerifier) {
    if (o.options.purpose !== 'clientAuth')
      throw new MtlsError('bad-configuration', 'a client-certificate verifier must have purpose clientAuth');
    return o;
  }
  return new PeerVerifier({ ...o, purpose: 'clientAuth' });
}

/**
 * The TLS options for an mTLS server: `options.tls` plus `requestCert: true`,
 * `rejectUnauthorized: false` and `ca` (empty, or the anchors; see `advertiseTrustAnchors`). For servers made elsewhere — e.g.
 * fastify's `https` option — pass these, then `attachMtls(server, options)` before listening.
 *
 *   const mtls = { tls: { key, cert }, clientAuth: { trustAnchors: [root], revocation } };
 *   const app = Fastify({ https: mtlsServerOptions(mtls) });
 *   attachMtls(app.server, mtls);
 */
export function mtlsServerOptions(options: MtlsServerOptions, verifier?: PeerVerifier): TlsOptions {
  const v = verifier ?? makeVerifier(options.clientAuth);
  const o: TlsOptions = { ...options.tls, requestCert: true, rejectUnauthorized: false };
  if (options.sessionResumption !== 'on')
    o.secureOptions = (o.secureOptions ?? 0) | cryptoConstants.SSL_OP_NO_TICKET;
  // An empty `ca` is an empty store: Node then adds no CA, not even its bundled roots.
  o.ca = options.advertiseTrustAnchors === true ? v.anchors.map((c) => c.toPem()) : [];
  return o;
}

/**
 * Installs our verification on an existing `tls.Server` (or `https.Server`, which extends it):
 * `secureConnection` is emitted only for verified clients, with their `PeerIdentity`. The server
 * must have been created with `mtlsServerOptions` (or equivalent `requestCert: true,
 * rejectUnauthorized: false`). Also registers OCSP stapling when `options.stapling` is given.
 */
export function attachMtls(
  server: TlsServer,
  options: MtlsServerOptions,
  verifier?: PeerVerifier,
): MtlsServerHandle {
  // tls.Server keeps these options as properties and reads them for each connection. Without
  // requestCert no client sends a certificate; with rejectUnauthorized Node would drop clients
  // that OpenSSL's (empty-store) verification fails before we could judge them.
  const flags = server as unknown as { requestCert?: unknown; rejectUnauthorized?: unknown };
  if (flags.requestCert !== true || flags.rejectUnauthorized !== false)
    throw new MtlsError(
      'bad-configuration',
      'the server must be created with requestCert: true and rejectUnauthorized: false (use mtlsServerOptions)',
    );
  const v = verifier ?? makeVerifier(options.clientAuth);
  const stats: MtlsStats = { accepted: 0, rejected: 0, byCode: {} };
  // The overloads of tls.Server#emit do not include ours; call it untyped.
  const emit = server.emit as (this: TlsServer, event: string | symbol, ...args: unknown[]) => boolean;
  const reject = (socket: TLSSocket, error: MtlsError) => {
    stats.rejected++;
    const key = error.verifyCode ?? error.code;
    stats.byCode[key] = (stats.byCode[key] ?? 0) + 1;
    const rejection: MtlsRejection = {
      error,
      code: error.code,
      remoteAddress: socket.remoteAddress,
      remotePort: socket.remotePort,
    };
    socket.destroy();
    try {
      options.onReject?.(rejection);
    } finally {
      emit.call(server, 'mtlsRejected', rejection);
    }
  };
  const accept = (socket: TLSSocket, verdict: PeerVerdict): boolean => {
    if (
      !verdict.ok &&
      verdict.error.code === 'no-peer-certificate' &&
      options.clientCertificate === 'optional'
    ) {
      stats.accepted++;
      return emit.call(server, 'secureConnection', socket, undefined);
    }
    if (!verdict.ok) {
      reject(socket, verdict.error);
      return false;
    }
    if (socket.destroyed) return false;
    stats.accepted++;
    identities.set(socket, verdict.identity);
    return emit.call(server, 'secureConnection', socket, verdict.identity);
  };
  server.emit = function (this: TlsServer, event: string | symbol, ...args: unknown[]): boolean {
    if (event !== 'secureConnection') return emit.call(this, event, ...args);
    const socket = args[0] as TLSSocket;
    const verdict = v.verifySocket(socket);
    if (!(verdict instanceof Promise)) return accept(socket, verdict);
    verdict.then(
      (r) => accept(socket, r),
      (e) => reject(socket, new MtlsError('verification-failed', String(e), { cause: e })),
    );
    return true;
  } as TlsServer['emit'];
  options.stapling?.attach(server);
  return { verifier: v, stats };
}

/**
 * A `tls.Server` with our client-certificate verification (see the header). `onConnection` gets
 * each verified client's identity (undefined only under `clientCertificate: 'optional'`, for a
 * client that sent no certificate).
 */
export function createMtlsServer(
  options: MtlsServerOptions,
  onConnection?: (socket: TLSSocket, identity: PeerIdentity) => void,
): TlsServer & { mtls: MtlsServerHandle } {
  const v = makeVerifier(options.clientAuth);
  const server = createTlsServer(mtlsServerOptions(options, v)) as TlsServer & { mtls: MtlsServerHandle };
  server.mtls = attachMtls(server, options, v);
  if (onConnection) server.on('secureConnection', onConnection);
  return server;
}

/**
 * An `https.Server` with our client-certificate verification: requests arrive only on verified
 * connections; `peerIdentity(req.socket)` is the client.
 */
export function createMtlsHttpsServer(
  options: MtlsServerOptions,
  onRequest?: (req: IncomingMessage, res: ServerResponse) => void,
): HttpsServer & { mtls: MtlsServerHandle } {
  const v = makeVerifier(options.clientAuth);
  const server = createHttpsServer(mtlsServerOptions(options, v), onRequest) as HttpsServer & {
    mtls: MtlsServerHandle;
  };
  server.mtls = attachMtls(server, options, v);
  return server;
}
