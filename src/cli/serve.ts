/**
 * `fleetpki serve [--data DIR] [--port N] [--host ADDR] [--db URL] [--config FILE]
 *                 [--passphrase-file F] [--tls-names LIST] [--root-cert F --root-key F|URI] [--log-level L]`
 *
 * The CA service (src/server/service.ts): embedded SQLite under DATA unless `--db`/`DATABASE_URL`
 * names a PostgreSQL database; the first start creates the CA hierarchy and an admin credential.
 * HTTPS only. Prints what it serves and where on stdout (logs are JSON lines on stderr), runs
 * until SIGTERM/SIGINT, then stops accepting, finishes requests in flight, closes the store and
 * exits 0.
 */
import type { Command } from 'commander';
import { CaError } from '../ca/errors.js';
import { StoreError } from '../ca/store/types.js';
import { dashboardExtension } from '../server/dashboard/index.js';
import { Service } from '../server/service.js';
import { CliError, EXIT_INPUT, EXIT_INTERNAL } from './errors.js';

interface ServeOptions {
  data: string;
  port: string;
  host: string;
  db?: string;
  config?: string;
  passphraseFile?: string;
  tlsNames?: string;
  rootCert?: string;
  rootKey?: string;
  logLevel: string;
  mqtt?: string;
}

/** CaError codes that mean "fix your setup" (exit 2) rather than an internal failure. */
const SETUP_CODES = new Set([
  'bad-config',
  'passphrase-required',
  'bad-passphrase',
  'key-file-permissions',
  'key-unavailable',
  'bad-issuer',
]);

function port(text: string): number {
  const n = Number(text);
  if (!/^[0-9]{1,5}$/.test(text) || n > 65535) throw new CliError(`--port must be 0..65535, got "${text}"`);
  return n;
}

async function serve(o: ServeOptions, version: string): Promise<void> {
  if (o.mqtt !== undefined) throw new CliError('--mqtt: MQTT provisioning is not part of this build yet');
  const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
  if (!logLevels.includes(o.logLevel))
    throw new CliError(`--log-level must be one of ${logLevels.join(', ')}, got "${o.logLevel}"`);
  if ((o.rootCert === undefined) !== (o.rootKey === undefined))
    throw new CliError('--root-cert and --root-key go together');
  let svc: Service;
  try {
    svc = await Service.start({
      dataDir: o.data,
      port: port(o.port),
      host: o.host,
      db: o.db,
      configFile: o.config,
      passphraseFile: o.passphraseFile,
      tlsNames: o.tlsNames
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      logLevel: o.logLevel,
      importRoot: o.rootCert && o.rootKey ? { certificate: o.rootCert, key: o.rootKey } : undefined,
      version,
      // The web dashboard at / (FLEETPKI_DASHBOARD_DIR: serve another build, e.g. a test's).
      extensions: [dashboardExtension({ assetsDir: process.env.FLEETPKI_DASHBOARD_DIR || undefined })],
    });
  } catch (e) {
    if (e instanceof CaError)
      throw new CliError(`${e.code}: ${e.message}`, SETUP_CODES.has(e.code) ? EXIT_INPUT : EXIT_INTERNAL);
    if (e instanceof StoreError)
      throw new CliError(`store ${e.code}: ${e.message}`, e.code === 'bad-url' ? EXIT_INPUT : EXIT_INTERNAL);
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE')
      throw new CliError(`port ${o.port} on ${o.host} is already in use (--port 0 picks a free one)`);
    throw e;
  }
  process.stdout.write(svc.summary());
  if (svc.server.app.hasRoute({ method: 'GET', url: '/login' }))
    process.stdout.write(`  dashboard          ${svc.url}/   (sign in with the admin token)\n`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      process.stdout.write(`fleetpki serve: ${signal}: finishing requests in flight, then stopping\n`);
      svc.close().then(resolve, (e) => {
        process.stderr.write(`fleetpki: shutdown failed: ${(e as Error).message}\n`);
        process.exitCode = EXIT_INTERNAL;
        resolve();
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  process.stdout.write('fleetpki serve: stopped\n');
}

export function registerServe(program: Command, version = '0.0.0'): void {
  program
    .command('serve')
    .description('run the CA service (HTTPS): CA chain, CRLs, OCSP, health, metrics, admin API')
    .option('--data <dir>', 'data directory (store, keys, admin credential)', 'fleetpki-data')
    .option('--port <n>', 'TCP port (0 picks a free one)', '8443')
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option(
      '--db <url>',
      'store URL: sqlite:PATH or postgres://… (default DATABASE_URL, else DATA/fleetpki.db)',
    )
    .option('--config <file>', 'CA configuration (YAML or JSON): hierarchy, profiles, URLs')
    .option('--passphrase-file <file>', 'file holding the CA key passphrase (mode 0600)')
    .option('--tls-names <list>', 'names in the service certificate (comma-separated)', 'localhost,127.0.0.1')
    .option('--root-cert <file>', 'first start: import this root certificate instead of generating a root')
    .option('--root-key <file|uri>', "first start: the imported root's key (a key file, or a pkcs11: URI)")
    .option('--log-level <level>', 'log level of the JSON logs on stderr', 'info')
    .option('--mqtt <url>', 'also run fleet provisioning over MQTT on this broker (mqtts://HOST:PORT)')
    .action((o: ServeOptions) => serve(o, version));
}
