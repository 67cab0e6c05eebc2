import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { KeyType } from '../crypto/algorithms.js';
import { CryptoError } from '../crypto/errors.js';
import { exportKey, generateKeyPair, importPrivateKey, type PrivateKey } from '../crypto/keys.js';
import { Pkcs11Signer } from '../crypto/pkcs11.js';
import { KeySigner, type Signer } from '../crypto/signer.js';
import { bytesEqual } from '../der/bytes.js';
import { CaError } from './errors.js';
import { parsePkcs11Uri } from './pkcs11-uri.js';
import {
  checkMode,
  PKCS11_PIN_ENV,
  type ResolvedPassphrase,
  readSecretFile,
  resolvePassphrase,
} from './secrets.js';
import type { KeyReference, Store } from './store/types.js';

/**
 * The CA's private keys: encrypted PKCS#8 files under `DATA/keys/` (PBES2, PBKDF2-HMAC-SHA256
 * 600 000 iterations + AES-256-CBC, see crypto/pbes2.ts), or keys on a PKCS#11 token named by an
 * RFC 7512 URI. The store records only a `KeyReference`; the keys and their passphrase or PIN
 * never enter it (nor any log).
 *
 * - New key files are written under unique names (`keys/<stem>-<random>.key`, O_EXCL, 0600), so
 *   two concurrent `Authority.init` never overwrite each other's keys; the loser removes its own.
 * - `open` refuses a `keys/` directory holding a file readable or writable by group/others
 *   (`key-file-permissions`), as `fleetpki serve` must; every load checks the file again.
 * - The PKCS#11 PIN comes from `pin` (options), `FLEETPKI_PKCS11_PIN`, or the URI's `pin-source` file.
 * - Signers are loaded once per key reference and cached; `close()` closes token sessions.
 * - Several `fleetpki serve` instances on one PostgreSQL each need the keys: they share the data
 *   directory's `keys/` (one volume mounted by all, as the tests do) or keep the keys on a token
 *   every instance reaches. The store holds where a key is, never the key (store/types.ts).
 *
 *   const keys = await KeyStore.open({ dataDir: './fleetpki-data', passphrase });
 */
export interface KeyStoreOptions {
  /** The data directory; file references are relative to it. */
  dataDir: string;
  /** Passphrase of the key files (see secrets.ts for where it comes from). */
  passphrase?: string;
  /** PKCS#11 user PIN; default `FLEETPKI_PKCS11_PIN`, then the URI's `pin-source`. */
  pkcs11Pin?: string;
  /** PKCS#11 module; default the URI's `module-path`, `PKCS11_MODULE`, or SoftHSM2's Debian path. */
  pkcs11Module?: string;
  env?: NodeJS.ProcessEnv;
  /** Wraps every signer the store hands out (e.g. `countingSigners().wrap` to count signatures). */
  wrapSigner?: (signer: Signer) => Signer;
}

/** A key the store just wrote (or imported), with its signer. */
export interface CreatedKey {
  ref: KeyReference;
  /** SubjectPublicKeyInfo DER. */
  publicKey: Uint8Array;
  signer: Signer;
}

const KEY_DIR = 'keys';

/** The CA's key files and token keys (described above `KeyStoreOptions`). */
export class KeyStore {
  private readonly signers = new Map<string, Promise<Signer>>();
  private readonly tokenSigners: Pkcs11Signer[] = [];
  private readonly env: NodeJS.ProcessEnv;

  private constructor(private readonly o: KeyStoreOptions) {
    this.env = o.env ?? process.env;
  }

  /** Opens the key store; refuses key files that group or others can access. */
  static async open(o: KeyStoreOptions): Promise<KeyStore> {
    const ks = new KeyStore(o);
    ks.checkPermissions();
    return ks;
  }

  get dataDir(): string {
    return this.o.dataDir;
  }

  /** True when the key files can be decrypted (a passphrase was given). */
  get hasPassphrase(): boolean {
    return this.o.passphrase !== undefined;
  }

  /** Checks every file under DATA/keys and DATA/secrets (owner-only access). */
  checkPermissions(): void {
    for (const sub of [KEY_DIR, 'secrets']) {
      const dir = join(this.o.dataDir, sub);
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        continue;
      }
      for (const n of names.slice(0, 10_000)) if (!n.startsWith('.')) checkMode(join(dir, n));
    }
  }

  /** A signer for a key reference; its public key must be `expectSpki` (the CA certificate's key). */
  signer(ref: KeyReference, expectSpki?: Uint8Array): Promise<Signer> {
    const id = ref.kind === 'file' ? `file:${ref.path}` : ref.uri;
    let p = this.signers.get(id);
    if (!p) {
      const wrap = this.o.wrapSigner;
      p = wrap ? this.load(ref).then(wrap) : this.load(ref);
      this.signers.set(id, p);
      p.catch(() => this.signers.delete(id));
    }
    return p.then((s) => {
      if (expectSpki && !bytesEqual(s.publicKey, expectSpki))
        throw new CaError('bad-issuer', `the key ${describeRef(ref)} is not the CA certificate's key`);
      return s;
    });
  }

  /** Generates a key, writes it encrypted under a fresh name (`keys/<stem>-<random>.key`). */
  async createKeyFile(type: KeyType, stem: string): Promise<CreatedKey> {
    const pair = await generateKeyPair(type);
    return this.writeKey(pair.privateKey, stem);
  }

  /**
   * Imports a private key file (PEM/DER, PKCS#8 encrypted or not, SEC1, PKCS#1) and stores it
   * re-encrypted with the store's passphrase, so every key file has one protection.
   */
  async importKeyFile(path: string, stem: string, passphrase?: string): Promise<CreatedKey> {
    let key: PrivateKey;
    try {
      key = await importPrivateKey(readFileSync(path), { passphrase: passphrase ?? this.o.passphrase });
    } catch (e) {
      throw keyError(e, path);
    }
    return this.writeKey(key, stem);
  }

  /** Removes a key file this store wrote (the loser of a concurrent init cleans up). No-op for tokens. */
  removeKey(ref: KeyReference): void {
    if (ref.kind !== 'file') return;
    const p = this.path(ref.path);
    const rel = relative(join(this.o.dataDir, KEY_DIR), p);
    if (rel.startsWith('..') || isAbsolute(rel)) return; // only our own key directory
    rmSync(p, { force: true });
    this.signers.delete(`file:${ref.path}`);
  }

  /** Closes PKCS#11 sessions. */
  close(): void {
    for (const s of this.tokenSigners.splice(0)) s.close();
    this.signers.clear();
  }

  private async writeKey(key: PrivateKey, stem: string): Promise<CreatedKey> {
    const passphrase = this.o.passphrase;
    if (passphrase === undefined)
      throw new CaError('passphrase-required', 'a passphrase is needed to write an encrypted key file');
    const pem = await exportKey(key, { format: 'pkcs8', passphrase });
    const dir = join(this.o.dataDir, KEY_DIR);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const name = `${stem}-${randomBytes(6).toString('hex')}.key`;
    const fd = openSync(join(dir, name), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      writeSync(fd, pem);
    } finally {
      closeSync(fd);
    }
    const ref: KeyReference = { kind: 'file', path: `${KEY_DIR}/${name}` };
    const real = await KeySigner.create(key);
    const signer = this.o.wrapSigner ? this.o.wrapSigner(real) : real;
    this.signers.set(`file:${ref.path}`, Promise.resolve(signer));
    return { ref, publicKey: key.spki, signer };
  }

  private path(p: string): string {
    return isAbsolute(p) ? p : resolve(this.o.dataDir, p);
  }

  private async load(ref: KeyReference): Promise<Signer> {
    if (ref.kind === 'file') {
      const path = this.path(ref.path);
      let data: Buffer;
      let fd: number;
      try {
        fd = openSync(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
      } catch (e) {
        throw new CaError('key-unavailable', `cannot open key file ${path}: ${(e as Error).message}`);
      }
      try {
        checkMode(path, fstatSync(fd));
        data = readFileSync(fd);
      } finally {
        closeSync(fd);
      }
      try {
        const key = await importPrivateKey(data, { passphrase: this.o.passphrase });
        return await KeySigner.create(key);
      } catch (e) {
        throw keyError(e, path);
      }
    }
    const u = parsePkcs11Uri(ref.uri);
    const pin =
      this.o.pkcs11Pin ?? this.env[PKCS11_PIN_ENV] ?? (u.pinSource ? readSecretFile(u.pinSource) : undefined);
    if (pin === undefined)
      throw new CaError(
        'key-unavailable',
        `no PIN for token "${u.token}": set ${PKCS11_PIN_ENV} or a pin-source in the key URI`,
      );
    try {
      const s = await Pkcs11Signer.open({
        module: this.o.pkcs11Module ?? u.modulePath ?? this.env.PKCS11_MODULE,
        tokenLabel: u.token,
        pin,
        keyLabel: u.object,
        keyId: u.id,
      });
      this.tokenSigners.push(s);
      return s;
    } catch (e) {
      // The message names the token and CKR code only; the PIN is never part of it.
      throw new CaError(
        'key-unavailable',
        `PKCS#11 key ${describeRef(ref)}: ${(e as Error).message}`,
        {},
        { cause: e },
      );
    }
  }
}

/** A key reference for messages (a path or a PKCS#11 URI, which never holds a PIN). */
export function describeRef(ref: KeyReference): string {
  return ref.kind === 'file' ? ref.path : ref.uri;
}

function keyError(e: unknown, path: string): CaError {
  if (e instanceof CaError) return e;
  if (e instanceof CryptoError) {
    if (e.code === 'passphrase-required')
      return new CaError('passphrase-required', `${path} is encrypted and no passphrase was given`);
    if (e.code === 'bad-passphrase') return new CaError('bad-passphrase', `wrong passphrase for ${path}`);
    return new CaError('key-unavailable', `${path}: ${e.message}`, {}, { cause: e });
  }
  return new CaError('key-unavailable', `${path}: ${(e as Error).message}`, {}, { cause: e });
}

/** Options of `openKeys`. */
export interface OpenKeysOptions extends Omit<KeyStoreOptions, 'passphrase'> {
  /** The store: a passphrase is generated only when it holds no CA yet. */
  store: Store;
  /** Given passphrase (e.g. read from `--passphrase-file`); else FLEETPKI_PASSPHRASE, else DATA/secrets/passphrase. */
  passphrase?: string;
}

/**
 * The key store as `fleetpki serve` and `fleetpki ca …` open it: the passphrase from the option,
 * `FLEETPKI_PASSPHRASE`, or `DATA/secrets/passphrase`; on a store that holds no CA yet (a first
 * start on a fresh machine) a random one is generated into `DATA/secrets/passphrase` (0600) —
 * `passphrase.source === 'generated'` then, and the caller must say so loudly. On a store that has
 * a CA, a missing passphrase is `passphrase-required` (a new one could not open the keys).
 * Returns where the passphrase came from, never the passphrase itself.
 */
export async function openKeys(
  o: OpenKeysOptions,
): Promise<{ keys: KeyStore; passphrase: Omit<ResolvedPassphrase, 'passphrase'> }> {
  const fresh = (await o.store.listIssuers()).length === 0;
  const { passphrase, ...where } = resolvePassphrase({
    dataDir: o.dataDir,
    passphrase: o.passphrase,
    env: o.env,
    generate: fresh,
  });
  const { store: _store, ...rest } = o;
  return { keys: await KeyStore.open({ ...rest, passphrase }), passphrase: where };
}
