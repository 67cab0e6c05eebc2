// Running real tools (openssl, curl, gnutls-cli, sh pipelines) from tests WITHOUT blocking the
// event loop: the servers under test live in the same process, so spawnSync would deadlock.
import { spawn } from 'node:child_process';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `cmd args`; resolves with the exit code (128 when killed by a signal) and both outputs. */
export function run(
  cmd: string,
  args: readonly string[],
  opts: { cwd?: string; input?: string | Uint8Array; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    p.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    p.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        e.code === 'ENOENT'
          ? new Error(`${cmd} not found on PATH (CI installs it; see scripts/provision.sh)`)
          : e,
      );
    });
    p.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
    p.stdin.on('error', () => {});
    p.stdin.end(opts.input ?? '');
  });
}

/** Runs a shell pipeline with `sh -c`. */
export function sh(script: string, opts: { cwd?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return run('sh', ['-c', script], opts);
}
