import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importPrivateKey, KeySigner, type Signer } from '../../src/crypto/index.js';
import { MemoryStatusSource } from '../../src/revocation/status-source.js';
import type { CRLReason } from '../../src/x509/extensions/types.js';

/**
 * Test fixtures made by the shared OpenSSL generator (../shared/peers/gen-test-pki.sh, RECIPES §1):
 * root → int → device/revoked/expired/server/ocsp, plus a rogue CA. Fails loudly if openssl is missing.
 */
export const GEN_PKI = join(import.meta.dirname, '../../../shared/peers/gen-test-pki.sh');

export function requireTool(name: string): void {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'pipe' });
  } catch {
    throw new Error(`${name} not found on PATH (CI installs it; see scripts/provision.sh)`);
  }
}

export interface TestPki {
  dir: string;
  path(name: string): string;
  read(name: string): Buffer;
  text(name: string): string;
  openssl(
    args: string[],
    opts?: { allowFail?: boolean; input?: Uint8Array },
  ): { stdout: string; stderr: string; status: number };
  cleanup(): void;
}

export function makeTestPki(prefix = 'fleetpki-rev-'): TestPki {
  requireTool('openssl');
  const dir = mkdtempSync(join(tmpdir(), prefix));
  execFileSync('bash', [GEN_PKI, dir], { stdio: 'pipe' });
  return {
    dir,
    path: (n) => join(dir, n),
    read: (n) => readFileSync(join(dir, n)),
    text: (n) => readFileSync(join(dir, n), 'utf8'),
    openssl(args, opts = {}) {
      try {
        const stdout = execFileSync('openssl', args, {
          cwd: dir,
          stdio: 'pipe',
          input: opts.input,
          encoding: 'utf8',
        });
        return { stdout, stderr: '', status: 0 };
      } catch (e) {
        const err = e as { stdout?: string; stderr?: string; status?: number };
        if (!opts.allowFail) throw new Error(`openssl ${args.join(' ')} failed: ${err.stderr}`);
        return { stdout: err.stdout ?? '', stderr: err.stderr ?? '', status: err.status ?? 1 };
      }
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Runs a command without blocking the event loop (our servers live in the same process). */
export function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; timeoutMs?: number } = {},
): Promise<{ stdout: string; stderr: string; status: number }> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { cwd: opts.cwd, timeout: opts.timeoutMs ?? 15000, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const status = err
          ? typeof (err as { code?: unknown }).code === 'number'
            ? (err as { code: number }).code
            : 1
          : 0;
        resolve({ stdout, stderr, status });
      },
    );
  });
}

export async function signerFromPem(keyPem: string): Promise<Signer> {
  return KeySigner.create(await importPrivateKey(keyPem));
}

/** Counts signatures so tests can prove a path never reached the signer. */
export function countingSigner(s: Signer): Signer & { calls: number } {
  const c = {
    algorithm: s.algorithm,
    publicKey: s.publicKey,
    calls: 0,
    sign(tbs: Uint8Array) {
      c.calls++;
      return s.sign(tbs);
    },
  };
  return c;
}

const REASONS: Record<string, CRLReason> = {
  unspecified: 'unspecified',
  keyCompromise: 'keyCompromise',
  CACompromise: 'cACompromise',
  affiliationChanged: 'affiliationChanged',
  superseded: 'superseded',
  cessationOfOperation: 'cessationOfOperation',
  certificateHold: 'certificateHold',
  removeFromCRL: 'removeFromCRL',
};

/** Loads an `openssl ca` index.txt (V/R/E lines) into a MemoryStatusSource under `issuerId`. */
export function sourceFromIndex(
  indexTxt: string,
  issuerId: string,
  src = new MemoryStatusSource(),
): MemoryStatusSource {
  for (const line of indexTxt.split('\n')) {
    const f = line.split('\t');
    if (f.length < 4) continue;
    src.issue(issuerId, f[3]!);
    if (f[0] === 'R') {
      const [date, reason] = f[2]!.split(',');
      const d = date!;
      const y = Number(d.slice(0, 2));
      const t = Date.UTC(
        y >= 50 ? 1900 + y : 2000 + y,
        Number(d.slice(2, 4)) - 1,
        Number(d.slice(4, 6)),
        Number(d.slice(6, 8)),
        Number(d.slice(8, 10)),
        Number(d.slice(10, 12)),
      );
      src.revoke(issuerId, f[3]!, { revocationTime: t, reason: reason ? REASONS[reason] : undefined });
    }
  }
  return src;
}
