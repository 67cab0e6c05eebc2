/**
 * `fleetpki crl create --dir DIR [--issuer intermediate|root] [--out FILE] [--days N] [--json]`
 *
 * Publishes a v2 CRL for one issuer of a `fleetpki ca init` directory: every serial recorded by
 * `fleetpki ca revoke` for that issuer, with its reasonCode; cRLNumber = last + 1 (kept in
 * ca.json, so numbers only grow — RFC 5280 §5.2.3); thisUpdate now − 5 minutes (the builder backdates
 * it for relying parties with slow clocks), nextUpdate now + N days
 * (default 7). Default output DIR/<issuer>.crl (PEM). The CRL and the state are written
 * together, atomically; the signature is re-verified before anything is written.
 */

import { join } from 'node:path';
import { type Command, Option } from 'commander';
import { CrlBuilder } from '../issue/crl.js';
import { type CaState, type IssuerRole, loadIssuer, loadState, stateFile } from './ca.js';
import { CliError } from './errors.js';
import { asCliError, checkOutputs, PUBLIC_MODE, writeFilesAtomic } from './pki-files.js';

interface CrlOptions {
  dir: string;
  issuer: string;
  out?: string;
  days: string;
  passphraseFile?: string;
  json?: boolean;
}

const DAY_MS = 86_400_000;

async function create(o: CrlOptions): Promise<void> {
  if (o.issuer !== 'intermediate' && o.issuer !== 'root')
    throw new CliError(`--issuer must be intermediate or root, got "${o.issuer}"`);
  const role = o.issuer as IssuerRole;
  const days = Number(o.days);
  if (!Number.isInteger(days) || days < 1 || days > 3650)
    throw new CliError(`--days must be a whole number 1..3650, got "${o.days}"`);
  const state: CaState = loadState(o.dir);
  const out = o.out ?? join(o.dir, `${role}.crl`);
  // Before the passphrase prompt.
  checkOutputs([{ path: out }]);
  const issuer = await loadIssuer(o.dir, role, o.passphraseFile);
  const number = (state.crlNumber[role] ?? 0) + 1;
  const entries = state.revoked.filter((r) => r.issuer === role);
  const now = Date.now();
  let pem: string;
  try {
    const b = new CrlBuilder(issuer, { selfCheck: 'signature' })
      .crlNumber(number)
      .nextUpdate(now + days * DAY_MS); // thisUpdate: the builder's default, backdated for slow clocks
    for (const r of entries)
      b.revoke({ serialNumber: r.serial, revocationDate: Date.parse(r.revokedAt), reason: r.reason });
    pem = (await b.sign()).toPem();
  } catch (e) {
    throw asCliError(e, 'crl create');
  }
  state.crlNumber[role] = number;
  writeFilesAtomic([{ path: out, data: pem, mode: PUBLIC_MODE }, stateFile(o.dir, state)]);
  const nextUpdate = new Date(now - (now % 1000) + days * DAY_MS).toISOString();
  // With `--out -` the CRL itself is on stdout: the summary goes to stderr.
  (out === '-' ? process.stderr : process.stdout).write(
    o.json
      ? `${JSON.stringify({ file: out, issuer: role, crlNumber: number, revoked: entries.length, nextUpdate }, null, 2)}\n`
      : `wrote CRL #${number} of the ${role} CA (${entries.length} revoked) to ${out}; next update ${nextUpdate}\n`,
  );
}

export function registerCrl(program: Command): void {
  const crl = program.command('crl').description('certificate revocation lists');
  crl
    .command('create')
    .description('publish a CRL for a fleetpki CA directory')
    .requiredOption('--dir <dir>', 'CA directory (fleetpki ca init)')
    .addOption(
      new Option('--issuer <role>', 'which CA signs')
        .choices(['intermediate', 'root'])
        .default('intermediate'),
    )
    .option('--out <file>', 'output file (default DIR/<issuer>.crl; "-" is stdout)')
    .option('--days <n>', 'days until nextUpdate', '7')
    .option('--passphrase-file <file>', 'passphrase for the CA key (else FLEETPKI_PASSPHRASE or a prompt)')
    .option('--json', 'print a JSON summary')
    .action(create);
}
