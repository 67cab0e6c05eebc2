/**
 * `fleetpki key generate --type TYPE [--encrypt] [--passphrase-file FILE] [--out FILE] [--force] [--json]`
 *
 * Generates a key pair with the platform CSPRNG and writes the private key as PKCS#8 PEM —
 * encrypted (PBES2: PBKDF2-HMAC-SHA256, 600 000 iterations, + AES-256-CBC; crypto/pbes2.ts) with
 * --encrypt. With --out the file is written atomically with mode 0600 and a summary goes to
 * stdout (or JSON with --json: {file, type, encrypted, spkiSha256}); an existing file is never
 * replaced without --force. Without --out (or with `--out -`) the PEM goes to stdout.
 * `key export` / `key convert` (key-export.ts) change a key's format or encryption afterwards.
 */
import { createHash } from 'node:crypto';
import { type Command, Option } from 'commander';
import { KEY_TYPES, type KeyType } from '../crypto/algorithms.js';
import { exportKey, generateKeyPair } from '../crypto/keys.js';
import { CliError } from './errors.js';
import { registerKeyExport } from './key-export.js';
import {
  asCliError,
  checkOutputs,
  getPassphrase,
  MIN_NEW_PASSPHRASE,
  SECRET_MODE,
  writeFileAtomic,
} from './pki-files.js';

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
  force?: boolean;
  json?: boolean;
}

/** The `--type` option with its choices (commander rejects others before any work). */
export function keyTypeOption(defaultType?: KeyType): Option {
  const o = new Option('--type <type>', 'key type').choices(CLI_KEY_TYPES);
  return defaultType ? o.default(defaultType) : o.makeOptionMandatory();
}

export function registerKey(program: Command): void {
  const key = program.command('key').description('private keys: generate, convert, export as PKCS#12');
  key
    .command('generate')
    .description('generate a key pair; write the private key as PKCS#8 PEM')
    .addOption(keyTypeOption())
    .option(
      '--encrypt',
      `encrypt the key (PKCS#8 PBES2: PBKDF2-HMAC-SHA256, 600 000 iterations, AES-256-CBC; passphrase ≥ ${MIN_NEW_PASSPHRASE} characters)`,
    )
    .option(
      '--passphrase-file <file>',
      'read the passphrase from the first line of FILE (else FLEETPKI_PASSPHRASE or a prompt)',
    )
    .option('--out <file>', 'write the key to FILE (mode 0600) instead of stdout; "-" is stdout')
    .option('--force', 'replace an existing --out file')
    .option('--json', 'print a JSON summary (with --out)')
    .action(async (o: KeyOptions) => {
      const type = parseKeyType(o.type);
      const out = o.out === '-' ? undefined : o.out;
      if (o.json && !out) throw new CliError('--json needs --out FILE (the key itself would go to stdout)');
      // Before the passphrase prompt: a bad --out must not cost the user a passphrase.
      if (out) checkOutputs([{ path: out, noClobber: !o.force }]);
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
      if (!out) {
        process.stdout.write(pem);
        return;
      }
      writeFileAtomic(out, pem, SECRET_MODE, !o.force);
      const summary = {
        file: out,
        type,
        encrypted: passphrase !== undefined,
        spkiSha256: spkiSha256(spki),
      };
      process.stdout.write(
        o.json
          ? `${JSON.stringify(summary, null, 2)}\n`
          : `wrote ${type} private key${summary.encrypted ? ' (encrypted)' : ''} to ${out} (mode 0600)\nSPKI SHA-256: ${summary.spkiSha256}\n`,
      );
    });
  registerKeyExport(key);
}
