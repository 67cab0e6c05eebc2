/**
 * `fleetpki key generate --type TYPE [--encrypt] [--passphrase-file FILE] [--out FILE] [--json]`
 *
 * Generates a key pair with the platform CSPRNG and writes the private key as PKCS#8 PEM —
 * encrypted (PBES2: scrypt N=2^17 + AES-256-CBC, crypto/pbes2.ts) with --encrypt. With --out
 * the file is written atomically with mode 0600 and a summary goes to stdout (or JSON with
 * --json: {file, type, encrypted, spkiSha256}); without --out the PEM goes to stdout.
 */
import { createHash } from 'node:crypto';
import type { Command } from 'commander';
import { KEY_TYPES, type KeyType } from '../crypto/algorithms.js';
import { exportKey, generateKeyPair } from '../crypto/keys.js';
import { CliError } from './errors.js';
import { asCliError, getPassphrase, SECRET_MODE, writeFileAtomic } from './pki-files.js';

/** The types the CLI offers (Ed448 stays library-only: few verifiers accept it). */
export const CLI_KEY_TYPES = KEY_TYPES.filter((t) => t !== 'ed448');

export function parseKeyType(t: string): KeyType {
  if (!(CLI_KEY_TYPES as readonly string[]).includes(t))
    throw new CliError(`unknown key type "${t}" (one of ${CLI_KEY_TYPES.join(', ')})`);
  return t as KeyType;
}

export function spkiSha256(spki: Uint8Array): string {
  return createHash('sha256').update(spki).digest('hex');
}

interface KeyOptions {
  type: string;
  encrypt?: boolean;
  passphraseFile?: string;
  out?: string;
  json?: boolean;
}

export function registerKey(program: Command): void {
  const key = program.command('key').description('private keys');
  key
    .command('generate')
    .description('generate a key pair; write the private key as PKCS#8 PEM')
    .requiredOption('--type <type>', `key type: ${CLI_KEY_TYPES.join('|')}`)
    .option('--encrypt', 'encrypt the key with a passphrase (scrypt + AES-256-CBC)')
    .option(
      '--passphrase-file <file>',
      'read the passphrase from the first line of FILE (else FLEETPKI_PASSPHRASE or a prompt)',
    )
    .option('--out <file>', 'write the key to FILE (mode 0600) instead of stdout')
    .option('--json', 'print a JSON summary (with --out)')
    .action(async (o: KeyOptions) => {
      const type = parseKeyType(o.type);
      if (o.json && !o.out) throw new CliError('--json needs --out (the key itself would go to stdout)');
      const passphrase = o.encrypt
        ? await getPassphrase({ passphraseFile: o.passphraseFile, confirm: true, purpose: 'the new key' })
        : undefined;
      let pem: string;
      let spki: Uint8Array;
      try {
        const { privateKey } = await generateKeyPair(type);
        spki = privateKey.spki;
        pem = await exportKey(privateKey, { format: 'pkcs8', passphrase });
      } catch (e) {
        throw asCliError(e, 'key generation');
      }
      if (!o.out) {
        process.stdout.write(pem);
        return;
      }
      writeFileAtomic(o.out, pem, SECRET_MODE);
      const summary = {
        file: o.out,
        type,
        encrypted: passphrase !== undefined,
        spkiSha256: spkiSha256(spki),
      };
      process.stdout.write(
        o.json
          ? `${JSON.stringify(summary, null, 2)}\n`
          : `wrote ${type} private key${summary.encrypted ? ' (encrypted)' : ''} to ${o.out} (mode 0600)\nSPKI SHA-256: ${summary.spkiSha256}\n`,
      );
    });
}
