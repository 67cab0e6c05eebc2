import { isIP } from 'node:net';
import { type ConnectionOptions, type TLSSocket, connect as tlsConnect } from 'node:tls';
import { createRevocationChecker, type RevocationPolicy } from '../revocation/checker.js';
import type { RevocationChecker } from '../verify/policy.js';
import { MtlsError } from './errors.js';
import type { PeerIdentity } from './identity.js';
import {
  type PeerVerdict,
  PeerVerifier,
  type PeerVerifierOptions,
  type ReferenceIdentity,
} from './peer-verifier.js';

/**
 * A TLS client that checks the server with OUR path validation — purpose serverAuth, the `iot`
 * profile by default, RFC 9525 name checks (DNS name or IP address, no CN fallback) instead of
 * Node's `checkServerIdentity` — and can present a client certificate (mutual TLS).
 *
 * Node's own verification is switched off (`rejectUnauthorized: false`); ours runs on the chain
 * the server sent as soon as the handshake completes, before any application byte is written.
 * A refused server is disconnected and the promise rejects with `MtlsError('peer-rejected')`
 * carrying the verifier's code. Revocation of the server's certificate: any checker, or a
 * revocation policy to which the response the server stapled (RFC 6066 §8) is added per
 * connection — `{ policy: { sources: ['stapled', 'crl'], crls } }` needs no network.
 *
 * With TLS 1.3, a server that refuses OUR certificate does so after our side of the handshake
 * is done (RFC 8446 §4.4.2): `mtlsConnect` resolves, and the refusal shows as an error or close
 * on the first read. Callers that need to know must wait for data, as MQTT waits for CONNACK.
 *
 *   const { socket, identity } = await mtlsConnect({ host: '127.0.0.1', port, cert: chainPem, key: keyPem,
 *     trustAnchors: [rootPem], revocation: 'none' });
 */
export interface MtlsConnectOptions extends Omit<PeerVerifierOptions, 'purpose' | 'revocation'> {
  host: string;
  port: number;
  /** SNI; default `host` when it is a DNS name (never an IP literal, RFC 6066 §3). */
  servername?: string;
  /**
   * The identity the server's certificate must show (RFC 9525 §6): default `host` — an IP
   * literal is checked against iPAddress SANs, a name against dNSName SANs.
   */
  expect?: ReferenceIdentity;
  /** Our certificate followed by its chain (PEM), when the server asks for one. */
  cert?: string | Uint8Array;
  /** Our private key (PEM or DER). */
  key?: string | Uint8Array;
  /** Passphrase of an encrypted `key`. */
  passphrase?: string;
  /**
   * Revocation of the server's certificate: a checker, `'none'`, or `{ policy }` for the
   * revocation layer's checker with the stapled OCSP response added per connection.
   */
  revocation: RevocationChecker | 'none' | { policy: Partial<RevocationPolicy> };
  /** Ask the server to staple (RFC 6066 §8). Default: true when `revocation` is a `{ policy }`. */
  requestOCSP?: boolean;
  /** Connect + handshake + verification deadline. Default 10 s. */
  timeoutMs?: number;
  /** Further node:tls options (minVersion, ALPNProtocols, session, …). Verification ones are ours. */
  tls?: Omit<ConnectionOptions, 'rejectUnauthorized' | 'checkServerIdentity' | 'host' | 'port'>;
  /** Reuse a verifier (and its caches) across connections. */
  verifier?: PeerVerifier;
}

/** A connected socket whose server passed our verification, and who that server is. */
export interface MtlsConnection {
  socket: TLSSocket;
  identity: PeerIdentity;
}

function verifierFor(o: MtlsConnectOptions): PeerVerifier {
  if (o.verifier) {
    if (o.verifier.options.purpose !== 'serverAuth')
      throw new MtlsError('bad-configuration', 'a server-certificate verifier must have purpose serverAuth');
    return o.verifier;
  }
  const revocation = typeof o.revocation === 'object' && 'policy' in o.revocation ? 'none' : o.revocation;
  return new PeerVerifier({ ...o, purpose: 'serverAuth', revocation });
}

/** The reference identity for `host` unless `expect` says otherwise. */
function referenceFor(o: MtlsConnectOptions): ReferenceIdentity {
  if (o.expect) return o.expect;
  return isIP(o.host) ? { ip: o.host } : { hostname: o.host };
}

/** Opens a TLS connection and verifies the server (see the header). */
export function mtlsConnect(o: MtlsConnectOptions): Promise<MtlsConnection> {
  let verifier: PeerVerifier;
  try {
    verifier = verifierFor(o);
  } catch (e) {
    return Promise.reject(e);
  }
  const policy =
    typeof o.revocation === 'object' && 'policy' in o.revocation ? o.revocation.policy : undefined;
  const requestOCSP = o.requestOCSP ?? policy !== undefined;
  return new Promise<MtlsConnection>((resolve, reject) => {
    let stapled: Uint8Array | undefined;
    let settled = false;
    const socket = tlsConnect({
      ...o.tls,
      host: o.host,
      port: o.port,
      servername: o.servername ?? (isIP(o.host) ? undefined : o.host),
      cert: o.cert,
      key: o.key,
      passphrase: o.passphrase,
      // An empty store keeps OpenSSL's own processing of the server chain minimal: only our verdict counts.
      ca: [],
      rejectUnauthorized: false,
      checkServerIdentity: () => undefined,
      requestOCSP,
    } as ConnectionOptions);
    const fail = (e: MtlsError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      reject(e);
    };
    const timer = setTimeout(
      () =>
        fail(
          new MtlsError(
            'timeout',
            `no verified TLS connection to ${o.host}:${o.port} within ${o.timeoutMs ?? 10_000} ms`,
          ),
        ),
      o.timeoutMs ?? 10_000,
    );
    socket.once('OCSPResponse', (r: Buffer) => {
      if (r?.length) stapled = new Uint8Array(r.buffer, r.byteOffset, r.byteLength);
    });
    socket.once('error', (e: Error) =>
      fail(
        new MtlsError('handshake-failed', `TLS connection to ${o.host}:${o.port}: ${e.message}`, {
          cause: e,
        }),
      ),
    );
    socket.once('close', () =>
      fail(new MtlsError('handshake-failed', `${o.host}:${o.port} closed the connection`)),
    );
    socket.once('secureConnect', () => {
      let revocation: RevocationChecker | undefined;
      if (policy) {
        try {
          revocation = createRevocationChecker({
            ...policy,
            stapled: stapled ? [stapled] : (policy.stapled ?? []),
          });
        } catch (e) {
          return fail(
            new MtlsError('bad-configuration', `revocation policy: ${(e as Error).message}`, { cause: e }),
          );
        }
      }
      const done = (v: PeerVerdict) => {
        if (settled) return;
        if (!v.ok) return fail(v.error);
        settled = true;
        clearTimeout(timer);
        socket.removeAllListeners('close');
        socket.removeAllListeners('error');
        resolve({ socket, identity: v.identity });
      };
      const v = verifier.verifySocket(socket, referenceFor(o), revocation);
      if (v instanceof Promise)
        v.then(done, (e) => fail(new MtlsError('verification-failed', String(e), { cause: e })));
      else done(v);
    });
  });
}

/**
 * A `createConnection` for `http.request`/`https.request` that opens the connection with
 * `mtlsConnect` — HTTP over a TLS connection whose server passed our verification:
 *
 *   https.request(url, { createConnection: mtlsCreateConnection({ trustAnchors, revocation: 'none', cert, key }) })
 *
 * Host and port come from the request; an `MtlsError` reaches the request's `error` event.
 */
export function mtlsCreateConnection(
  o: Omit<MtlsConnectOptions, 'host' | 'port'> & { host?: string; port?: number },
): (
  opts: { host?: string | null; hostname?: string | null; port?: number | string | null },
  cb: (err: Error | null, socket?: TLSSocket) => void,
) => undefined {
  const verifier = verifierFor({
    ...o,
    host: o.host ?? 'localhost',
    port: o.port ?? 443,
  } as MtlsConnectOptions);
  return (opts, cb) => {
    const host = o.host ?? opts.hostname ?? opts.host ?? 'localhost';
    const port = o.port ?? Number(opts.port ?? 443);
    mtlsConnect({ ...o, host, port, verifier }).then(
      (c) => cb(null, c.socket),
      (e: Error) => cb(e),
    );
    return undefined;
  };
}
