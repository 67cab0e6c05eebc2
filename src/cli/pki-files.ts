/**
 * File plumbing for the key/csr/ca/crl commands: output files (output.ts: atomic writes, devices,
 * `-`), reading inputs with one-line errors, passphrases (--passphrase-file, FLEETPKI_PASSPHRASE,
 * or a hidden prompt), loading keys, and mapping library errors to `CliError` (exit 2, one line).
 */
import { readFileSync } from 'node:fs';
import { IssueError } from '../issue/errors.js';
// Installs the node:crypto provider as the default (the builders and key import use it).
import '../crypto/index.js';
import { CryptoError } from '../crypto/errors.js';
import { importPrivateKey, type PrivateKey } from '../crypto/keys.js';
import { CliError, describeDecodeError, EXIT_INTERRUPTED, isDecodeError } from './errors.js';

/** Modes: private keys and CA state 0600, public material 0644. */
export const SECRET_MODE = 0o600;
export const PUBLIC_MODE = 0o644;

export {
  checkOutputs,
  checkWritableDir,
  type PendingFile,
  planOutput,
  writeFileAtomic,
  writeFilesAtomic,
} from './output.js';

export function readInput(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(
      `cannot read ${what} ${path}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
    );
  }
}

/**
 * Shortest passphrase accepted for a NEW encrypted key (CA keys, `key generate --encrypt`,
 * `key export`): 8 characters, NIST SP 800-63B §3.1.1.2's minimum for user-chosen secrets. The
 * key derivation (PBKDF2-SHA256, 600 000 iterations) slows guessing; it cannot rescue a 3-letter word.
 */
export const MIN_NEW_PASSPHRASE = 8;

export interface PassphraseOptions {
  passphraseFile?: string;
  /** A new passphrase: ask twice when prompting, and require MIN_NEW_PASSPHRASE characters. */
  confirm?: boolean;
  /** What the prompt says is being unlocked or protected. */
  purpose: string;
}

/**
 * The passphrase, from (in order) `--passphrase-file` (first line), `FLEETPKI_PASSPHRASE`, or a
 * prompt on the terminal with echo off. Without a terminal and without the other two: exit 2.
 */
export async function getPassphrase(o: PassphraseOptions): Promise<string> {
  let p: string | undefined;
  if (o.passphraseFile !== undefined)
    p = readInput(o.passphraseFile, 'passphrase file').toString('utf8').split(/\r?\n/)[0];
  else if (process.env.FLEETPKI_PASSPHRASE !== undefined) p = process.env.FLEETPKI_PASSPHRASE;
  else {
    if (!process.stdin.isTTY)
      throw new CliError(
        `a passphrase is needed for ${o.purpose}: use --passphrase-file FILE or FLEETPKI_PASSPHRASE`,
      );
    p = await prompt(`Passphrase for ${o.purpose}: `);
    if (o.confirm && (await prompt('Repeat passphrase: ')) !== p)
      throw new CliError('the passphrases do not match');
  }
  if (!p) throw new CliError('the passphrase is empty');
  if (o.confirm && [...p].length < MIN_NEW_PASSPHRASE)
    throw new CliError(
      `the passphrase for ${o.purpose} is too short: at least ${MIN_NEW_PASSPHRASE} characters`,
    );
  return p;
}

/** Reads one line from the terminal without echoing it. */
function prompt(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    // Raw mode first: a Ctrl-C typed as soon as the question shows arrives as a byte, not a signal.
    stdin.setRawMode(true);
    stdin.resume();
    process.stderr.write(question);
    let s = '';
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.removeListener('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(s);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new CliError('interrupted', EXIT_INTERRUPTED));
        // Ctrl-D on an empty line: no passphrase is coming.
        if (ch === '\u0004' && s === '') return done(new CliError('no passphrase given'));
        if (ch === '\u007f' || ch === '\b') s = s.slice(0, -1);
        else s += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/** Loads a private key (PEM or DER, any format importKey reads); asks for a passphrase only if encrypted. */
export async function loadPrivateKey(
  path: string,
  o: Omit<PassphraseOptions, 'purpose'> & { purpose?: string },
): Promise<PrivateKey> {
  const data = readInput(path, 'key');
  const text = data.toString('latin1');
  const encrypted =
    text.includes('ENCRYPTED PRIVATE KEY') || (!text.includes('-----BEGIN') && looksEncryptedDer(data));
  const passphrase = encrypted ? await getPassphrase({ ...o, purpose: o.purpose ?? path }) : undefined;
  try {
    return await importPrivateKey(text.includes('-----BEGIN') ? text : new Uint8Array(data), { passphrase });
  } catch (e) {
    throw asCliError(e, `key ${path}`);
  }
}

/** EncryptedPrivateKeyInfo starts SEQUENCE { SEQUENCE { OID pbes2 … (1.2.840.113549.1.5.13). */
function looksEncryptedDer(d: Uint8Array): boolean {
  const oid = Buffer.from('06092a864886f70d01050d', 'hex');
  return Buffer.from(d.subarray(0, 24)).includes(oid);
}

/** Library errors → one-line CliError (exit 2); anything else passes through. */
export function asCliError(e: unknown, what: string): unknown {
  if (e instanceof CliError) return e;
  if (e instanceof CryptoError) {
    const msg = e.code === 'bad-passphrase' ? 'wrong passphrase (or a corrupted key)' : e.message;
    return new CliError(`${what}: ${e.code}: ${msg}`);
  }
  if (e instanceof IssueError) return new CliError(`${what}: ${e.code}: ${e.message}`);
  if (isDecodeError(e)) return new CliError(`${what}: ${describeDecodeError(e)}`);
  return e;
}
