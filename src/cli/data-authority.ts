import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { Authority } from '../ca/authority.js';
import { type CaConfig, loadConfig, parseConfig } from '../ca/config.js';
import { CaError } from '../ca/errors.js';
import { KeyStore } from '../ca/keys.js';
import { readSecretFile, resolvePassphrase } from '../ca/secrets.js';
import { openStore } from '../ca/store/index.js';
import { StoreError } from '../ca/store/types.js';
import { CliError, EXIT_INPUT, EXIT_INTERNAL } from './errors.js';

/**
 * Opens the CA that `fleetpki serve` runs from its data directory, for commands that act on it
 * while the service may be running (`est token`, `est trust-bootstrap`, `broker-config`): the same
 * store (SQLite under DATA, or `--db`/`DATABASE_URL`), keys and configuration (`--config`, else
 * DATA/config.yaml when present), with no background work. The store serialises the writes of
 * several processes, so this is safe beside a running `serve`.
 */
export interface DataOptions {
  data: string;
  db?: string;
  config?: string;
  passphraseFile?: string;
}

/** The usual options of such a command. */
export const DATA_OPTION_HELP = {
  data: 'data directory of fleetpki serve',
  db: 'store URL (default DATABASE_URL, else DATA/fleetpki.db)',
  config: 'CA configuration (default DATA/config.yaml when present)',
  passphraseFile:
    'file holding the CA key passphrase (default FLEETPKI_PASSPHRASE or DATA/secrets/passphrase)',
} as const;

export interface OpenedCa {
  ca: Authority;
  config: CaConfig;
  dataDir: string;
  /** The requester for the audit log: `cli:<user>`. */
  requester: string;
  close(): Promise<void>;
}

export async function openDataAuthority(o: DataOptions, env = process.env): Promise<OpenedCa> {
  const dataDir = resolve(o.data);
  const dbUrl = o.db ?? env.DATABASE_URL ?? `sqlite:${join(dataDir, 'fleetpki.db')}`;
  if (dbUrl.startsWith('sqlite:') && !existsSync(dbUrl.slice('sqlite:'.length)))
    throw new CliError(
      `no CA in ${dataDir} (run fleetpki serve --data ${o.data} once, or pass --db)`,
      EXIT_INPUT,
    );
  const configFile =
    o.config ?? (existsSync(join(dataDir, 'config.yaml')) ? join(dataDir, 'config.yaml') : undefined);
  try {
    const config = configFile ? loadConfig(configFile) : parseConfig({});
    const passphrase = o.passphraseFile
      ? readSecretFile(o.passphraseFile)
      : resolvePassphrase({ dataDir, env, generate: false }).passphrase;
    const keys = await KeyStore.open({ dataDir, passphrase, env });
    const store = await openStore(dbUrl, { sqlite: { writer: 'inline' } });
    let ca: Authority;
    try {
      ca = await Authority.open({ store, keys, config, background: 'off' });
    } catch (e) {
      keys.close();
      await store.close();
      throw e;
    }
    return {
      ca,
      config,
      dataDir,
      requester: `cli:${safeUser()}`,
      async close() {
        await ca.close();
        keys.close();
        await store.close();
      },
    };
  } catch (e) {
    if (e instanceof CaError)
      throw new CliError(`${e.code}: ${e.message}`, e.code === 'store-failure' ? EXIT_INTERNAL : EXIT_INPUT);
    if (e instanceof StoreError) throw new CliError(`store ${e.code}: ${e.message}`, EXIT_INTERNAL);
    throw e;
  }
}

function safeUser(): string {
  try {
    return userInfo().username || 'unknown';
  } catch {
    return 'unknown';
  }
}
