// Builds the Go helpers under bench/go/<name>/ into .tmp/go-bin/<name> for benches and interop
// tests. No network (GOPROXY=off, GOTOOLCHAIN=local: the helpers use only the standard library)
// and caches under .tmp so it works as root in a fresh CI clone. Rebuilds only when the sources
// or the Go version changed (a content hash stored next to the binary).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type GoToolName = 'parsebench' | 'verifybench' | 'goverify';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const srcRoot = join(repoRoot, 'bench', 'go');
const binDir = join(repoRoot, '.tmp', 'go-bin');

function goEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GOPROXY: 'off',
    GOTOOLCHAIN: 'local',
    GOFLAGS: '',
    GOCACHE: join(repoRoot, '.tmp', 'go-cache'),
    GOPATH: join(repoRoot, '.tmp', 'go-path'),
  };
}

let goVersion: Promise<string> | undefined;

async function findGo(): Promise<string> {
  goVersion ??= run('go', ['version'], { env: goEnv() }).then(
    (r) => r.stdout.trim(),
    (e: NodeJS.ErrnoException) => {
      goVersion = undefined;
      throw new Error(
        e.code === 'ENOENT'
          ? 'go not found on PATH: install golang-go (scripts/provision.sh does this as root)'
          : `go version failed: ${e.message}`,
      );
    },
  );
  return goVersion;
}

function sourceHash(dir: string, version: string): string {
  const h = createHash('sha256').update(version).update('\0');
  for (const f of readdirSync(dir).sort()) {
    if (!f.endsWith('.go') && f !== 'go.mod' && f !== 'go.sum') continue;
    h.update(f).update('\0').update(readFileSync(join(dir, f))).update('\0');
  }
  return h.digest('hex');
}

const inFlight = new Map<GoToolName, Promise<string>>();

/** Builds (if needed) bench/go/<name> and returns the absolute path of the binary. */
export function buildGoTool(name: GoToolName): Promise<string> {
  let p = inFlight.get(name);
  if (!p) {
    p = build(name).finally(() => inFlight.delete(name));
    inFlight.set(name, p);
  }
  return p;
}

async function build(name: GoToolName): Promise<string> {
  const dir = join(srcRoot, name);
  if (!existsSync(join(dir, 'go.mod'))) throw new Error(`no Go program at ${dir}`);
  const version = await findGo();
  const hash = sourceHash(dir, version);
  const bin = join(binDir, name);
  const stamp = `${bin}.hash`;
  if (existsSync(bin) && existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) return bin;

  mkdirSync(binDir, { recursive: true });
  // Build to a private name and rename, so concurrent test files never run a half-written binary.
  const tmp = `${bin}.${process.pid}.${Date.now()}`;
  try {
    // No -trimpath or CGO_ENABLED override: either makes Go 1.19 recompile the standard library
    // instead of using the installed one (~17 s instead of ~1 s on a cold cache).
    await run('go', ['build', '-o', tmp, '.'], { cwd: dir, env: goEnv() });
  } catch (e) {
    rmSync(tmp, { force: true });
    const err = e as { stderr?: string; message: string };
    throw new Error(`go build ${name} failed: ${err.stderr?.trim() || err.message}`);
  }
  renameSync(tmp, bin);
  writeFileSync(stamp, hash);
  return bin;
}
