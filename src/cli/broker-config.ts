/**
 * `fleetpki broker-config [--data DIR] --out DIR [--port N] [--host ADDR] [--names LIST]` — a
 * ready Mosquitto configuration from the CA (src/server/broker.ts): a server certificate the CA
 * issues for the broker, the mTLS listener (`require_certificate true`, `use_identity_as_username
 * true`, `cafile` = the root), the CRL file, the ACL (each device its own `devices/<CN>/#` tree;
 * claim identities their provisioning topics) and a pid file. `mosquitto -c DIR/mosquitto.conf`
 * runs it as is; `fleetpki serve --broker-config DIR` keeps its CRL file fresh.
 */
import type { Command } from 'commander';
import type { CaConfig } from '../ca/config.js';
import { MtlsError } from '../mtls/errors.js';
import { writeCaBrokerConfig } from '../server/broker.js';
import { DATA_OPTION_HELP, type DataOptions, openDataAuthority } from './data-authority.js';
import { CliError, EXIT_INPUT } from './errors.js';

interface BrokerOptions extends DataOptions {
  out: string;
  port: string;
  host: string;
  names: string;
}

/**
 * The claim identities whose provisioning-topic ACL sections go into the broker configuration: the
 * labels of the configuration's `provisioning.claims` (writeCaBrokerConfig then writes the whole
 * provisioning layout: src/provision/acl.ts).
 */
export function claimIdentities(config: CaConfig): string[] {
  return Object.values(config.provisioning?.claims ?? {}).map((c) => c.identity);
}

async function brokerConfig(o: BrokerOptions): Promise<void> {
  const port = Number(o.port);
  if (!/^[0-9]{1,5}$/.test(o.port) || port < 1 || port > 65535)
    throw new CliError(`--port must be 1..65535, got "${o.port}"`, EXIT_INPUT);
  const opened = await openDataAuthority(o);
  try {
    const files = await writeCaBrokerConfig(opened.ca, {
      dir: o.out,
      port,
      host: o.host,
      names: o.names
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      requester: opened.requester,
      claimIdentities: claimIdentities(opened.config),
    });
    process.stdout.write(
      [
        `broker configuration in ${files.conf}`,
        `  listener      ${o.host}:${port} (mutual TLS; username = certificate CN)`,
        `  certificate   ${files.cert} (serial ${files.serialHex}), key ${files.key} (0600)`,
        `  client CAs    ${files.cafile}`,
        `  CRLs          ${files.crlfile}   (kept fresh by: fleetpki serve --data ${o.data} --broker-config ${o.out})`,
        `  ACL           ${files.acl}`,
        `run: mosquitto -c ${files.conf}`,
        '',
      ].join('\n'),
    );
  } catch (e) {
    if (e instanceof MtlsError) throw new CliError(e.message, EXIT_INPUT);
    throw e;
  } finally {
    await opened.close();
  }
}

export function registerBrokerConfig(program: Command): void {
  program
    .command('broker-config')
    .description('write a Mosquitto mTLS configuration from the CA (certificate, CA file, CRL file, ACL)')
    .requiredOption('--out <dir>', 'output directory')
    .option('--port <n>', 'listener port', '8883')
    .option('--host <addr>', 'listener address', '127.0.0.1')
    .option('--names <list>', "names in the broker's certificate (comma-separated)", 'localhost,127.0.0.1')
    .option('--data <dir>', DATA_OPTION_HELP.data, 'fleetpki-data')
    .option('--db <url>', DATA_OPTION_HELP.db)
    .option('--config <file>', DATA_OPTION_HELP.config)
    .option('--passphrase-file <file>', DATA_OPTION_HELP.passphraseFile)
    .action((o: BrokerOptions) => brokerConfig(o));
}
