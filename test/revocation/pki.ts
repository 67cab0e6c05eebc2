import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
