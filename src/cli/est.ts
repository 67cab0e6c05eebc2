/**
 * `fleetpki est token [--data DIR] [--label L] [--subject CN] [--hours N] [--json]` — a single-use
 * enrollment credential for EST over HTTP Basic (RFC 7030 §3.2.3): prints `USERNAME:PASSWORD`
 * (the store keeps only a hash; the password is shown this once).
 *
 * `fleetpki est trust-bootstrap [--data DIR] [--label L] FILE… [--crl FILE]…` — imports
 * manufacturing CA certificates whose (claim) certificates may authenticate first enrollments
 * under the label, and their CRLs (run again with a newer CRL to replace it). A running `serve`
 * picks the change up within 30 s.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { importBootstrapTrust } from '../est/bootstrap.js';
import { parseEstConfig } from '../est/config.js';
import { createEnrollmentCredential } from '../est/credentials.js';
import { EstError } from '../est/errors.js';
import { parseCertificates } from '../x509/certificate.js';
import { type CertificateList, parseCrl } from '../x509/crl.js';
import { DATA_OPTION_HELP, type DataOptions, openDataAuthority } from './data-authority.js';
import { CliError, EXIT_INPUT } from './errors.js';

interface TokenOptions extends DataOptions {
  label: string;
  subject?: string;
  hours?: string;
  json?: boolean;
}

interface TrustOptions extends DataOptions {
  label: string;
  crl: string[];
}

function labelOf(config: Parameters<typeof parseEstConfig>[0], name: string) {
  const est = parseEstConfig(config);
  const l = est.labels[name];
  if (!l)
    throw new CliError(`no EST label "${name}" (labels: ${Object.keys(est.labels).join(', ')})`, EXIT_INPUT);
  return l;
}

async function token(o: TokenOptions): Promise<void> {
  const hours = o.hours === undefined ? undefined : Number(o.hours);
  if (hours !== undefined && (!Number.isInteger(hours) || hours < 1 || hours > 366 * 24))
    throw new CliError(`--hours must be 1..${366 * 24}, got "${o.hours}"`, EXIT_INPUT);
  const opened = await openDataAuthority(o);
  try {
    const label = labelOf(opened.config, o.label);
    if (!label.credentials.includes('token'))
      throw new CliError(`label "${label.name}" does not accept enrollment credentials`, EXIT_INPUT);
    const c = await createEnrollmentCredential(opened.ca, {
      label: label.name,
      subject: o.subject,
      validityHours: hours ?? label.tokenValidityHours,
      requester: opened.requester,
    });
    if (o.json)
      process.stdout.write(
        `${JSON.stringify({ username: c.username, password: c.password, label: c.label, subject: c.subject, expiresAt: new Date(c.expiresAt).toISOString() })}\n`,
      );
    else {
      process.stdout.write(`${c.username}:${c.password}\n`);
      process.stderr.write(
        `single-use EST credential for label ${c.label}${c.subject ? `, subject CN=${c.subject}` : ''}; expires ${new Date(c.expiresAt).toISOString()}\n`,
      );
    }
  } catch (e) {
    if (e instanceof EstError) throw new CliError(e.message, EXIT_INPUT);
    throw e;
  } finally {
    await opened.close();
  }
}

async function trustBootstrap(files: string[], o: TrustOptions): Promise<void> {
  const read = (f: string) => {
    try {
      return readFileSync(f);
    } catch (e) {
      throw new CliError(`cannot read ${f}: ${(e as Error).message}`, EXIT_INPUT);
    }
  };
  const certificates = files.flatMap((f) => {
    const b = read(f);
    return parseCertificates(
      b.subarray(0, 11).toString() === '-----BEGIN ' ? b.toString('utf8') : new Uint8Array(b),
    );
  });
  const crls: CertificateList[] = o.crl.map((f) => {
    const b = read(f);
    return parseCrl(b.includes('-----BEGIN') ? b.toString('utf8') : new Uint8Array(b));
  });
  if (certificates.length === 0 && crls.length === 0)
    throw new CliError('give CA certificate files and/or --crl files', EXIT_INPUT);
  const opened = await openDataAuthority(o);
  try {
    const label = labelOf(opened.config, o.label);
    const t = await importBootstrapTrust(opened.ca, label.name, {
      certificates,
      crls,
      requester: opened.requester,
    });
    for (const a of t.anchors) {
      const crl = t.crls.find((c) => Buffer.compare(c.issuer.der, a.subject.der) === 0);
      process.stdout.write(
        `${a.subject.toString()}  ${crl ? `CRL #${crl.cRLNumber ?? '?'} until ${new Date(crl.nextUpdate ?? 0).toISOString()}` : 'no CRL: revocation not checked'}\n`,
      );
    }
    if (!label.credentials.includes('bootstrap'))
      process.stderr.write(
        `note: label "${label.name}" does not accept bootstrap certificates (credentials in the config)\n`,
      );
  } catch (e) {
    if (e instanceof EstError) throw new CliError(e.message, EXIT_INPUT);
    throw e;
  } finally {
    await opened.close();
  }
}

function dataOptions(c: Command): Command {
  return c
    .option('--data <dir>', DATA_OPTION_HELP.data, 'fleetpki-data')
    .option('--db <url>', DATA_OPTION_HELP.db)
    .option('--config <file>', DATA_OPTION_HELP.config)
    .option('--passphrase-file <file>', DATA_OPTION_HELP.passphraseFile);
}

export function registerEst(program: Command): void {
  const est = program
    .command('est')
    .description('EST enrollment (RFC 7030): credentials and bootstrap trust');
  dataOptions(
    est
      .command('token')
      .description('make a single-use enrollment credential (prints USERNAME:PASSWORD)')
      .option('--label <label>', 'EST label', 'default')
      .option('--subject <cn>', 'the only commonName it may enroll')
      .option('--hours <n>', "lifetime in hours (default: the label's tokenValidityHours)")
      .option('--json', 'print JSON'),
  ).action((o: TokenOptions) => token(o));
  dataOptions(
    est
      .command('trust-bootstrap')
      .description('trust a manufacturing CA for first enrollments with bootstrap certificates')
      .argument('[files...]', 'CA certificate files (PEM or DER)')
      .option('--label <label>', 'EST label', 'default')
      .option(
        '--crl <file>',
        "the CA's CRL (repeatable)",
        (v: string, a: string[]) => [...a, v],
        [] as string[],
      ),
  ).action((files: string[], o: TrustOptions) => trustBootstrap(files, o));
}
