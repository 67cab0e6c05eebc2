/**
 * The CA directory that `fleetpki ca …`, `fleetpki crl …` and `fleetpki serve --data DIR` share: one
 * layout, one store, one Authority. A directory made by `ca init --dir DIR` is a `serve` data
 * directory and the other way round:
 *
 *   DIR/fleetpki.db          the store (SQLite), unless `--db URL` / `DATABASE_URL` names another
 *   DIR/keys/<id>-<rnd>.key  the CA keys (encrypted PKCS#8, 0600) the store's key references name
 *   DIR/root.crt, DIR/intermediate.crt   the root and the default issuing CA certificate (PEM, 0644)
 *   DIR/root.key, DIR/intermediate.key   the same key files as in keys/, hard-linked (0600)
 *   DIR/config.yaml          the CA configuration (ca/config.ts): written by `ca init` from its
 *                            options, read by every `ca`/`crl` command and by `serve --data DIR`
 *   DIR/secrets/passphrase   only when `serve` generated a passphrase on a first start
 *   DIR/admin/, DIR/ca/      written by `serve` (admin credential; public chain)
 *   DIR/ca.json.migrated     a CA made by an earlier fleetpki, after its migration (ca-migrate.ts)
 *
 * Every record (certificates, revocations, CRL numbers, the audit log) lives in the store: the
 * store's transactions make concurrent commands on one directory safe, and a crash at any point
 * leaves either no certificate or a recorded one (a reservation the recovery pass voids).
 *
 * The key files are found through the store (`keys/…`); the names at the top of DIR are links
 * for people and tools (`openssl pkey -in DIR/root.key`). They are (re)created by every command
 * when missing, so a crash of `ca init` after the store committed heals on the next command.
 *
 * Test-only: `FLEETPKI_TEST_KILL_AT=before-reserve|after-reserve|after-sign|after-complete` makes a
 * command SIGKILL itself at that stage of an issuance (crash-safety tests); nothing else reads it.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { Authority } from '../ca/authority.js';
import { type CaConfig, loadConfig, parseConfig } from '../ca/config.js';
import { CaError } from '../ca/errors.js';
import { KeyStore } from '../ca/keys.js';
import { passphraseFile, readSecretFile } from '../ca/secrets.js';
import { openStore, parseStoreUrl } from '../ca/store/index.js';
import { type KeyReference, type Store, StoreError } from '../ca/store/types.js';
import type { Certificate } from '../x509/certificate.js';
import { migrateLegacyCaDir, readLegacyCaDir } from './ca-migrate.js';
import { CliError, EXIT_INPUT, EXIT_INTERNAL } from './errors.js';
import { getPassphrase, PUBLIC_MODE, writeFileAtomic } from './pki-files.js';

export const CONFIG_FILE = 'config.yaml';
export const LEGACY_STATE = 'ca.json';

/** The files of a CA directory. */
export const caFiles = (dir: string) => ({
  rootCert: join(dir, 'root.crt'),
  rootKey: join(dir, 'root.key'),
  intCert: join(dir, 'intermediate.crt'),
  intKey: join(dir, 'intermediate.key'),
  config: join(dir, CONFIG_FILE),
  legacyState: join(dir, LEGACY_STATE),
  store: join(dir, 'fleetpki.db'),
});

/** The store URL of a CA directory: `--db`, else `DATABASE_URL`, else `sqlite:DIR/fleetpki.db` (as `serve`). */
export function storeUrl(dir: string, db?: string): string {
  return db ?? process.env.DATABASE_URL ?? `sqlite:${caFiles(dir).store}`;
}

/** Who the audit log names for a CLI command: `cli:<login name>`. */
export function cliRequester(): string {
  let name = 'unknown';
  try {
    name = userInfo().username || name;
  } catch {
    // No passwd entry for this uid (a container): still a CLI user.
  }
  return `cli:${name}`;
}

/** The CA configuration of DIR: DIR/config.yaml when present, else every default. */
export function dirConfig(dir: string): CaConfig {
  const f = caFiles(dir).config;
  return existsSync(f) ? loadConfig(f) : parseConfig({});
}

/** YAML text of the settings `ca init` chose (what config.yaml holds). */
export function configYaml(settings: Record<string, unknown>): string {
  return (
    '# fleetpki CA configuration (see README: the CA as a library / configuration).\n' +
    '# Written by `fleetpki ca init`; read by `fleetpki ca …`, `crl …` and `serve --data` on this directory.\n' +
    '# The hierarchy section only matters when the CA is created.\n' +
    toYaml(settings)
  );
}

/** CaError / StoreError → one-line CliError (setup problems exit 2, store outages 70). */
export function caCliError(e: unknown, what: string): unknown {
  if (e instanceof CliError) return e;
  if (e instanceof CaError) {
    const internal = e.code === 'store-failure' || e.code === 'sign-failed' || e.code === 'closed';
    return new CliError(`${what}: ${e.code}: ${e.message}`, internal ? EXIT_INTERNAL : EXIT_INPUT);
  }
  if (e instanceof StoreError)
    return new CliError(
      `${what}: store ${e.code}: ${e.message}`,
      e.code === 'bad-url' ? EXIT_INPUT : EXIT_INTERNAL,
    );
  return e;
}

/** Opens a store for a short-lived command (SQLite writes inline: no writer thread to start). */
export async function openCliStore(url: string): Promise<Store> {
  return openStore(url, { sqlite: { writer: 'inline' } });
}

/** Is there a CA (or the CA of an earlier fleetpki) in DIR? Checked without creating anything. */
export function describeExisting(dir: string, db?: string): string | undefined {
  const f = caFiles(dir);
  if (existsSync(f.legacyState)) return f.legacyState;
  for (const p of [f.rootKey, f.intKey, f.rootCert, f.intCert]) if (existsSync(p)) return p;
  const where = parseStoreUrl(storeUrl(dir, db));
  if (where.kind === 'sqlite' && existsSync(where.path) && statSync(where.path).size > 0) return where.path;
  return undefined;
}

export interface OpenCaDirOptions {
  dir: string;
  db?: string;
  passphraseFile?: string;
  /** Replaces parts of DIR/config.yaml for this command (e.g. `crl create --days`). */
  configure?: (c: CaConfig) => CaConfig;
}

/** An opened CA directory: its store, keys and Authority (no background work: a CLI command). */
export class CaDir {
  private constructor(
    readonly dir: string,
    readonly store: Store,
    readonly keys: KeyStore,
    readonly authority: Authority,
    readonly requester: string,
  ) {}

  /**
   * Opens the CA in DIR for a command: the store (migrating a CA made by an earlier fleetpki on
   * first use), the passphrase (`--passphrase-file`, `FLEETPKI_PASSPHRASE`, DIR/secrets/passphrase,
   * or a prompt), the keys and the Authority; then puts back any missing certificate or key link.
   * Exit 2 with one line when DIR holds no CA, the passphrase is wrong or a key file is exposed.
   */
  static async open(o: OpenCaDirOptions): Promise<CaDir> {
    const dir = resolve(o.dir);
    const url = storeUrl(dir, o.db);
    const f = caFiles(dir);
    const where = parseStoreUrl(url);
    if (where.kind === 'sqlite' && !existsSync(where.path) && !existsSync(f.legacyState))
      throw new CliError(`${o.dir} is not a fleetpki CA directory (run fleetpki ca init --dir ${o.dir})`);
    const requester = cliRequester();
    // A directory of the file-based CLI: its ca.json is checked before anything is opened or made.
    readLegacyCaDir(dir);
    let store: Store | undefined;
    let keys: KeyStore | undefined;
    try {
      store = await openCliStore(url);
      if (existsSync(f.legacyState)) await migrateLegacyCaDir({ dir, store, requester });
      if ((await store.listIssuers()).length === 0)
        throw new CliError(`${o.dir} holds no CA (run fleetpki ca init --dir ${o.dir})`);
      let config: CaConfig;
      try {
        config = dirConfig(dir);
        if (o.configure) config = o.configure(config);
      } catch (e) {
        throw caCliError(e, f.config);
      }
      const passphrase = await cliPassphrase(dir, o.passphraseFile, 'the CA keys');
      keys = await KeyStore.open({ dataDir: dir, passphrase });
      const authority = await Authority.open({
        store: withTestCrashPoints(store),
        keys,
        config,
        background: 'off',
        systemActor: requester,
      });
      const ca = new CaDir(dir, store, keys, authority, requester);
      await ca.ensureFiles();
      return ca;
    } catch (e) {
      keys?.close();
      await store?.close().catch(() => undefined);
      throw caCliError(e, o.dir);
    }
  }

  /** Opens DIR right after `ca init` created its CA there (the Authority on the given store). */
  static async adopt(dir: string, store: Store, keys: KeyStore, config: CaConfig): Promise<CaDir> {
    const requester = cliRequester();
    const authority = await Authority.open({
      store,
      keys,
      config,
      background: 'off',
      systemActor: requester,
    });
    return new CaDir(resolve(dir), store, keys, authority, requester);
  }

  /** The root certificate and the default issuing CA's certificate. */
  get root(): Certificate {
    return this.authority.rootCertificate();
  }

  get intermediate(): Certificate {
    return this.authority.chain()[0]!;
  }

  /** Issuer ids of the two legacy roles: `root` and `intermediate` (the default issuing CA). */
  issuerId(role: 'root' | 'intermediate'): string {
    const infos = this.authority.issuers();
    const i =
      role === 'root'
        ? infos.find((x) => x.role === 'root' && x.status !== 'retired')
        : infos.find((x) => x.isDefault);
    if (!i) throw new CliError(`no ${role} CA in ${this.dir}`);
    return i.id;
  }

  async close(): Promise<void> {
    await this.authority.close();
    this.keys.close();
    await this.store.close();
  }

  /**
   * Writes DIR/root.crt and DIR/intermediate.crt and links DIR/root.key, DIR/intermediate.key when
   * they are missing or describe another CA (a rotated intermediate). A key name the store itself
   * refers to (a migrated directory) is never replaced.
   */
  async ensureFiles(): Promise<void> {
    const f = caFiles(this.dir);
    const refs = new Map((await this.store.listIssuers()).map((i) => [i.id, i.key]));
    const keyPath = (r: KeyReference | undefined) =>
      r?.kind === 'file' ? (isAbsolute(r.path) ? r.path : resolve(this.dir, r.path)) : undefined;
    const referenced = new Set([...refs.values()].map(keyPath));
    const pairs: [Certificate, string, string, string][] = [
      [this.root, f.rootCert, f.rootKey, this.issuerId('root')],
      [this.intermediate, f.intCert, f.intKey, this.issuerId('intermediate')],
    ];
    for (const [cert, certPath, keyName, id] of pairs) {
      const pem = cert.toPem();
      const current = existsSync(certPath) ? readFileSync(certPath, 'utf8') : undefined;
      const hasKey = existsSync(keyName);
      if (current === pem && hasKey) continue;
      // Another CA's files under a name the store uses for a key: leave them (migrated layout).
      if (current !== undefined && current !== pem && referenced.has(resolve(keyName))) continue;
      const src = keyPath(refs.get(id));
      if (src !== undefined && src !== resolve(keyName) && (current !== pem || !hasKey))
        linkInto(src, keyName);
      if (current !== pem) writeFileAtomic(certPath, pem, PUBLIC_MODE);
    }
  }
}

/** Hard-links `src` to `dest` (replacing dest atomically); a copy-free second name for one key file. */
function linkInto(src: string, dest: string): void {
  if (!existsSync(src)) return;
  const tmp = `${dest}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    linkSync(src, tmp);
    renameSync(tmp, dest);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * The CA key passphrase for an existing CA: `--passphrase-file`, `FLEETPKI_PASSPHRASE`, the
 * passphrase `serve` generated into DIR/secrets/passphrase, or a prompt.
 */
export async function cliPassphrase(dir: string, file: string | undefined, purpose: string): Promise<string> {
  if (file === undefined && process.env.FLEETPKI_PASSPHRASE === undefined) {
    const stored = readSecretFile(passphraseFile(dir));
    if (stored) return stored;
  }
  return getPassphrase({ passphraseFile: file, purpose });
}

/** Test-only crash points (see the module comment). */
export const KILL_AT_ENV = 'FLEETPKI_TEST_KILL_AT';

type CrashPoint = 'before-reserve' | 'after-reserve' | 'after-sign' | 'after-complete';

function withTestCrashPoints(store: Store): Store {
  const at = process.env[KILL_AT_ENV] as CrashPoint | undefined;
  if (!at) return store;
  const die = (point: CrashPoint): Promise<never> => {
    if (point === at) process.kill(process.pid, 'SIGKILL');
    return new Promise(() => {});
  };
  const reserve: Store['reserve'] = async (r) => {
    if (at === 'before-reserve') await die('before-reserve');
    const out = await store.reserve(r);
    if (at === 'after-reserve') await die('after-reserve');
    return out;
  };
  // The signature exists once `complete` is called; the certificate is stored once it returns.
  const complete: Store['complete'] = async (c, a) => {
    if (at === 'after-sign') await die('after-sign');
    await store.complete(c, a);
    if (at === 'after-complete') await die('after-complete');
  };
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'reserve') return reserve;
      if (prop === 'complete') return complete;
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/**
 * Opens the existing store of a data directory for `backup` and `audit verify`: `--db`, else
 * `DATABASE_URL`, else DATA/fleetpki.db — which must exist (nothing is created for a wrong path).
 */
export async function openExistingStore(
  dataDir: string,
  db?: string,
): Promise<{ store: Store; url: string }> {
  const url = storeUrl(resolve(dataDir), db);
  let where: ReturnType<typeof parseStoreUrl>;
  try {
    where = parseStoreUrl(url);
  } catch (e) {
    throw caCliError(e, '--db');
  }
  if (where.kind === 'sqlite' && !existsSync(where.path))
    throw new CliError(`no store at ${where.path} (is --data the CA's data directory?)`);
  try {
    return { store: await openCliStore(url), url };
  } catch (e) {
    throw caCliError(e, 'store');
  }
}
