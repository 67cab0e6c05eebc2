import '../crypto/index.js'; // installs the node:crypto provider for library users of Service
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { DestinationStream, Logger } from 'pino';
import { Authority } from '../ca/authority.js';
import { type CaConfig, loadConfig, parseConfig } from '../ca/config.js';
import { countingSigners } from '../ca/counting-signer.js';
import { CaError } from '../ca/errors.js';
import { KeyStore } from '../ca/keys.js';
import {
  PASSPHRASE_ENV,
  PKCS11_PIN_ENV,
  passphraseFile,
  readSecretFile,
  resolvePassphrase,
} from '../ca/secrets.js';
import { openStore, parseStoreUrl } from '../ca/store/index.js';
import type { Store } from '../ca/store/types.js';
import { VerifyPool } from '../crypto/verify-pool.js';
import type { EstServer } from '../est/server.js';
import { type AdminCredential, checkAdminFiles, ensureAdminCredential } from './admin-credential.js';
import { buildServiceApp, type ServiceApp, type ServiceAppOptions } from './app.js';
import { estExtension } from './est.js';
import { PUBLIC_MODE, writeFileAtomic } from './files.js';
import { createLogger, redactUrl, SecretSet } from './logging.js';
import { ServiceMetrics } from './metrics.js';
import { RevocationListener } from './revocation-http.js';
import { CertificateRenewal, DEFAULT_TLS_NAMES, issueServiceCertificate } from './service-tls.js';

/**
 * `fleetpki serve` as a library: opens (or on first start creates) the CA in a data directory and
 * serves it over HTTPS — the composition of the store, the key store, the Authority, the admin
 * credential, the service's TLS certificate and the fastify application.
 *
 *   const svc = await Service.start({ dataDir: './fleetpki-data', port: 8443 });
 *   console.log(svc.url);            // https://127.0.0.1:8443
 *   await svc.close();               // stops accepting, finishes in-flight requests, closes the store
 *
 * Data directory layout: `fleetpki.db` (the SQLite store, unless `db` names another),
 * `keys/` (encrypted CA keys), `secrets/passphrase` (only when generated on a first start),
 * `admin/` (admin credential, 0600), `ca/root.pem` and `ca/chain.pem` (public, written each start).
 *
 * Start refuses (`CaError('key-file-permissions')`) when a key or secret file is accessible by
 * group or others. Extensions (EST routes, MQTT provisioning) plug in through `extensions`.
 */
export interface ServiceOptions {
  /** Default `./fleetpki-data`. */
  dataDir?: string;
  /** Default 8443; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Store URL; default `DATABASE_URL`, else `sqlite:DATA/fleetpki.db`. */
  db?: string;
  /** YAML/JSON configuration file (ca/config.ts); or `config` already parsed. */
  configFile?: string;
  config?: CaConfig;
  /** A file holding the CA key passphrase (0600); default: `FLEETPKI_PASSPHRASE`, `DATA/secrets/passphrase`, or generated. */
  passphraseFile?: string;
  /**
   * First start only: import an existing root instead of generating one — its certificate file and
   * its key (a key file, re-encrypted into DATA/keys, or an RFC 7512 `pkcs11:` URI whose PIN comes
   * from `FLEETPKI_PKCS11_PIN`). Ignored when the store already holds a CA.
   */
  importRoot?: { certificate: string; key: string };
  /** Names in the TLS certificate; default `localhost`, `127.0.0.1`. */
  tlsNames?: readonly string[];
  logLevel?: string;
  /** Where logs go (default stderr). */
  logDestination?: DestinationStream;
  env?: NodeJS.ProcessEnv;
  version?: string;
  /** More routes or background services mounted into the service. */
  extensions?: readonly ServiceExtension[];
  /** EST (RFC 7030) under `/.well-known/est/` (est.ts): `on` by default. */
  est?: 'on' | 'off';
  /**
   * Also serve OCSP, CRLs and CA certificates over plain HTTP on this port (revocation-http.ts;
   * 0 picks a free one), on `host`; certificates then carry its URLs unless the config names others.
   */
  revocationPort?: number;
  /** Fastify limits (see ServiceAppOptions). */
  limits?: Pick<
    ServiceAppOptions,
    'bodyLimit' | 'requestTimeoutMs' | 'handlerTimeoutMs' | 'keepAliveTimeoutMs'
  >;
}

/**
 * Something mounted into the service: EST routes (`/.well-known/est/…`), MQTT provisioning
 * (`serve --mqtt`), the dashboard's assets. `register` runs before the server listens; `start`
 * after; `close` during shutdown, before the Authority and store close.
 */
export interface ServiceExtension {
  name: string;
  register?(app: ServiceApp['app'], ctx: ExtensionContext & { auth: ServiceApp['auth'] }): Promise<void>;
  start?(ctx: ExtensionContext): Promise<void>;
  close?(): Promise<void>;
}

export interface ExtensionContext {
  authority: Authority;
  metrics: ServiceMetrics;
  logger: Logger;
  dataDir: string;
  secrets: SecretSet;
}

export class Service {
  private closing?: Promise<void>;

  private constructor(
    readonly dataDir: string,
    readonly authority: Authority,
    readonly store: Store,
    private readonly keys: KeyStore,
    readonly server: ServiceApp,
    readonly logger: Logger,
    readonly metrics: ServiceMetrics,
    readonly admin: AdminCredential,
    readonly url: string,
    readonly port: number,
    readonly storeDescription: string,
    readonly created: boolean,
    private readonly renewal: CertificateRenewal,
    private readonly extensions: readonly ServiceExtension[],
    /** Signatures made with CA keys by this process (for tests and metrics). */
    readonly signatures: () => number,
    /** Where the passphrase came from (`generated` must be said loudly). */
    readonly passphraseSource: string,
    readonly passphrasePath: string | undefined,
    /** The EST server (undefined with `est: 'off'`). */
    readonly est: EstServer | undefined,
    /** The plain-HTTP revocation listener (with `revocationPort`). */
    readonly revocation: RevocationListener | undefined,
    private readonly crypto: VerifyPool,
  ) {}

  get rootPath(): string {
    return join(this.dataDir, 'ca', 'root.pem');
  }

  get chainPath(): string {
    return join(this.dataDir, 'ca', 'chain.pem');
  }

  static async start(o: ServiceOptions = {}): Promise<Service> {
    // Until the HTTPS server holds the process open, a step that waits only on an unref'd handle
    // would let the event loop run dry and node exit 0 in silence half-way through starting (seen
    // once: most likely a verification posted to a VerifyPool thread whose end it had missed).
    const starting = setInterval(() => {}, 1 << 30);
    try {
      return await Service.open(o);
    } finally {
      clearInterval(starting);
    }
  }

  private static async open(o: ServiceOptions): Promise<Service> {
    const env = o.env ?? process.env;
    const dataDir = resolve(o.dataDir ?? 'fleetpki-data');
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const secrets = new SecretSet();

    const dbUrl = o.db ?? env.DATABASE_URL ?? `sqlite:${join(dataDir, 'fleetpki.db')}`;
    addUrlSecrets(secrets, dbUrl);
    // A passphrase is generated only for a store without a CA: one made by `fleetpki ca init` (or
    // an earlier start) has keys that a new passphrase could not open, so its absence is an error.
    const passphrase = o.passphraseFile
      ? { passphrase: readPassphraseFile(o.passphraseFile), source: 'file', path: o.passphraseFile }
      : resolvePassphrase({
          dataDir,
          env,
          generate: !env[PASSPHRASE_ENV] && !existsSync(passphraseFile(dataDir)) && !(await holdsCa(dbUrl)),
        });
    secrets.add(passphrase.passphrase);
    secrets.add(env[PKCS11_PIN_ENV]);
    const log = createLogger({ level: o.logLevel, secrets, destination: o.logDestination });

    let config = o.config ?? (o.configFile ? loadConfig(o.configFile) : parseConfig({}));
    const revocation =
      o.revocationPort === undefined
        ? undefined
        : await RevocationListener.bind(o.host ?? '127.0.0.1', o.revocationPort);
    if (revocation) config = { ...config, urls: revocation.urlsFor(config.urls) };
    const counter = countingSigners();
    const metrics = new ServiceMetrics({ signatures: counter.total });
    const where = parseStoreUrl(dbUrl);
    const storeDescription =
      where.kind === 'sqlite'
        ? `sqlite ${isAbsolute(where.path) ? where.path : resolve(where.path)}`
        : `postgres ${redactUrl(where.url)}`;

    // Refuse before anything is opened or written: key and secret files must be owner-only.
    checkAdminFiles(dataDir);
    const keys = await KeyStore.open({
      dataDir,
      passphrase: passphrase.passphrase,
      env,
      wrapSigner: counter.wrap,
    });
    let rawStore: Store | undefined;
    const extensionsMade: ServiceExtension[] = [];
    let authority: Authority | undefined;
    // CSR proof-of-possession and new-signature checks run on worker threads, off the event loop.
    const crypto = await VerifyPool.start();
    try {
      rawStore = await openStore(dbUrl);
      const store = metrics.instrumentStore(rawStore);
      const init = await Authority.init({
        store,
        keys,
        config,
        logger: log.child({ component: 'ca' }),
        crypto,
        root: o.importRoot
          ? {
              certificate: readFileSync(o.importRoot.certificate),
              key: o.importRoot.key.startsWith('pkcs11:')
                ? { pkcs11: o.importRoot.key }
                : { file: o.importRoot.key },
            }
          : undefined,
      });
      authority = init.authority;
      const ca = authority;

      mkdirSync(join(dataDir, 'ca'), { recursive: true, mode: 0o755 });
      writeFileAtomic(join(dataDir, 'ca', 'root.pem'), ca.rootCertificate().toPem(), PUBLIC_MODE);
      writeFileAtomic(join(dataDir, 'ca', 'chain.pem'), ca.chainPem(), PUBLIC_MODE);

      metrics.gauge(
        'fleetpki_requests_in_flight',
        'Authority operations in progress (issuances, revocations, …)',
        () => ca.inFlight,
      );
      const admin = await ensureAdminCredential(ca, dataDir, log.child({ component: 'admin' }));
      secrets.add(admin.token);
      secrets.add(admin.p12Password);
      log.debug({}, 'startup: admin credential ready');

      const names = o.tlsNames?.length ? o.tlsNames : DEFAULT_TLS_NAMES;
      const tls = await issueServiceCertificate(ca, names);
      log.debug({ serial: tls.serialHex }, 'startup: TLS certificate issued');
      const est = o.est === 'off' ? undefined : estExtension();
      const extensions = [...(est ? [est] : []), ...(o.extensions ?? [])];
      extensionsMade.push(...extensions);
      const ctx: ExtensionContext = { authority: ca, metrics, logger: log, dataDir, secrets };
      const server = await buildServiceApp({
        authority: ca,
        metrics,
        logger: log,
        tls,
        version: o.version ?? '0.0.0',
        ...(o.limits ?? {}),
        extensions: extensions
          .filter((e) => e.register)
          .map((e) => (app, c) => e.register!(app, { ...ctx, auth: c.auth })),
      });
      log.debug({}, 'startup: app built');
      const renewal = new CertificateRenewal(ca, names, tls, (c) => server.setCertificate(c), log);
      const host = o.host ?? '127.0.0.1';
      await server.app.listen({ port: o.port ?? 8443, host });
      const addr = server.app.server.address();
      const port = typeof addr === 'object' && addr ? addr.port : (o.port ?? 8443);
      const shown =
        host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
      log.debug({ port }, 'startup: HTTPS port bound');
      renewal.start();
      await revocation?.serve(ca, metrics);
      for (const e of extensions) await e.start?.(ctx);
      log.info({ port, host, store: storeDescription, created: init.created }, 'service listening');
      return new Service(
        dataDir,
        ca,
        rawStore,
        keys,
        server,
        log,
        metrics,
        admin,
        `https://${shown}:${port}`,
        port,
        storeDescription,
        init.created,
        renewal,
        extensions,
        counter.total,
        passphrase.source,
        passphrase.path,
        est?.server(),
        revocation,
        crypto,
      );
    } catch (e) {
      for (const x of extensionsMade) await x.close?.().catch(() => undefined);
      await revocation?.close().catch(() => undefined);
      await authority?.close().catch(() => undefined);
      keys.close();
      await crypto.close();
      await rawStore?.close().catch(() => undefined);
      log.flush?.();
      throw e;
    }
  }

  /** Renews the service's TLS certificate now (what the timer does at two thirds of its lifetime). */
  async renewTlsCertificate(): Promise<{ serialHex: string; notAfter: number }> {
    const c = await this.renewal.renew();
    return { serialHex: c.serialHex, notAfter: c.notAfter };
  }

  /**
   * Stops the service: `/healthz` turns 503, no new connections are accepted, requests in flight
   * (issuances included) are finished, idle keep-alive connections closed; then extensions, the
   * Authority, keys and store are closed. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.server.beginClose();
      this.renewal.stop();
      await this.server.app.close();
      await this.revocation?.close().catch(() => undefined);
      for (const e of this.extensions) await e.close?.().catch(() => undefined);
      await this.authority.close();
      await this.crypto.close();
      this.keys.close();
      await this.store.close();
      this.logger.info({}, 'service stopped');
      this.logger.flush?.();
    })();
    return this.closing;
  }

  /** The startup summary: what is served where, and where the admin credential and root are. */
  summary(): string {
    const u = this.url;
    const a = this.admin;
    const issuers = this.authority
      .issuers()
      .filter((i) => i.status !== 'retired')
      .map((i) => i.id);
    const lines = [
      `fleetpki serve: CA service on ${u} (${this.created ? 'new CA created' : 'existing CA'}; store: ${this.storeDescription})`,
      `  root certificate   ${this.rootPath}`,
      `  CA chain           ${u}/ca/chain.pem   (also ${this.chainPath})`,
      `  CRLs               ${u}/crl/<issuer>.crl   (issuers: ${issuers.join(', ')})`,
      `  OCSP               ${u}/ocsp${this.revocation ? `   (plain HTTP: ${this.revocation.url}/ocsp, ${this.revocation.url}/crl/<issuer>.crl)` : ''}`,
      ...(this.est
        ? [
            `  EST                ${u}/.well-known/est/   (labels: ${Object.keys(this.est.config.labels).join(', ')})`,
          ]
        : []),
      `  health, metrics    ${u}/healthz   ${u}/metrics`,
      `  admin API          ${u}/api/v1/   (admin client certificate or bearer token)`,
      `  admin credential   certificate ${a.certPath}`,
      `                     key         ${a.keyPath}`,
      `                     PKCS#12     ${a.p12Path}   (password in ${a.p12PasswordPath})`,
      `                     bearer token in ${a.tokenPath}   (files 0600${a.created.certificate || a.created.token ? '; created now' : ''})`,
    ];
    if (this.passphraseSource === 'generated')
      lines.push(
        `  CA key passphrase  generated into ${this.passphrasePath} (0600): whoever can read it can use the CA keys;`,
        '                     move it to a secret store and pass --passphrase-file or FLEETPKI_PASSPHRASE',
      );
    lines.push(
      `  try                curl --cacert ${this.rootPath} -H "Authorization: Bearer $(cat ${a.tokenPath})" ${u}/api/v1/cas`,
    );
    return `${lines.join('\n')}\n`;
  }
}

/**
 * Whether the store at `url` already holds a CA, without creating anything: a SQLite file that does
 * not exist holds none; otherwise the store is opened and asked.
 */
async function holdsCa(url: string): Promise<boolean> {
  const where = parseStoreUrl(url);
  if (where.kind === 'sqlite' && !existsSync(where.path)) return false;
  const store = await openStore(url, { sqlite: { writer: 'inline' } });
  try {
    return (await store.listIssuers()).length > 0;
  } finally {
    await store.close();
  }
}

/** Reads `--passphrase-file` (owner-only, `key-file-permissions` otherwise). */
function readPassphraseFile(path: string): string {
  const p = readSecretFile(path);
  if (p === undefined) throw new CaError('passphrase-required', `passphrase file ${path} does not exist`);
  if (p.length === 0) throw new CaError('passphrase-required', `passphrase file ${path} is empty`);
  return p;
}

/** The password of a store URL (and the whole URL) are secrets for the logs. */
function addUrlSecrets(secrets: SecretSet, url: string): void {
  try {
    const u = new URL(url);
    if (u.password) {
      secrets.add(u.password);
      secrets.add(decodeURIComponent(u.password));
    }
    const pw = u.searchParams.get('password');
    if (pw) secrets.add(pw);
  } catch {
    // not a URL (a SQLite path): nothing secret in it
  }
}
