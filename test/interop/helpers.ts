// Shared setup for the interop tests: temp dirs, running real tools (openssl, certtool, Go),
// and a small PKI built by fleetpki. A missing tool FAILS with a clear message (CI installs them).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildGoTool } from '../../bench/go/build.js';
import { generateKeyPair, type KeyPair, KeySigner, type KeyType } from '../../src/crypto/index.js';
import { CertificateBuilder, type IssuedCertificate, Issuer } from '../../src/issue/index.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(
  cmd: string,
  args: readonly string[],
  opts: { cwd?: string; input?: string | Uint8Array } = {},
): RunResult {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, input: opts.input, encoding: 'utf8', timeout: 60_000 });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    throw new Error(
      code === 'ENOENT'
        ? `${cmd} not found on PATH (CI installs it; see ../shared/RECIPES.md §0)`
        : `${cmd}: ${r.error.message}`,
    );
  }
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function tempDir(prefix: string): {
  dir: string;
  file: (name: string, data?: string | Uint8Array) => string;
  remove: () => void;
} {
  const dir = mkdtempSync(join(tmpdir(), `fleetpki-${prefix}-`));
  return {
    dir,
    file: (name, data) => {
      const p = join(dir, name);
      if (data !== undefined) writeFileSync(p, data);
      return p;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

let goverify: Promise<string> | undefined;
/** The Go crypto/x509 verifier (bench/go/goverify), built once per process. */
export function goVerifier(): Promise<string> {
  goverify ??= buildGoTool('goverify');
  return goverify;
}

export interface Pki {
  type: KeyType;
  rootKey: KeyPair;
  intKey: KeyPair;
  leafKey: KeyPair;
  root: IssuedCertificate;
  intermediate: IssuedCertificate;
  rootIssuer: Issuer;
  intIssuer: Issuer;
}

/** Keys for one key type: root, intermediate, leaf (generated in parallel; RSA is slow). */
export async function keysFor(type: KeyType): Promise<[KeyPair, KeyPair, KeyPair]> {
  return Promise.all([generateKeyPair(type), generateKeyPair(type), generateKeyPair(type)]);
}

/** root → intermediate, all fleetpki, every key of `type`. */
export async function buildPki(type: KeyType, keys?: [KeyPair, KeyPair, KeyPair]): Promise<Pki> {
  const [rootKey, intKey, leafKey] = keys ?? (await keysFor(type));
  const rootSigner = await KeySigner.create(rootKey.privateKey);
  const intSigner = await KeySigner.create(intKey.privateKey);
  const root = await new CertificateBuilder('root')
    .subject(`CN=Interop Root ${type},O=fleetpki test`)
    .sign(rootSigner);
  const rootIssuer = Issuer.fromCertificate(root.certificate, rootSigner);
  const intermediate = await new CertificateBuilder('intermediate')
    .subject(`CN=Interop Issuing CA ${type},O=fleetpki test`)
    .publicKey(intKey.publicKey)
    .issuer(rootIssuer)
    .sign();
  const intIssuer = Issuer.fromCertificate(intermediate.certificate, intSigner);
  return { type, rootKey, intKey, leafKey, root, intermediate, rootIssuer, intIssuer };
}

export function assertOpenSslOk(r: RunResult, what: string): void {
  assert.equal(r.code, 0, `${what}: openssl exit ${r.code}\n${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /: OK\s*$/, `${what}: ${r.stdout}${r.stderr}`);
}
