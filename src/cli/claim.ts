/**
 * `fleetpki claim create [--data DIR] [--db URL] [--config FILE] [--passphrase-file F] --label L
 *   [--count N] [--validity-days D] --out DIR [--force] [--json]`
 *
 * Claim certificates for fleet provisioning over MQTT (src/provision/claim.ts): issued by the CA of
 * the data directory under the `claim` profile, CN `claim-<label>` for a label of the
 * configuration's `provisioning.claims` (the configuration is `--config`, else DATA/config.yaml when
 * present). Writes DIR/claim.crt (the certificate then its chain below the root) and DIR/claim.key
 * (unencrypted PKCS#8, 0600: it goes into device firmware), or DIR/claim-<i>.crt/.key for i = 1..N
 * when N > 1 — all or none, never over an existing key unless --force. Each certificate is
 * revocable like any other (`ca revoke` / the admin API); its serial is printed.
 *
 * Exit: 0 issued, 1 the CA refused, 2 bad input (unknown label, no provisioning section).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { Authority } from '../ca/authority.js';
import { type CaConfig, loadConfig, parseConfig } from '../ca/config.js';
import { CaError } from '../ca/errors.js';
import { KeyStore } from '../ca/keys.js';
import { readSecretFile, resolvePassphrase } from '../ca/secrets.js';
import { openStore } from '../ca/store/index.js';
import { StoreError } from '../ca/store/types.js';
import { createClaims } from '../provision/claim.js';
import { ProvisionError } from '../provision/errors.js';
import { CliError, EXIT_INPUT, EXIT_NEGATIVE } from './errors.js';
import { PUBLIC_MODE, SECRET_MODE, writeFilesAtomic } from './pki-files.js';

interface ClaimOptions {
  data: string;
  db?: string;
  config?: string;
  passphraseFile?: string;
  label: string;
  count: string;
  validityDays?: string;
  out: string;
  force?: boolean;
  json?: boolean;
}

/** The configuration a data directory's service runs with: --config, else DATA/config.yaml, else defaults. */
export function dataDirConfig(dataDir: string, file?: string): CaConfig {
  if (file) return loadConfig(file);
  const f = join(dataDir, 'config.yaml');
  return existsSync(f) ? loadConfig(f) : parseConfig({});
}

/** Opens the Authority of a data directory for one command (no background work); `use` runs with it. */
export async function withAuthority<T>(
  o: { data: string; db?: string; config?: string; passphraseFile?: string },
  use: (ca: Authority) => Promise<T>,
): Promise<T> {
  const config = dataDirConfig(o.data, o.config);
  let passphrase: string;
  if (o.passphraseFile) {
    const p = readSecretFile(o.passphraseFile);
    if (!p) throw new CliError(`passphrase file ${o.passphraseFile} is missing or empty`);
    passphrase = p;
  } else passphrase = resolvePassphrase({ dataDir: o.data }).passphrase;
  const store = await openStore(o.db ?? process.env.DATABASE_URL ?? `sqlite:${join(o.data, 'fleetpki.db')}`);
  let keys: KeyStore | undefined;
  let ca: Authority | undefined;
  try {
    keys = await KeyStore.open({ dataDir: o.data, passphrase });
    ca = await Authority.open({ store, keys, config, background: 'off' });
    return await use(ca);
  } finally {
    await ca?.close();
    keys?.close();
    await store.close();
  }
}

function requester(): string {
  try {
    return `cli:${userInfo().username || 'unknown'}`;
  } catch {
    return 'cli:unknown';
  }
}

export function registerClaim(program: Command): void {
  const claim = program.command('claim').description('claim certificates for fleet provisioning over MQTT');
  claim
    .command('create')
    .description('issue claim certificate(s) for a label of the provisioning configuration')
    .option('--data <dir>', 'data directory of the CA (as fleetpki serve)', 'fleetpki-data')
    .option('--db <url>', 'store URL (default DATABASE_URL, else DATA/fleetpki.db)')
    .option('--config <file>', 'CA configuration with the provisioning section (default DATA/config.yaml)')
    .option(
      '--passphrase-file <file>',
      'CA key passphrase (else FLEETPKI_PASSPHRASE or DATA/secrets/passphrase)',
    )
    .requiredOption('--label <label>', 'claim label (provisioning.claims.<label>); the CN is claim-<label>')
    .option('--count <n>', 'how many claim certificates, each with its own key', '1')
    .option('--validity-days <n>', 'validity (default provisioning.claimValidityDays)')
    .requiredOption('--out <dir>', 'where claim.crt and claim.key (or claim-<i>.*) are written')
    .option('--force', 'replace existing key files')
    .option('--json', 'print a JSON summary')
    .action(async (o: ClaimOptions) => {
      const count = Number(o.count);
      if (!/^[0-9]{1,5}$/.test(o.count) || count < 1 || count > 10_000)
        throw new CliError('--count must be 1 to 10000');
      const validityDays = o.validityDays === undefined ? undefined : Number(o.validityDays);
      if (validityDays !== undefined && !(Number.isInteger(validityDays) && validityDays > 0))
        throw new CliError('--validity-days must be a positive integer');
      let made: Awaited<ReturnType<typeof createClaims>>;
      try {
        made = await withAuthority(o, (ca) =>
          createClaims(ca, { label: o.label, count, requester: requester(), validityDays }),
        );
      } catch (e) {
        if (e instanceof ProvisionError) throw new CliError(e.message, EXIT_INPUT);
        if (e instanceof CaError)
          throw new CliError(
            `${e.code}: ${e.message}`,
            [
              'bad-config',
              'passphrase-required',
              'bad-passphrase',
              'key-file-permissions',
              'no-hierarchy',
            ].includes(e.code)
              ? EXIT_INPUT
              : EXIT_NEGATIVE,
          );
        if (e instanceof StoreError) throw new CliError(`store ${e.code}: ${e.message}`, EXIT_INPUT);
        throw e;
      }
      mkdirSync(o.out, { recursive: true });
      const names = made.map((_, i) => (made.length === 1 ? 'claim' : `claim-${i + 1}`));
      writeFilesAtomic(
        made.flatMap((c, i) => [
          { path: join(o.out, `${names[i]}.key`), data: c.keyPem, mode: SECRET_MODE, noClobber: !o.force },
          { path: join(o.out, `${names[i]}.crt`), data: c.certPem, mode: PUBLIC_MODE },
        ]),
      );
      const rows = made.map((c, i) => ({
        identity: c.identity,
        serial: c.serialHex,
        notAfter: new Date(c.notAfter).toISOString(),
        certificate: join(o.out, `${names[i]}.crt`),
        key: join(o.out, `${names[i]}.key`),
      }));
      if (o.json) process.stdout.write(`${JSON.stringify(rows)}\n`);
      else
        for (const r of rows)
          process.stdout.write(
            `${r.identity} serial ${r.serial} until ${r.notAfter}: ${r.certificate}, ${r.key}\n`,
          );
    });
}
