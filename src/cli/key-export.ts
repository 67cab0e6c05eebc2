/**
 * `fleetpki key convert` and `fleetpki key export`: make a key usable where it has to go.
 *
 *   key convert --in KEY --to pkcs8|sec1|pkcs1|spki [--outform pem|der] [--encrypt] --out FILE
 *     Reads any key we import (PKCS#8 plain or encrypted, SEC1, PKCS#1, SPKI, PEM or DER, or the
 *     key inside a PKCS#12 file) and writes it in the requested format: decrypted unless
 *     --encrypt (PKCS#8 only: PBES2, PBKDF2-HMAC-SHA256 600 000 + AES-256-CBC). So a broker or
 *     a device that wants `EC PRIVATE KEY` or DER gets it from what `key generate --encrypt` wrote.
 *
 *   key export --key KEY --cert FILE [--cert FILE…] [--legacy] [--name NAME] --out FILE.p12
 *     Writes a PKCS#12 file (RFC 7292; crypto/pkcs12.ts) with the key and its certificate
 *     chain, for browsers, Windows, Java and device SDKs: PBES2/AES-256-CBC with an HMAC-SHA256
 *     MAC (OpenSSL 3's default), or with --legacy 3DES and an HMAC-SHA1 MAC for older devices.
 *     The certificate whose public key is the key's comes first; a key matching none is refused.
 *
 * Passphrases: the input's from --passphrase-file, FLEETPKI_PASSPHRASE or a prompt (asked only
 * when the input is encrypted); the output's (--encrypt, the PKCS#12 password) from
 * --new-passphrase-file, FLEETPKI_NEW_PASSPHRASE or a prompt, at least MIN_NEW_PASSPHRASE
 * characters. Private keys are written 0600 and never over an existing file without --force.
 */
import { type Command, Option } from 'commander';
import { CryptoError } from '../crypto/errors.js';
import { exportKey, importKey, type PrivateKey, type PublicKey } from '../crypto/keys.js';
import { readPkcs12, writePkcs12 } from '../crypto/pkcs12.js';
import { latin1 } from '../der/bytes.js';
import { looksLikePem } from '../pem/pem.js';
import { type Certificate, parseCertificates } from '../x509/certificate.js';
import { CliError } from './errors.js';
import { looksLikePfx } from './inspect/load.js';
import {
  asCliError,
  checkOutputs,
  getPassphrase,
  PUBLIC_MODE,
  readInput,
  SECRET_MODE,
  writeFileAtomic,
} from './pki-files.js';

/** Formats `key convert` writes (DESIGN.md: crypto's KeyFormat without JWK). */
const CONVERT_FORMATS = ['pkcs8', 'sec1', 'pkcs1', 'spki'] as const;
type ConvertFormat = (typeof CONVERT_FORMATS)[number];

/** The output passphrase: --new-passphrase-file, FLEETPKI_NEW_PASSPHRASE, or a prompt (asked twice). */
async function newPassphrase(file: string | undefined, purpose: string): Promise<string> {
  const env = process.env.FLEETPKI_NEW_PASSPHRASE;
  if (file === undefined && env !== undefined) {
    // getPassphrase reads FLEETPKI_PASSPHRASE: hand it the new one for this call only.
    const saved = process.env.FLEETPKI_PASSPHRASE;
    process.env.FLEETPKI_PASSPHRASE = env;
    try {
      return await getPassphrase({ confirm: true, purpose });
    } finally {
      if (saved === undefined) delete process.env.FLEETPKI_PASSPHRASE;
      else process.env.FLEETPKI_PASSPHRASE = saved;
    }
  }
  if (file === undefined && !process.stdin.isTTY)
    throw new CliError(
      `a passphrase is needed for ${purpose}: use --new-passphrase-file FILE or FLEETPKI_NEW_PASSPHRASE`,
    );
  const saved = process.env.FLEETPKI_PASSPHRASE;
  delete process.env.FLEETPKI_PASSPHRASE;
  try {
    return await getPassphrase({ passphraseFile: file, confirm: true, purpose });
  } finally {
    if (saved !== undefined) process.env.FLEETPKI_PASSPHRASE = saved;
  }
}

/** Reads a key from any format we import, or the (single) key of a PKCS#12 file. */
async function readKey(path: string, passphraseFile: string | undefined): Promise<PrivateKey | PublicKey> {
  const data = new Uint8Array(readInput(path, 'key'));
  const pem = looksLikePem(data);
  try {
    if (!pem && looksLikePfx(data)) {
      const password = await getPassphrase({ passphraseFile, purpose: `the PKCS#12 file ${path}` });
      const p12 = await readPkcs12(data, password);
      if (p12.keys.length !== 1) throw new CliError(`${path}: holds ${p12.keys.length} keys; expected one`);
      return await importKey(p12.keys[0]!.pkcs8, { format: 'pkcs8' });
    }
    const input = pem ? latin1(data) : data;
    try {
      return await importKey(input);
    } catch (e) {
      // Encrypted: now (and only now) ask for the passphrase.
      if (!(e instanceof CryptoError && e.code === 'passphrase-required')) throw e;
    }
    return await importKey(input, { passphrase: await getPassphrase({ passphraseFile, purpose: path }) });
  } catch (e) {
    throw asCliError(e, `key ${path}`);
  }
}

interface ConvertOptions {
  in: string;
  to: ConvertFormat;
  outform: 'pem' | 'der';
  encrypt?: boolean;
  passphraseFile?: string;
  newPassphraseFile?: string;
  out: string;
  force?: boolean;
}

async function convert(o: ConvertOptions): Promise<void> {
  if (o.encrypt && o.to !== 'pkcs8')
    throw new CliError(`--encrypt needs --to pkcs8 (${o.to.toUpperCase()} has no encryption of its own)`);
  const secret = o.to !== 'spki';
  if (o.out !== '-') checkOutputs([{ path: o.out, noClobber: secret && !o.force }]);
  const key = await readKey(o.in, o.passphraseFile);
  if (secret && key.type !== 'private')
    throw new CliError(`${o.in} holds a public key; --to ${o.to} needs a private key`);
  const passphrase = o.encrypt ? await newPassphrase(o.newPassphraseFile, 'the converted key') : undefined;
  let out: string | Uint8Array;
  try {
    out =
      o.outform === 'der'
        ? await exportKey(key, { format: o.to, encoding: 'der', passphrase })
        : await exportKey(key, { format: o.to, passphrase });
  } catch (e) {
    if (e instanceof CryptoError && e.code === 'bad-format')
      throw new CliError(
        `cannot write this ${key.algorithm.kind.toUpperCase()} key as --to ${o.to}: ${e.message}`,
      );
    throw asCliError(e, 'key convert');
  }
  writeFileAtomic(o.out, out, secret ? SECRET_MODE : PUBLIC_MODE, secret && !o.force);
  if (o.out !== '-')
    process.stderr.write(
      `wrote ${o.to.toUpperCase()} ${o.outform.toUpperCase()}${passphrase ? ' (encrypted)' : ''} to ${o.out}\n`,
    );
}

interface ExportOptions {
  key: string;
  cert: string[];
  legacy?: boolean;
  name?: string;
  passphraseFile?: string;
  newPassphraseFile?: string;
  out: string;
  force?: boolean;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

async function exportP12(o: ExportOptions): Promise<void> {
  if (o.cert.length === 0)
    throw new CliError('--cert FILE is required (the key’s certificate, then its chain)');
  if (o.out !== '-') checkOutputs([{ path: o.out, noClobber: !o.force }]);
  const certs: Certificate[] = [];
  for (const f of o.cert) {
    try {
      certs.push(...parseCertificates(new Uint8Array(readInput(f, 'certificate'))));
    } catch (e) {
      throw asCliError(e, f);
    }
  }
  const key = await readKey(o.key, o.passphraseFile);
  if (key.type !== 'private')
    throw new CliError(`${o.key} holds a public key; PKCS#12 needs the private key`);
  const leaf = certs.findIndex((c) => sameBytes(c.subjectPublicKeyInfo.der, key.spki));
  if (leaf < 0) throw new CliError(`no --cert certificate has the public key of ${o.key}`);
  const ordered = [certs[leaf]!, ...certs.filter((_, i) => i !== leaf)];
  const password = await newPassphrase(o.newPassphraseFile, 'the PKCS#12 file');
  let der: Uint8Array;
  try {
    der = await writePkcs12(
      key,
      ordered.map((c) => c.der),
      password,
      { profile: o.legacy ? 'legacy' : 'aes-256', friendlyName: o.name },
    );
  } catch (e) {
    throw asCliError(e, 'key export');
  }
  writeFileAtomic(o.out, der, SECRET_MODE, !o.force);
  if (o.out !== '-')
    process.stderr.write(
      `wrote PKCS#12 ${o.legacy ? '(legacy: 3DES, HMAC-SHA1)' : '(AES-256-CBC, HMAC-SHA256)'} with the key and ${ordered.length} certificate(s) to ${o.out}\n`,
    );
}

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

const IN_PASSPHRASE =
  'passphrase of an encrypted input, first line of FILE (else FLEETPKI_PASSPHRASE or a prompt)';
const OUT_PASSPHRASE =
  'passphrase for the output, first line of FILE (else FLEETPKI_NEW_PASSPHRASE or a prompt)';

/** Adds `convert` and `export` under `fleetpki key`. */
export function registerKeyExport(key: Command): void {
  key
    .command('convert')
    .description('decrypt, re-encrypt or change the format of a key (PKCS#8, SEC1, PKCS#1, SPKI; PEM or DER)')
    .requiredOption('--in <file>', 'key to read (PEM or DER, encrypted or not, or a PKCS#12 file)')
    .addOption(new Option('--to <format>', 'output format').choices(CONVERT_FORMATS).makeOptionMandatory())
    .addOption(new Option('--outform <encoding>', 'output encoding').choices(['pem', 'der']).default('pem'))
    .option('--encrypt', 'encrypt the output (PKCS#8 PBES2: PBKDF2-HMAC-SHA256 600 000, AES-256-CBC)')
    .option('--passphrase-file <file>', IN_PASSPHRASE)
    .option('--new-passphrase-file <file>', OUT_PASSPHRASE)
    .requiredOption('--out <file>', 'output file ("-" is stdout); private keys are written 0600')
    .option('--force', 'replace an existing --out file')
    .action(convert);
  key
    .command('export')
    .description('write a key and its certificate chain as PKCS#12 (.p12/.pfx)')
    .requiredOption('--key <file>', 'private key (any format key convert reads)')
    .option(
      '--cert <file>',
      'certificate(s), PEM bundle or DER; repeatable (the key’s certificate and its chain)',
      collect,
      [],
    )
    .option('--legacy', 'for older devices: pbeWithSHAAnd3-KeyTripleDES-CBC and an HMAC-SHA1 MAC')
    .option('--name <name>', 'friendlyName shown by importers')
    .option('--passphrase-file <file>', IN_PASSPHRASE)
    .option(
      '--new-passphrase-file <file>',
      `PKCS#12 password: ${OUT_PASSPHRASE.replace('passphrase for the output, ', '')}`,
    )
    .requiredOption('--out <file>', 'output file (mode 0600; "-" is stdout)')
    .option('--force', 'replace an existing --out file')
    .action(exportP12);
}
