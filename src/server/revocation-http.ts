import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Authority } from '../ca/authority.js';
import type { UrlConfig } from '../ca/config.js';
import { CaError } from '../ca/errors.js';
import { registerCrlRoutes } from './crl.js';
import { toProblem } from './errors.js';
import type { ServiceMetrics } from './metrics.js';
import { registerOcspRoutes } from './ocsp.js';
import { authorityCrls } from './routes/public.js';

/**
 * The plain-HTTP revocation listener (`serve --revocation-port N`): ONLY the public revocation
 * endpoints — `POST /ocsp`, `GET /ocsp/<base64>` (RFC 6960 Appendix A, RFC 5019 §5 caching),
 * `GET /crl/<issuer>.crl|.pem` and `GET /ca/<issuer>.crt|chain.pem` — for relying parties that fetch
 * revocation data over HTTP (OpenSSL's `openssl ocsp`, Mosquitto, device stacks). RFC 5019 §5 and
 * RFC 5280 §4.2.1.13/§4.2.2.1 use http: URLs on purpose: fetching revocation status over HTTPS
 * would need a revocation check of the HTTPS server's own certificate first (a circular
 * dependency), and the answers are signed objects that need no channel protection. Nothing else —
 * no admin API, no EST — is reachable on this port.
 *
 * The listener binds before the Authority opens (`bind`), so that with port 0 the URLs written
 * into certificates (`urlsFor`) name the port actually bound.
 */
export class RevocationListener {
  private app?: FastifyInstance;

  private constructor(
    private readonly server: Server,
    readonly host: string,
    readonly port: number,
  ) {}

  /** Binds `host:port` (0: a free port) without serving yet. */
  static async bind(host: string, port: number): Promise<RevocationListener> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new RevocationListener(server, host, (server.address() as AddressInfo).port);
  }

  /** `http://host:port` (IPv6 in brackets). */
  get url(): string {
    const h = this.host.includes(':') ? `[${this.host}]` : this.host === '0.0.0.0' ? '127.0.0.1' : this.host;
    return `http://${h}:${this.port}`;
  }

  /** The CA's URLs with this listener's OCSP and CRL endpoints, unless the config names its own. */
  urlsFor(urls: UrlConfig): UrlConfig {
    if (urls.base || urls.crl.length || urls.ocsp.length) return urls;
    return { base: this.url, crl: [`${this.url}/crl/{issuer}.crl`], ocsp: [`${this.url}/ocsp`] };
  }

  /** Starts answering with the Authority's OCSP responder and CRLs. */
  async serve(ca: Authority, metrics?: ServiceMetrics): Promise<void> {
    const app = Fastify({
      serverFactory: (handler) => {
        this.server.on('request', handler);
        return this.server;
      },
      bodyLimit: 16 * 1024,
      requestTimeout: 10_000,
      keepAliveTimeout: 5_000,
      routerOptions: { ignoreTrailingSlash: false, maxParamLength: 256 },
    }) as unknown as FastifyInstance;
    app.setErrorHandler((err, req, reply) => {
      const p = toProblem(err, req.id);
      return reply.code(p.status).type('application/problem+json').send(p.body);
    });
    app.setNotFoundHandler(async () => {
      throw new CaError('not-found', 'only /ocsp, /crl/… and /ca/… are served here');
    });
    app.get<{ Params: { issuer: string } }>('/ca/:issuer/chain.pem', async (req, reply) => {
      const id = req.params.issuer;
      if (!ca.issuers().some((i) => i.id === id))
        throw new CaError('not-found', `no issuer ${id.slice(0, 64)}`);
      return reply.type('application/pem-certificate-chain').send(ca.chainPem(id));
    });
    await registerCrlRoutes(app, { publisher: authorityCrls(ca) });
    await registerOcspRoutes(app, {
      responder: await ca.ocspResponder(),
      onAnswer: metrics ? (status, source) => metrics.ocspAnswer(status, source) : undefined,
    });
    await app.ready();
    this.app = app;
  }

  async close(): Promise<void> {
    // Fastify does not close a server it did not listen on itself (serverFactory).
    await this.app?.close();
    if (!this.server.listening) return;
    this.server.closeIdleConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
