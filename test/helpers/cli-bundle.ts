// The real `fleetpki` command for tests that start many processes: src/cli/main.ts bundled once per
// test process with esbuild (a dev dependency) into one ESM file, with the worker threads' scripts
// (SQLite writer, verify pool) beside it, where built code looks for them, then run with plain
// `node`. The same code as `npm run build` produces, without paying tsx's start-up (about 2.5 s of
// CPU per process here) for each of the dozens of processes these tests run. npm packages stay
// external and resolve from the repository's node_modules (the bundle lives under .tmp/).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

let built: Promise<string> | undefined;

/** Path of the bundled CLI (built on first call; removed when the process exits). */
export function cliBundle(): Promise<string> {
  built ??= (async () => {
    const { build } = await import('esbuild');
    mkdirSync(join(root, '.tmp'), { recursive: true });
    const out = mkdtempSync(join(root, '.tmp', 'cli-bundle-'));
    process.once('exit', () => rmSync(out, { recursive: true, force: true }));
    const common = {
      bundle: true,
      platform: 'node' as const,
      format: 'esm' as const,
      target: 'node20',
      packages: 'external' as const,
      logLevel: 'error' as const,
      // Bundled CommonJS dependencies of our own code (none today) would need `require`.
      banner: {
        js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
      },
    };
    await build({
      ...common,
      entryPoints: { main: join(root, 'src/cli/main.ts') },
      outExtension: { '.js': '.mjs' },
      outdir: out,
    });
    await build({
      ...common,
      entryPoints: {
        'sqlite-worker': join(root, 'src/ca/store/sqlite-worker.ts'),
        'verify-worker': join(root, 'src/crypto/verify-worker.ts'),
      },
      outdir: out,
    });
    return join(out, 'main.mjs');
  })();
  return built;
}

export interface ProcResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the bundled `fleetpki ARGS` as a child process; resolves when it exits. */
export async function fleetpkiAsync(
  args: readonly string[],
  o: { cwd: string; env?: Record<string, string | undefined>; timeoutMs?: number },
): Promise<ProcResult> {
  const main = await cliBundle();
  const env: NodeJS.ProcessEnv = { ...process.env, ...o.env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [main, ...args], {
      cwd: o.cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    p.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => p.kill('SIGKILL'), o.timeoutMs ?? 600_000);
    p.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    p.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
