import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

/**
 * A throwaway PostgreSQL cluster for tests and benches (RECIPES §11, after
 * ../shared/peers/pg-throwaway.sh): Debian's server binaries, a new data directory under the
 * system temp dir, trust authentication, listening on 127.0.0.1 only on a free high port, its unix
 * socket in that directory. initdb takes about 1.3 s, so start one cluster per test file.
 *
 * As root, initdb and pg_ctl run as the `postgres` OS user (initdb refuses root) and the directory
 * is handed to it; its parents must be traversable by that user (the system temp dir is), and the
 * socket path must stay under ~100 characters (the temp dir name is short).
 *
 * `stop()` shuts the server down and removes the directory; a cluster still running when the
 * process exits (a failed test that never reached its `after`) is stopped by an exit hook.
 */
export interface PgCluster {
  port: number;
  dir: string;
  /** postgres://postgres@127.0.0.1:PORT/DB */
  url(db?: string): string;
  stop(): void;
}

export interface PgClusterOptions {
  /**
   * `fast` (tests): fsync, synchronous_commit and full_page_writes off — a crash of the machine
   * could lose commits, which no test relies on. `durable` (benches): the server's defaults.
   */
  mode?: 'fast' | 'durable';
  /** Extra `-c name=value` settings. */
  settings?: Record<string, string | number>;
}

/** The newest installed server's bin directory, or undefined when PostgreSQL is not installed. */
export function findPgBin(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
    .sort((a, b) => Number(a) - Number(b));
  const v = versions.at(-1);
  return v === undefined ? undefined : join(base, v, 'bin');
}

const running = new Set<PgCluster>();
let hooked = false;

export function startPostgres(opts: PgClusterOptions = {}): PgCluster {
  const bin = findPgBin();
  if (!bin)
    throw new Error(
      'PostgreSQL server binaries not found under /usr/lib/postgresql (apt-get install postgresql)',
    );
  const root = userInfo().uid === 0;
  const asPg = (cmd: string, args: string[]) =>
    root ? (['runuser', ['-u', 'postgres', '--', cmd, ...args]] as const) : ([cmd, args] as const);
  const dir = mkdtempSync(join(tmpdir(), 'fpg-'));
  if (root) chownSync(dir, pgUid(), pgGid());
  const data = join(dir, 'data');
  const [initCmd, initArgs] = asPg(join(bin, 'initdb'), [
    '-D',
    data,
    '-U',
    'postgres',
    '--auth=trust',
    '-E',
    'UTF8',
    '--no-locale',
    '--no-sync',
  ]);
  const init = spawnSync(initCmd, initArgs, { encoding: 'utf8' });
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${init.stderr || init.stdout || init.error?.message}`);
  }
  const settings: Record<string, string | number> = {
    listen_addresses: '127.0.0.1',
    ...(opts.mode === 'durable' ? {} : { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' }),
    ...opts.settings,
  };
  const conf = Object.entries(settings)
    .map(([k, v]) => `-c ${k}=${v}`)
    .join(' ');
  let lastError = '';
  for (let attempt = 0; attempt < 8; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 30000);
    const log = join(dir, `server-${port}.log`);
    const [ctlCmd, ctlArgs] = asPg(join(bin, 'pg_ctl'), [
      '-D',
      data,
      '-l',
      log,
      '-w',
      '-t',
      '30',
      '-o',
      `-p ${port} -k ${dir} ${conf}`,
      'start',
    ]);
    const r = spawnSync(ctlCmd, ctlArgs, { encoding: 'utf8' });
    if (r.status === 0) {
      const cluster: PgCluster = {
        port,
        dir,
        url: (db = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${db}`,
        stop: () => {
          if (!running.delete(cluster)) return;
          const [stopCmd, stopArgs] = asPg(join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']);
          spawnSync(stopCmd, stopArgs, { encoding: 'utf8' });
          rmSync(dir, { recursive: true, force: true });
        },
      };
      running.add(cluster);
      if (!hooked) {
        hooked = true;
        process.once('exit', () => {
          for (const c of [...running]) c.stop();
        });
      }
      return cluster;
    }
    lastError = existsSync(log) ? readFileSync(log, 'utf8') : r.stderr;
    if (!/already in use|could not bind|could not create/i.test(lastError)) break;
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`PostgreSQL did not start: ${lastError.slice(-2000)}`);
}

function pgUid(): number {
  return Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
}

function pgGid(): number {
  return Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
}
