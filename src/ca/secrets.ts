import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { CaError } from './errors.js';

/**
 * Where the CA's key passphrase comes from. In order:
 *  1. `passphrase` given by the caller (e.g. read from `--passphrase-file FILE`);
 *  2. the `FLEETPKI_PASSPHRASE` environment variable;
 *  3. `DATA/secrets/passphrase`, written by an earlier first start;
 *  4. with `generate: true` (a first start of `fleetpki serve` on a fresh machine): 32 random bytes,
 *     base64url, written to `DATA/secrets/passphrase` (directory 0700, file 0600, put in place
 *     atomically so that concurrent first starts agree on one passphrase). The caller must
 *     say so loudly: whoever can read that file can use the CA keys, so it belongs on a disk as
 *     protected as the keys, or moved into a secret manager and passed back by (1) or (2).
 * Otherwise `passphrase-required`. A secret file readable or writable by group/others is refused
 * (`key-file-permissions`), as are key files (keys.ts). The passphrase is never logged.
 */
export interface PassphraseOptions {
  /** The data directory (keys under DATA/keys, secrets under DATA/secrets). */
  dataDir: string;
  passphrase?: string;
  /** The process environment (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** Generate and store one when none is found. Default false. */
  generate?: boolean;
}

/** A passphrase and where it came from. */
export interface ResolvedPassphrase {
  passphrase: string;
  source: 'option' | 'env' | 'data-dir' | 'generated';
  /** The secret file, for `data-dir` and `generated`. */
  path?: string;
}

/** The environment variable holding the key passphrase. */
export const PASSPHRASE_ENV = 'FLEETPKI_PASSPHRASE';
/** The environment variable holding the PKCS#11 user PIN. */
export const PKCS11_PIN_ENV = 'FLEETPKI_PKCS11_PIN';

/** `DATA/secrets/passphrase`. */
export function passphraseFile(dataDir: string): string {
  return join(dataDir, 'secrets', 'passphrase');
}

/** The key passphrase from the sources above, in their order (generating one only with `generate`). */
export function resolvePassphrase(o: PassphraseOptions): ResolvedPassphrase {
  if (o.passphrase !== undefined)
    return { passphrase: checkNonEmpty(o.passphrase, 'the passphrase'), source: 'option' };
  const env = (o.env ?? process.env)[PASSPHRASE_ENV];
  if (env !== undefined && env !== '') return { passphrase: env, source: 'env' };
  const path = passphraseFile(o.dataDir);
  const existing = readSecretFile(path);
  if (existing !== undefined) return { passphrase: checkNonEmpty(existing, path), source: 'data-dir', path };
  if (!o.generate)
    throw new CaError(
      'passphrase-required',
      `no key passphrase: pass --passphrase-file, set ${PASSPHRASE_ENV}, or put it in ${path} (0600)`,
    );
  mkdirSync(join(o.dataDir, 'secrets'), { recursive: true, mode: 0o700 });
  const generated = randomBytes(32).toString('base64url');
  // Written whole under a unique name, then linked into place: link() fails if the name exists, so
  // of concurrent first starts exactly one passphrase wins, and nobody reads a half-written file.
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    writeSync(fd, `${generated}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const other = readSecretFile(path);
    if (other) return { passphrase: other, source: 'data-dir', path };
    throw new CaError('passphrase-required', `${path} exists but is empty`);
  } finally {
    rmSync(tmp, { force: true });
  }
  return { passphrase: generated, source: 'generated', path };
}

function checkNonEmpty(p: string, what: string): string {
  if (p.length === 0) throw new CaError('passphrase-required', `${what} is empty`);
  return p;
}

/**
 * Reads a secret file (first line, trailing newline removed) after checking that only its owner
 * can read or write it; undefined when it does not exist.
 */
export function readSecretFile(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CaError('key-file-permissions', `cannot open ${path}: ${(e as Error).message}`);
  }
  try {
    checkMode(path, fstatSync(fd));
    return readFileSync(fd, 'utf8').replace(/\r?\n$/, '');
  } finally {
    closeSync(fd);
  }
}

/** Refuses a file that is not regular or whose mode grants group/others any access. */
export function checkMode(path: string, st: { mode: number; isFile(): boolean } = statSync(path)): void {
  if (!st.isFile()) throw new CaError('key-file-permissions', `${path} is not a regular file`);
  if ((st.mode & 0o077) !== 0)
    throw new CaError(
      'key-file-permissions',
      `${path} is accessible by group or others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it`,
      { file: path },
    );
}
