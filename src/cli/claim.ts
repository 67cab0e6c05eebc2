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
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { CaError } from '../ca/errors.js';
import { StoreError } from '../ca/store/types.js';
import { createClaims } from '../provision/claim.js';
import { ProvisionError } from '../provision/errors.js';
import { DATA_OPTION_HELP, type DataOptions, openDataAuthority } from './data-authority.js';
import { CliError, EXIT_INPUT, EXIT_NEGATIVE } from './errors.js';
import { checkOutputs, PUBLIC_MODE, SECRET_MODE, writeFilesAtomic } from './pki-files.js';

interface ClaimOptions extends DataOptions {
  label: string;
  count: string;
  validityDays?: string;
  out: string;
  force?: boolean;
  json?: boolean;
}

export function registerClaim(program: Command): void {
  const claim = program.command('claim').description('claim certificates for fleet provisioning over MQTT');
  claim
    .command('create')
    .description('issue claim certificate(s) for a label of the provisioning configuration')
    .option('--data <dir>', DATA_OPTION_HELP.data, 'fleetpki-data')
    .option('--db <url>', DATA_OPTION_HELP.db)
    .option('--config <file>', `${DATA_OPTION_HELP.config}; with its provisioning section`)
    .option('--passphrase-file <file>', DATA_OPTION_HELP.passphraseFile)
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
      // Refuse an existing key before anything is issued.
      mkdirSync(o.out, { recursive: true });
      const names = Array.from({ length: count }, (_, i) => (count === 1 ? 'claim' : `claim-${i + 1}`));
      checkOutputs(
        names.flatMap((n) => [
          { path: join(o.out, `${n}.key`), noClobber: !o.force },
          { path: join(o.out, `${n}.crt`) },
        ]),
      );
      let made: Awaited<ReturnType<typeof createClaims>>;
      const opened = await openDataAuthority(o);
      try {
        made = await createClaims(opened.ca, {
          label: o.label,
          count,
          requester: opened.requester,
          validityDays,
        });
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
      } finally {
        await opened.close();
      }
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
