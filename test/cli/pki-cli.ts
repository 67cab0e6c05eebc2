// Helpers for the key/csr/ca/crl CLI tests: run the real CLI in a child process (tsx, no build).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
// Resolved here: the children run in temp dirs, where a bare `--import tsx` would not resolve.
const tsx = import.meta.resolve('tsx');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function fleetpkiProcess(
  args: readonly string[],
  opts: { cwd: string; env?: Record<string, string | undefined> },
): CliRun {
  const env = { ...process.env, ...opts.env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  const r = spawnSync(process.execPath, ['--import', tsx, join(root, 'src/cli/main.ts'), ...args], {
    cwd: opts.cwd,
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function openssl(args: readonly string[], cwd: string): CliRun {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.error) throw new Error(`openssl not found on PATH (CI installs it): ${r.error.message}`);
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The same CLI in this process (`main(argv)` from src/cli/main.ts): cwd, environment and
 * stdout/stderr are swapped for the call. Child processes cost ~1 s each here (tsx start-up),
 * so most cases run this way; `fleetpkiProcess` covers the real entry point.
 */
export async function fleetpki(
  args: readonly string[],
  opts: { cwd: string; env?: Record<string, string | undefined> },
): Promise<CliRun> {
  const savedCwd = process.cwd();
  const savedEnv: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    savedEnv[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write;
  const err = process.stderr.write;
  // The CLI writes strings; node:test's child reporter writes serialized Buffers to stdout at
  // any time, and those must still reach the runner.
  process.stdout.write = ((c: string | Uint8Array, ...rest: unknown[]) => {
    if (typeof c !== 'string') return (out as (...a: unknown[]) => boolean).call(process.stdout, c, ...rest);
    stdout += c;
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array, ...rest: unknown[]) => {
    if (typeof c !== 'string') return (err as (...a: unknown[]) => boolean).call(process.stderr, c, ...rest);
    stderr += c;
    return true;
  }) as typeof process.stderr.write;
  process.chdir(opts.cwd);
  // node:test sets process.exitCode = 1 after a failed test; main() must not read that as its own.
  const savedExitCode = process.exitCode;
  process.exitCode = undefined;
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
    process.chdir(savedCwd);
    process.exitCode = savedExitCode;
    for (const [k, v] of Object.entries(savedEnv)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}
