import type { IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions } from 'node:https';
import type { Duplex } from 'node:stream';
import { bytesEqual } from '../der/bytes.js';
import { mtlsCreateConnection } from '../mtls/client.js';
import { MtlsError } from '../mtls/errors.js';
import { PeerVerifier } from '../mtls/peer-verifier.js';
import type { RevocationPolicy } from '../revocation/checker.js';
import type { RevocationChecker, ValidationPolicy, ValidationProfile } from '../verify/policy.js';
import type { Certificate } from '../x509/certificate.js';
import { type CertificationRequest, parseCsr } from '../x509/csr.js';
import { parseCertsOnly } from './cms.js';
import { type AttrOrOid, parseCsrAttrs } from './csrattrs.js';
import { EstError } from './errors.js';
import {
  checkMediaType,
  DEFAULT_MAX_BODY_BYTES,
  decodeBase64Body,
  EST_MEDIA_TYPES,
  encodeBase64Body,
} from './framing.js';
import { parseServerKeygenResponse } from './multipart.js';

/**
 * The device side of EST (RFC 7030, with RFC 8951's clarifications): /cacerts, /simpleenroll,
 * /simplereenroll, /csrattrs and /serverkeygen over HTTPS.
 *
 * - The server is checked with OUR path validation against an explicit trust anchor database
 *   (RFC 7030 §3.6.1: the anchors the device was given, e.g. the fleet root — never the system
 *   store), purpose serverAuth, and RFC 9525 name checks against the URL's host (mtlsConnect).
 * - The client authenticates with a certificate (TLS client authentication, RFC 7030 §3.3.2: a
 *   bootstrap certificate for the first enrollment, its own certificate to re-enroll) and/or HTTP
 *   Basic (§3.2.3; sent only over that verified TLS connection).
 * - Labels: `/.well-known/est/<label>/<operation>` (§3.2.2).
 * - 202 with Retry-After (§4.2.3): the same request is repeated after the wait the server asks
 *   for, within `maxWaitMs`; beyond it, `EstError('pending')` with `retryAfter`.
 * - Answers are checked: status, Content-Type, base64, the CMS/CsrAttrs/multipart shapes, and for
 *   enrollment that a returned certificate carries the CSR's public key.
 * - One verified connection serves consecutive operations (HTTP keep-alive): a device's /cacerts
 *   and /simpleenroll cost one TLS handshake, not two. An idle connection is closed by the client
 *   after `IDLE_MS`, before the server's keep-alive timeout, so a request never races the
 *   server's close; `close()` ends it at once.
 *
 *   const est = new EstClient({ url: 'https://ca.example:8443', trustAnchors: [rootPem],
 *     certificate: { cert: bootstrapChainPem, key: bootstrapKeyPem } });
 *   const { certificate } = await est.simpleenroll(csrDer);
 */
export interface EstClientOptions {
  /** The server: `https://host[:port]` (optionally with a path prefix before `/.well-known/est`). */
  url: string;
  /** An RFC 7030 §3.2.2 label (one path segment). */
  label?: string;
  /** The explicit trust anchors for the server's certificate (PEM — a bundle is fine —, DER or parsed). */
  trustAnchors: readonly (Certificate | Uint8Array | string)[];
  /** Our certificate (followed by its chain, PEM) and key, for TLS client authentication. */
  certificate?: { cert: string | Uint8Array; key: string | Uint8Array; passphrase?: string };
  /** HTTP Basic credentials (RFC 7030 §3.2.3). */
  basic?: { username: string; password: string };
  /**
   * Revocation of the server's certificate. Default: the response the server staples, if any
   * (soft-fail when it staples none: the anchors are pinned, and a device may have no other way to
   * reach a responder before it is enrolled).
   */
  serverRevocation?: RevocationChecker | 'none' | { policy: Partial<RevocationPolicy> };
  /** Validation policy or profile for the server's certificate; default `iot`. */
  policy?: ValidationPolicy | ValidationProfile;
  /** Per-request deadline (connection, TLS, answer). Default 30 s. */
  timeoutMs?: number;
  /** Longest total wait for a 202 answer to turn into a certificate. Default 0: report `pending`. */
  maxWaitMs?: number;
  /** Bound on an answer body. Default 1 MiB. */
  maxResponseBytes?: number;
  /** Aborts waits and requests. */
  signal?: AbortSignal;
  /** Clock for validation of the server's certificate (tests). */
  now?: () => number;
}

/** An enrollment's result: the certificate for our key, and everything the server sent. */
export interface EnrollResult {
  certificate: Certificate;
  certificates: Certificate[];
}

/** A /serverkeygen result: the new key (PKCS#8 DER — a secret) and its certificate. */
export interface ServerKeygenResult extends EnrollResult {
  privateKey: Uint8Array;
}

interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Uint8Array;
}

type Operation = 'cacerts' | 'simpleenroll' | 'simplereenroll' | 'csrattrs' | 'serverkeygen';

const LABEL = /^[A-Za-z0-9._~-]{1,128}$/;

/**
 * How long an idle connection is kept for the client's next operation: below the keep-alive
 * timeout of the servers it talks to (fleetpki serve: 5 s; Node's default: 5 s).
 */
const IDLE_MS = 2_000;

/** An https.Agent whose connections are opened — and the server verified — by `mtlsConnect`. */
class VerifiedAgent extends HttpsAgent {
  constructor(private readonly connect: ReturnType<typeof mtlsCreateConnection>) {
    // One idle connection at most: a client's operations run one after another.
    super({ keepAlive: true, maxFreeSockets: 1, timeout: IDLE_MS });
  }

  override createConnection(
    options: RequestOptions,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): undefined {
    return this.connect(options, (err, socket) => callback?.(err, socket as Duplex));
  }
}

export class EstClient {
  private readonly base: URL;
  private readonly agent: VerifiedAgent;
  readonly verifier: PeerVerifier;

  constructor(private readonly opts: EstClientOptions) {
    let u: URL;
    try {
      u = new URL(opts.url);
    } catch (e) {
      throw new EstError('bad-input', `not a URL: ${opts.url}`, { cause: e });
    }
    if (u.protocol !== 'https:') throw new EstError('bad-input', 'EST runs over HTTPS only (RFC 7030 §3.3)');
    if (opts.label !== undefined && !LABEL.test(opts.label))
      throw new EstError('bad-input', `invalid label "${opts.label}" (one path segment)`);
    this.base = u;
    const revocation = opts.serverRevocation ?? {
      policy: { sources: ['stapled'], unavailable: 'soft-fail', scope: 'leaf' },
    };
    try {
      this.verifier = new PeerVerifier({
        trustAnchors: opts.trustAnchors,
        purpose: 'serverAuth',
        policy: opts.policy,
        revocation: typeof revocation === 'object' && 'policy' in revocation ? 'none' : revocation,
        now: opts.now,
      });
    } catch (e) {
      throw new EstError('bad-input', `trust anchors: ${(e as Error).message}`, { cause: e });
    }
    this.agent = new VerifiedAgent(
      mtlsCreateConnection({
        trustAnchors: opts.trustAnchors,
        verifier: this.verifier,
        revocation,
        cert: opts.certificate?.cert,
        key: opts.certificate?.key,
        passphrase: opts.certificate?.passphrase,
        timeoutMs: opts.timeoutMs ?? 30_000,
      }),
    );
  }

  /**
   * Closes the connection kept for the next operation (call it when done; an idle one also closes
   * by itself after 2 s). An operation still running fails; later ones open a new connection.
   */
  close(): void {
    this.agent.destroy();
  }

  /** The URL of an operation (RFC 7030 §3.2.2). */
  operationUrl(op: Operation): URL {
    const prefix = this.base.pathname.replace(/\/+$/, '');
    const label = this.opts.label ? `/${this.opts.label}` : '';
    return new URL(`${prefix}/.well-known/est${label}/${op}`, this.base);
  }

  /** /cacerts (RFC 7030 §4.1): the CA certificates the server distributes. Needs no credentials. */
  async cacerts(): Promise<Certificate[]> {
    const a = await this.send('cacerts', 'GET');
    this.expectOk(a, 'cacerts');
    checkMediaType(header(a, 'content-type'), EST_MEDIA_TYPES.certsOnly);
    const certs = parseCertsOnly(this.body(a)).certificates;
    if (certs.length === 0) throw new EstError('no-certificate', '/cacerts answered with no certificate');
    return certs;
  }

  /** /simpleenroll (RFC 7030 §4.2.1). `csr`: DER, PEM or parsed. */
  simpleenroll(csr: CertificationRequest | Uint8Array | string): Promise<EnrollResult> {
    return this.enroll('simpleenroll', csr);
  }

  /** /simplereenroll (RFC 7030 §4.2.2): authenticate with the certificate being renewed. */
  simplereenroll(csr: CertificationRequest | Uint8Array | string): Promise<EnrollResult> {
    return this.enroll('simplereenroll', csr);
  }

  /** /csrattrs (RFC 7030 §4.5): what the server wants in a CSR; empty on 204 or 404 (§4.5.2). */
  async csrattrs(): Promise<AttrOrOid[]> {
    const a = await this.send('csrattrs', 'GET');
    if (a.status === 204 || a.status === 404) return [];
    this.expectOk(a, 'csrattrs');
    checkMediaType(header(a, 'content-type'), EST_MEDIA_TYPES.csrattrs);
    return parseCsrAttrs(this.body(a));
  }

  /** /serverkeygen (RFC 7030 §4.4): the server makes the key; the CSR carries the subject (its key is ignored). */
  async serverkeygen(csr: CertificationRequest | Uint8Array | string): Promise<ServerKeygenResult> {
    const parsed = toCsr(csr);
    const a = await this.withRetry('serverkeygen', parsed);
    const r = parseServerKeygenResponse(header(a, 'content-type'), a.body, {
      maxBytes: this.opts.maxResponseBytes ?? DEFAULT_MAX_BODY_BYTES,
    });
    const certificates = r.parsed.certificates;
    if (certificates.length === 0)
      throw new EstError('no-certificate', '/serverkeygen returned no certificate');
    return { privateKey: r.privateKey, certificate: certificates[0]!, certificates };
  }

  private async enroll(
    op: 'simpleenroll' | 'simplereenroll',
    csr: CertificationRequest | Uint8Array | string,
  ): Promise<EnrollResult> {
    const parsed = toCsr(csr);
    const a = await this.withRetry(op, parsed);
    checkMediaType(header(a, 'content-type'), EST_MEDIA_TYPES.certsOnly);
    const certificates = parseCertsOnly(this.body(a)).certificates;
    // RFC 7030 §4.2.3: the answer holds the issued certificate; some servers add the chain.
    const certificate = certificates.find((c) =>
      bytesEqual(c.subjectPublicKeyInfo.der, parsed.subjectPublicKeyInfo.der),
    );
    if (!certificate)
      throw new EstError(
        'no-certificate',
        `/${op} returned ${certificates.length} certificate(s), none for the CSR's key`,
      );
    return { certificate, certificates };
  }

  /** POSTs the CSR; repeats it after each 202's Retry-After while `maxWaitMs` allows (RFC 7030 §4.2.3). */
  private async withRetry(
    op: 'simpleenroll' | 'simplereenroll' | 'serverkeygen',
    csr: CertificationRequest,
  ): Promise<HttpAnswer> {
    const body = encodeBase64Body(csr.der);
    const deadline = Date.now() + (this.opts.maxWaitMs ?? 0);
    for (let attempt = 0; ; attempt++) {
      const a = await this.send(op, 'POST', body);
      if (a.status !== 202) {
        this.expectOk(a, op);
        return a;
      }
      const wait = retryAfterSeconds(header(a, 'retry-after'));
      const left = deadline - Date.now();
      if (wait * 1000 > left || attempt >= 1000)
        throw new EstError('pending', `/${op}: the request awaits approval; retry after ${wait} s`, {
          status: 202,
          retryAfter: wait,
        });
      await sleep(wait * 1000, this.opts.signal);
    }
  }

  private expectOk(a: HttpAnswer, op: string): void {
    if (a.status === 200) return;
    const detail = errorDetail(a);
    const msg = `/${op}: HTTP ${a.status}${detail ? `: ${detail}` : ''}`;
    const code =
      a.status === 400
        ? 'bad-request'
        : a.status === 401
          ? 'unauthorized'
          : a.status === 403
            ? 'forbidden'
            : a.status === 404
              ? 'not-found'
              : 'http-status';
    throw new EstError(code, msg, { status: a.status });
  }

  private body(a: HttpAnswer): Uint8Array {
    return decodeBase64Body(a.body, { maxBytes: this.opts.maxResponseBytes ?? DEFAULT_MAX_BODY_BYTES });
  }

  private send(op: Operation, method: 'GET' | 'POST', body?: string): Promise<HttpAnswer> {
    const url = this.operationUrl(op);
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = EST_MEDIA_TYPES.pkcs10;
    if (this.opts.basic) {
      const { username, password } = this.opts.basic;
      if (username.includes(':'))
        throw new EstError('bad-input', 'an HTTP Basic user name cannot contain ":" (RFC 7617 §2)');
      headers.authorization = `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
    }
    const max = this.opts.maxResponseBytes ?? DEFAULT_MAX_BODY_BYTES;
    // base64 text of a `max`-byte DER body, with line breaks.
    const maxText = Math.ceil((max * 4) / 3) + Math.ceil(max / 24) + 1024;
    const timeoutMs = this.opts.timeoutMs ?? 30_000;
    return new Promise<HttpAnswer>((resolve, reject) => {
      const req = httpsRequest(
        url,
        { method, headers, agent: this.agent, signal: this.opts.signal },
        (res) => {
          const chunks: Buffer[] = [];
          let n = 0;
          res.on('data', (c: Buffer) => {
            n += c.length;
            if (n > maxText) {
              req.destroy();
              reject(new EstError('too-large', `/${op}: answer larger than ${maxText} bytes`));
              return;
            }
            chunks.push(c);
          });
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: new Uint8Array(Buffer.concat(chunks)),
            }),
          );
          res.on('error', (e) => reject(transportError(op, e)));
        },
      );
      req.setTimeout(timeoutMs, () =>
        req.destroy(new EstError('timeout', `/${op}: no answer within ${timeoutMs} ms`)),
      );
      req.on('error', (e) => reject(transportError(op, e)));
      req.end(body);
    });
  }
}

function toCsr(csr: CertificationRequest | Uint8Array | string): CertificationRequest {
  if (typeof csr !== 'string' && !(csr instanceof Uint8Array)) return csr;
  try {
    return parseCsr(csr);
  } catch (e) {
    throw new EstError('bad-input', `not a CSR: ${(e as Error).message}`, { cause: e });
  }
}

function header(a: HttpAnswer, name: string): string | undefined {
  const v = a.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** RFC 9110 §10.2.3: delay-seconds or an HTTP-date; missing or unreadable → 60 s. */
export function retryAfterSeconds(v: string | undefined, now = Date.now()): number {
  if (v === undefined) return 60;
  const t = v.trim();
  if (/^\d{1,9}$/.test(t)) return Number(t);
  const d = Date.parse(t);
  return Number.isFinite(d) ? Math.max(0, Math.ceil((d - now) / 1000)) : 60;
}

/** A short, printable excerpt of an error answer (problem+json `detail` when present). */
function errorDetail(a: HttpAnswer): string {
  const text = Buffer.from(a.body.subarray(0, 2048)).toString('utf8');
  try {
    const j = JSON.parse(text) as { detail?: unknown; code?: unknown; title?: unknown };
    const parts = [j.code, j.detail ?? j.title].filter((x) => typeof x === 'string');
    if (parts.length) return parts.join(': ').slice(0, 200);
  } catch {}
  return text
    .replace(/[^\x20-\x7e]+/g, ' ')
    .trim()
    .slice(0, 200);
}

function transportError(op: string, e: unknown): EstError {
  if (e instanceof EstError) return e;
  if (e instanceof MtlsError) {
    if (e.code === 'timeout') return new EstError('timeout', `/${op}: ${e.message}`, { cause: e });
    if (
      e.code === 'handshake-failed' &&
      /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH/.test(String((e.cause as Error)?.message ?? e.message))
    )
      return new EstError('network', `/${op}: ${e.message}`, { cause: e });
    return new EstError('tls', `/${op}: ${e.message}`, { cause: e });
  }
  const err = e as NodeJS.ErrnoException;
  if (err?.name === 'AbortError') return new EstError('timeout', `/${op}: aborted`, { cause: e });
  // After a TLS 1.3 handshake the server may still refuse our certificate: the request then dies
  // with a reset or an early close (RFC 8446 §4.4.2; see mtls/server.ts).
  if (err?.code === 'ECONNRESET' || /socket hang up/.test(err?.message ?? ''))
    return new EstError(
      'tls',
      `/${op}: the server closed the connection (our certificate may have been refused): ${err.message}`,
      { cause: e },
    );
  return new EstError('network', `/${op}: ${err?.message ?? String(e)}`, { cause: e });
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new EstError('timeout', 'aborted'));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new EstError('timeout', 'aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
