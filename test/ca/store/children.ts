import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
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
  const procs = Array.from({ length: n }, (_, i) =>
    spawn(
      process.execPath,
      ['--import', 'tsx', CHILD, url, task, String(count), seed, writers[i % writers.length]!],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
      },
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
