/**
 * `fleetpki csr create --key KEY --subject "CN=…,O=…" [--san dns:…,ip:…,uri:…,email:…]
 *   [--challenge-password PW] [--passphrase-file FILE] [--out FILE] [--json]`
 *
 * Makes a PKCS#10 request signed by KEY (proof of possession). The subject is RFC 4514 text
 * (most significant RDN last, as OpenSSL's -nameopt RFC2253 prints it); SANs are a comma list.
 * With --out the PEM is written atomically (0644) and a summary printed; else the PEM goes to stdout.
 */
import type { Command } from 'commander';
import { KeySigner } from '../crypto/signer.js';
import { CsrBuilder } from '../issue/csr.js';
import { parseGeneralNames } from '../issue/san.js';
import { generalNameToString } from '../x509/general-name.js';
import { CliError } from './errors.js';
import { spkiSha256 } from './key.js';
import { asCliError, checkOutputs, loadPrivateKey, PUBLIC_MODE, writeFileAtomic } from './pki-files.js';

interface CsrOptions {
  key: string;
  subject: string;
  san?: string;
  challengePassword?: string;
  passphraseFile?: string;
  out?: string;
  json?: boolean;
}

export function registerCsr(program: Command): void {
  const csr = program.command('csr').description('certificate signing requests (PKCS#10)');
  csr
    .command('create')
    .description('create a CSR signed by a private key')
    .requiredOption('--key <file>', 'private key (PEM/DER; encrypted keys ask for the passphrase)')
    .requiredOption('--subject <dn>', 'subject as RFC 4514 text, e.g. "CN=device-001,O=Acme"')
    .option('--san <list>', 'subjectAltName entries: dns:NAME,ip:ADDR,uri:URI,email:ADDR')
    .option('--challenge-password <pw>', 'PKCS#9 challengePassword attribute')
    .option(
      '--passphrase-file <file>',
      'passphrase for an encrypted key (else FLEETPKI_PASSPHRASE or a prompt)',
    )
    .option('--out <file>', 'write the CSR to FILE instead of stdout')
    .option('--json', 'print a JSON summary (with --out)')
    .action(async (o: CsrOptions) => {
      const out = o.out === '-' ? undefined : o.out;
      if (o.json && !out) throw new CliError('--json needs --out FILE (the CSR itself would go to stdout)');
      if (out) checkOutputs([{ path: out }]);
      const key = await loadPrivateKey(o.key, { passphraseFile: o.passphraseFile });
      let pem: string;
      let subject: string;
      let sans: string[] = [];
      try {
        const b = new CsrBuilder().subject(o.subject);
        if (o.san) {
          const names = parseGeneralNames(o.san);
          b.subjectAltName(names);
          sans = names.map(generalNameToString);
        }
        if (o.challengePassword !== undefined) b.challengePassword(o.challengePassword);
        const req = await b.sign(await KeySigner.create(key));
        pem = req.toPem();
        subject = req.subject.toString();
      } catch (e) {
        throw asCliError(e, 'csr');
      }
      if (!out) {
        process.stdout.write(pem);
        return;
      }
      writeFileAtomic(out, pem, PUBLIC_MODE);
      const summary = { file: out, subject, subjectAltName: sans, spkiSha256: spkiSha256(key.spki) };
      process.stdout.write(
        o.json
          ? `${JSON.stringify(summary, null, 2)}\n`
          : `wrote CSR for ${subject}${sans.length ? ` (${sans.join(', ')})` : ''} to ${out}\n`,
      );
    });
}
