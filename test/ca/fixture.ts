// A CA on the real SQLite store in a temp data directory, with every CA key wrapped in a counting
// signer (the real key signs; the count proves when it was not used), plus OpenSSL helpers.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Authority, type AuthorityOptions } from '../../src/ca/authority.js';
import { parseConfig } from '../../src/ca/config.js';
import { countingSigners } from '../../src/ca/counting-signer.js';
import type { InitHierarchyOptions } from '../../src/ca/init.js';
import { KeyStore } from '../../src/ca/keys.js';
import { openStore } from '../../src/ca/store/index.js';
import type { Store } from '../../src/ca/store/types.js';
import { encodePem } from '../../src/pem/index.js';
import { run } from '../interop/helpers.js';

export const PASSPHRASE = 'test passphrase (not a secret)';

export interface CaFixture {
  dir: string;
  dbUrl: string;
  store: Store;
  keys: KeyStore;
  ca: Authority;
  created: boolean;
  counter: ReturnType<typeof countingSigners>;
  /** Writes a file in the temp dir and returns its path. */
  file(name: string, data: string | Uint8Array): string;
  /** Another Authority instance on the same store and data directory (a second `serve`). */
  instance(o?: Partial<AuthorityOptions>): Promise<{ ca: Authority; store: Store; keys: KeyStore }>;
  close(): Promise<void>;
}

export interface FixtureOptions {
  config?: unknown;
  clock?: () => number;
  init?: InitHierarchyOptions;
  /** Keep an existing directory (a restart). */
  dir?: string;
  /** The store URL (default: SQLite in the directory). */
  dbUrl?: string;
}

export async function caFixture(o: FixtureOptions = {}): Promise<CaFixture> {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'fleetpki-ca-'));
  const dbUrl = o.dbUrl ?? `sqlite:${join(dir, 'fleetpki.db')}`;
  const config = parseConfig(o.config ?? {});
  const counter = countingSigners();
  const store = await openStore(dbUrl);
  const keys = await KeyStore.open({ dataDir: dir, passphrase: PASSPHRASE, wrapSigner: counter.wrap });
  const { authority: ca, created } = await Authority.init({
    store,
    keys,
    config,
    clock: o.clock,
    background: 'off',
    ...(o.init ?? {}),
  });
  const others: { ca: Authority; store: Store; keys: KeyStore }[] = [];
  return {
    dir,
    dbUrl,
    store,
    keys,
    ca,
    created,
    counter,
    file(name, data) {
      const p = join(dir, name);
      writeFileSync(p, data);
      return p;
    },
    async instance(extra = {}) {
      const s = await openStore(dbUrl);
      const k = await KeyStore.open({ dataDir: dir, passphrase: PASSPHRASE });
      const other = await Authority.open({
        store: s,
        keys: k,
        config,
        background: 'off',
        clock: o.clock,
        ...extra,
      });
      const x = { ca: other, store: s, keys: k };
      others.push(x);
      return x;
    },
    async close() {
      for (const x of others) {
        await x.ca.close();
        x.keys.close();
        await x.store.close();
      }
      await ca.close();
      keys.close();
      await store.close();
      if (!o.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function pem(der: Uint8Array, label = 'CERTIFICATE'): string {
  return encodePem(label, der);
}

/**
 * `openssl verify` exit code and output, at this process's time (`-attime`): OpenSSL runs on the
 * real clock, and under scripts/test-clock.sh this process's clock runs ahead of it.
 */
export function opensslVerify(
  cwd: string,
  leaf: string,
  opts: { root: string; untrusted?: string; crls?: string[]; purpose?: string },
): { ok: boolean; out: string } {
  const args = [
    'verify',
    '-x509_strict',
    '-attime',
    String(Math.floor(Date.now() / 1000)),
    '-CAfile',
    opts.root,
  ];
  if (opts.untrusted) args.push('-untrusted', opts.untrusted);
  if (opts.purpose) args.push('-purpose', opts.purpose);
  if (opts.crls?.length) {
    args.push('-crl_check');
    for (const c of opts.crls) args.push('-CRLfile', c);
  }
  args.push(leaf);
  const r = run('openssl', args, { cwd });
  return { ok: r.code === 0 && /: OK\s*$/.test(r.stdout), out: r.stdout + r.stderr };
}

export function assertVerified(cwd: string, leaf: string, opts: Parameters<typeof opensslVerify>[2]): void {
  const r = opensslVerify(cwd, leaf, opts);
  assert.ok(r.ok, `openssl verify: ${r.out}`);
}

/** Every issuer key file in DATA/keys. */
export function keyFiles(dir: string): string[] {
  try {
    return readdirSync(join(dir, 'keys')).sort();
  } catch {
    return [];
  }
}

/**
 * Runs a tool without blocking the event loop (an in-process server must answer it, e.g. our OCSP
 * routes for `openssl ocsp -url`). Resolves with the exit code and output; never rejects for a
 * non-zero exit. A missing tool fails with a message saying so.
 */
export function runAsync(
  cmd: string,
  args: readonly string[],
  opts: { cwd?: string; timeoutMs?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { cwd: opts.cwd, timeout: opts.timeoutMs ?? 30_000, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (err && (err as NodeJS.ErrnoException).code === 'ENOENT')
          return reject(new Error(`${cmd} not found on PATH (CI installs it; see ../shared/RECIPES.md §0)`));
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
