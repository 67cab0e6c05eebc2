/**
 * `fleetpki crl create --dir DIR [--issuer intermediate|root] [--out FILE] [--days N] [--json]`
 *
 * Publishes a v2 CRL for one issuer of a CA directory through the Authority, exactly as `serve`
 * publishes it: every certificate of that issuer revoked in the store (on hold included), with
 * its reasonCode; cRLNumber from the store's atomic counter, so numbers strictly increase even
 * when several commands (or `serve` instances) publish at once (RFC 5280 §5.2.3); thisUpdate
 * backdated 5 minutes for relying parties with slow clocks, nextUpdate now + N days (default 7,
 * at most 366). The CRL is stored (and audited) before it is written to DIR/<issuer>.crl (PEM)
 * or --out; the signature is checked before anything is written.
 */

import { join } from 'node:path';
import { type Command, Option } from 'commander';
import { encodePem } from '../pem/pem.js';
import { parseCrl } from '../x509/crl.js';
import { CaDir, caCliError } from './ca-dir.js';
import { CliError } from './errors.js';
import { checkOutputs, PUBLIC_MODE, writeFilesAtomic } from './pki-files.js';

interface CrlOptions {
  dir: string;
  db?: string;
  issuer: string;
  out?: string;
  days: string;
  passphraseFile?: string;
  json?: boolean;
}

const DAY_SECONDS = 86_400;
/** ca/config.ts caps a CRL's validity at 366 days. */
const MAX_DAYS = 366;

async function create(o: CrlOptions): Promise<void> {
  if (o.issuer !== 'intermediate' && o.issuer !== 'root')
    throw new CliError(`--issuer must be intermediate or root, got "${o.issuer}"`);
  const role = o.issuer;
  const days = Number(o.days);
  if (!Number.isInteger(days) || days < 1 || days > MAX_DAYS)
    throw new CliError(`--days must be a whole number 1..${MAX_DAYS}, got "${o.days}"`);
  const out = o.out ?? join(o.dir, `${role}.crl`);
  // Before the passphrase prompt.
  checkOutputs([{ path: out }]);
  const ca = await CaDir.open({
    dir: o.dir,
    db: o.db,
    passphraseFile: o.passphraseFile,
    configure: (c) => ({ ...c, crl: { ...c.crl, validitySeconds: days * DAY_SECONDS } }),
  });
  let published: Awaited<ReturnType<typeof ca.authority.publishCrl>> & { der: Uint8Array };
  try {
    published = await ca.authority.publishCrl(ca.issuerId(role));
    parseCrl(published.der); // what we write must read back
  } catch (e) {
    throw caCliError(e, 'crl create');
  } finally {
    await ca.close();
  }
  writeFilesAtomic([{ path: out, data: encodePem('X509 CRL', published.der), mode: PUBLIC_MODE }]);
  const number = published.crlNumber.toString();
  const nextUpdate = new Date(published.nextUpdate).toISOString();
  // With `--out -` the CRL itself is on stdout: the summary goes to stderr.
  (out === '-' ? process.stderr : process.stdout).write(
    o.json
      ? `${JSON.stringify(
          {
            file: out,
            issuer: role,
            issuerId: published.issuerId,
            crlNumber: Number(number),
            revoked: published.entries,
            nextUpdate,
          },
          null,
          2,
        )}\n`
      : `wrote CRL #${number} of the ${role} CA (${published.entries} revoked) to ${out}; next update ${nextUpdate}\n`,
  );
}

export function registerCrl(program: Command): void {
  const crl = program.command('crl').description('certificate revocation lists');
  crl
    .command('create')
    .description('publish a CRL for a fleetpki CA directory')
    .requiredOption('--dir <dir>', 'CA directory (fleetpki ca init, or a serve data directory)')
    .addOption(
      new Option('--issuer <role>', 'which CA signs')
        .choices(['intermediate', 'root'])
        .default('intermediate'),
    )
    .option('--out <file>', 'output file (default DIR/<issuer>.crl; "-" is stdout)')
    .option('--days <n>', `days until nextUpdate (1..${MAX_DAYS})`, '7')
    .option('--passphrase-file <file>', 'passphrase for the CA key (else FLEETPKI_PASSPHRASE or a prompt)')
    .addOption(
      new Option(
        '--db <url>',
        'store URL: sqlite:PATH or postgres://… (default DATABASE_URL, else DIR/fleetpki.db)',
      ),
    )
    .option('--json', 'print a JSON summary')
    .action(create);
}
