/**
 * `fleetpki serve [--data DIR] [--port N] [--host ADDR] [--db URL] [--config FILE]
 *                 [--passphrase-file F] [--tls-names LIST] [--root-cert F --root-key F|URI] [--log-level L]
 *                 [--revocation-port N] [--broker-config DIR] [--mqtt mqtts://HOST:PORT [--mqtt-ca F]]`
 *
 * The CA service (src/server/service.ts): embedded SQLite under DATA unless `--db`/`DATABASE_URL`
 * names a PostgreSQL database; the first start creates the CA hierarchy and an admin credential.
 * HTTPS only; with --mqtt, also fleet provisioning over MQTT on that broker (server/provisioning.ts).
 * Prints what it serves and where on stdout (logs are JSON lines on stderr), runs
 * until SIGTERM/SIGINT, then stops accepting, finishes requests in flight, closes the store and
 * exits 0.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { CaError } from '../ca/errors.js';
import { StoreError } from '../ca/store/types.js';
import { brokerCrlExtension } from '../server/broker.js';
import { dashboardExtension } from '../server/dashboard/index.js';
import { provisioningExtension } from '../server/provisioning.js';
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
  mqttCa?: string;
  brokerConfig?: string;
  revocationPort?: string;
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
  if (o.mqtt !== undefined && !/^mqtts:\/\/[^\s/:]+:[0-9]{1,5}\/?$/.test(o.mqtt))
    throw new CliError(`--mqtt must be mqtts://HOST:PORT, got "${o.mqtt}"`);
  if (o.mqttCa !== undefined && o.mqtt === undefined) throw new CliError('--mqtt-ca goes with --mqtt');
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
      // A CA directory made by `fleetpki ca init` keeps its configuration beside the store.
      configFile:
        o.config ?? (existsSync(join(o.data, 'config.yaml')) ? join(o.data, 'config.yaml') : undefined),
      passphraseFile: o.passphraseFile,
      tlsNames: o.tlsNames
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      logLevel: o.logLevel,
      importRoot: o.rootCert && o.rootKey ? { certificate: o.rootCert, key: o.rootKey } : undefined,
      revocationPort: o.revocationPort === undefined ? undefined : port(o.revocationPort),
      version,
      extensions: [
        // The web dashboard at / (FLEETPKI_DASHBOARD_DIR: serve another build, e.g. a test's).
        dashboardExtension({ assetsDir: process.env.FLEETPKI_DASHBOARD_DIR || undefined }),
        ...(o.brokerConfig ? [brokerCrlExtension(o.brokerConfig)] : []),
        ...(o.mqtt ? [provisioningExtension({ url: o.mqtt, brokerCaFile: o.mqttCa })] : []),
      ],
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
    .option(
      '--config <file>',
      'CA configuration (YAML or JSON): hierarchy, profiles, URLs (default DATA/config.yaml if present)',
    )
    .option('--passphrase-file <file>', 'file holding the CA key passphrase (mode 0600)')
    .option('--tls-names <list>', 'names in the service certificate (comma-separated)', 'localhost,127.0.0.1')
    .option('--root-cert <file>', 'first start: import this root certificate instead of generating a root')
    .option('--root-key <file|uri>', "first start: the imported root's key (a key file, or a pkcs11: URI)")
    .option('--log-level <level>', 'log level of the JSON logs on stderr', 'info')
    .option('--mqtt <url>', 'also run fleet provisioning over MQTT on this broker (mqtts://HOST:PORT)')
    .option('--mqtt-ca <file>', "anchors for the broker's certificate (default: this CA's root)")
    .option(
      '--revocation-port <n>',
      'also serve OCSP and CRLs over plain HTTP on this port (RFC 5019); certificates name it',
    )
    .option(
      '--broker-config <dir>',
      'keep the CRL file of this broker configuration (fleetpki broker-config) fresh',
    )
    .action((o: ServeOptions) => serve(o, version));
}
