import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Runs `child.ts` in N separate Node processes on one store and collects what each did. The
 * children start together: each opens nothing until every one has printed `ready`, then the parent
 * writes `go` to all of them, so their opens, migrations and writes really overlap.
 */
export interface ChildResult {
  /** Serials this child reserved (and then completed). */
  reserved: string[];
  /** CRL numbers it was given. */
  crlNumbers: string[];
  /** Audit records it appended (completions and appendAudit events). */
  audited: number;
}

const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));
const SQLITE_SOURCE = new URL('../../../src/ca/store/sqlite.ts', import.meta.url).href;

/**
 * child.ts bundled once per test process (esbuild, a dev dependency) and run by plain `node`: a
 * child then starts in a fraction of the time tsx takes to load the sources. `import.meta.url` is
 * pinned to sqlite.ts's source URL, so the store still finds (and bundles) its writer thread's
 * sources as it does under tsx.
 */
let bundled: Promise<string> | undefined;
function childScript(): Promise<string> {
  bundled ??= (async () => {
    const { build } = await import('esbuild');
    // Inside the repository (its .tmp/), so that the external packages resolve from node_modules.
    const base = fileURLToPath(new URL('../../../.tmp/', import.meta.url));
    mkdirSync(base, { recursive: true });
    const dir = mkdtempSync(join(base, 'store-child-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    const outfile = join(dir, 'child.mjs');
    await build({
      entryPoints: [CHILD],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile,
      external: ['better-sqlite3', 'pg', 'esbuild'],
      define: { 'import.meta.url': JSON.stringify(SQLITE_SOURCE) },
      // Bundled CommonJS dependencies call require(): give the ESM bundle one.
      banner: {
        js: `import { createRequire as __cr } from 'node:module'; const require = __cr(${JSON.stringify(CHILD)});`,
      },
      logLevel: 'error',
    });
    return outfile;
  })();
  return bundled;
}

async function spawnChild(args: string[]) {
  return spawn(process.execPath, [await childScript(), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
}

/**
 * `writers`: the SQLite writer of each child, in turn (`thread` as `serve` runs, `inline` as the CLI
 * runs; PostgreSQL ignores it).
 */
export async function runChildren(
  url: string,
  n: number,
  task: 'mixed' | 'open',
  count: number,
  writers: readonly ('thread' | 'inline')[] = ['inline'],
): Promise<ChildResult[]> {
  const seed = randomBytes(8).toString('hex');
  const procs = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      spawnChild([url, task, String(count), seed, writers[i % writers.length]!]),
    ),
  );
  const outputs = procs.map((p) => {
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => {
      out += d;
    });
    p.stderr.on('data', (d) => {
      err += d;
    });
    const ready = new Promise<void>((resolve, reject) => {
      const check = () => {
        if (out.includes('ready\n')) resolve();
      };
      p.stdout.on('data', check);
      p.once('exit', (code) => reject(new Error(`child exited ${code} before ready: ${err}`)));
    });
    const done = new Promise<ChildResult>((resolve, reject) => {
      p.once('exit', (code) => {
        if (code !== 0) return reject(new Error(`child exited ${code}: ${err}`));
        const line = out.split('\n').find((l) => l.startsWith('{'));
        if (!line) return reject(new Error(`child printed no result: ${out} ${err}`));
        resolve(JSON.parse(line) as ChildResult);
      });
    });
    return { ready, done };
  });
  const timer = setTimeout(() => {
    for (const p of procs) p.kill('SIGKILL');
  }, 60_000);
  try {
    await Promise.all(outputs.map((o) => o.ready));
    for (const p of procs) p.stdin.end('go\n');
    return await Promise.all(outputs.map((o) => o.done));
  } finally {
    clearTimeout(timer);
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
  }
}

/** A child issuing in a loop (`loop` task) until killed; `issued` grows as it reports completions. */
export interface Looper {
  issued: string[];
  /** Resolves once at least `n` completions were reported. */
  waitFor(n: number): Promise<void>;
  /** SIGKILL, and wait for the exit. */
  kill(): Promise<void>;
}

export async function startLooper(url: string, writer: 'thread' | 'inline'): Promise<Looper> {
  const p = await spawnChild([url, 'loop', '0', 'x', writer]);
  const issued: string[] = [];
  let buf = '';
  let err = '';
  let waiters: { n: number; resolve(): void }[] = [];
  const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
  p.stderr.on('data', (d) => {
    err += d;
  });
  const ready = new Promise<void>((resolve, reject) => {
    p.stdout.on('data', (d) => {
      buf += d;
      let nl = buf.indexOf('\n');
      while (nl >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line === 'ready') resolve();
        else if (line.startsWith('issued ')) issued.push(line.slice(7));
        nl = buf.indexOf('\n');
      }
      for (const w of waiters.filter((x) => issued.length >= x.n)) w.resolve();
      waiters = waiters.filter((x) => issued.length < x.n);
    });
    p.once('exit', (code) => reject(new Error(`looper exited ${code}: ${err}`)));
  });
  await ready;
  p.stdin.end('go\n');
  return {
    issued,
    waitFor: (n) =>
      new Promise<void>((resolve, reject) => {
        if (issued.length >= n) return resolve();
        waiters.push({ n, resolve });
        void exited.then(() => reject(new Error(`looper exited after ${issued.length} issuances: ${err}`)));
      }),
    kill: async () => {
      if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
      await exited;
    },
  };
}
