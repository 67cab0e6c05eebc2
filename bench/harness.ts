// Tiny benchmark harness shared by bench/*.bench.ts: time an operation (warm-up, then N rounds,
// median ops/s), print a table with ratios against a named baseline, write JSON results to
// bench/results/<name>.json (gitignored). Go reference numbers come from buildGoTool.
import { type ChildProcess, execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

export { buildGoTool, type GoToolName } from './go/build.js';

const repo = fileURLToPath(new URL('../', import.meta.url));

/** Builds dist/ when a source is newer (what `npm start` does), so the service runs as shipped. */
export function buildDist(say: (s: string) => void, root = repo): void {
  const newest = (dir: string): number => {
    let max = 0;
    const out = spawnSync('find', [dir, '-type', 'f', '-printf', '%T@\\n'], { encoding: 'utf8' }).stdout;
    for (const l of out.split('\n')) if (l) max = Math.max(max, Number(l) * 1000);
    return max;
  };
  if (existsSync(join(root, 'dist/cli/main.js')) && newest(join(root, 'dist')) >= newest(join(root, 'src')))
    return;
  say(`building ${join(root, 'dist')} (npm run build)`);
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
}

/**
 * A module of dist/ — our code as shipped (see `buildDist`) — for benches that time it: the tsx
 * loader that runs the benches compiles src/ with esbuild's keepNames, which wraps every function
 * created at run time in a naming call (~4 % of a new device's path validation). Typed by its
 * source: `await shipped<typeof import('../src/mtls/index.js')>('mtls/index.js')`.
 */
export async function shipped<T>(path: string): Promise<T> {
  const file = join(repo, 'dist', path);
  if (!existsSync(file)) throw new Error(`${file} is missing: build first (npm run build)`);
  return (await import(pathToFileURL(file).href)) as T;
}

export interface BenchResult {
  /** Row label, e.g. 'fleetpki', 'pkijs', 'node X509Certificate', 'go crypto/x509'. */
  name: string;
  /** Median over the rounds. */
  opsPerSec: number;
  /** ops/s of each round (empty for external numbers). */
  rounds: number[];
  /** Total operations timed (after warm-up). */
  ops: number;
  note?: string;
}

export interface MeasureOptions {
  /** Total timed duration, split evenly over the rounds. Default FLEETPKI_BENCH_MS or 2000. */
  durationMs?: number;
  /** Untimed warm-up before the first round. Default 10% of durationMs, at least 100 ms. */
  warmupMs?: number;
  /** Number of rounds; the reported figure is their median. Default 5. */
  rounds?: number;
  /** Operations per call of fn (when fn loops over a batch itself, e.g. a bundle of certs). */
  opsPerCall?: number;
  note?: string;
}

const defaultDurationMs = Number(process.env.FLEETPKI_BENCH_MS) || 2000;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof (v as { then?: unknown } | null)?.then === 'function';
}

/**
 * Times fn: warm-up, then `rounds` rounds of durationMs/rounds each, returning the median ops/s.
 * fn may be sync or async (decided by what its first call returns); async calls run one at a time.
 * The clock is read once per call, so keep a single call above ~1 µs (batch tiny operations).
 */
export async function measure(
  name: string,
  fn: () => unknown,
  opts: MeasureOptions = {},
): Promise<BenchResult> {
  const durationMs = opts.durationMs ?? defaultDurationMs;
  const warmupMs = opts.warmupMs ?? Math.max(100, durationMs / 10);
  const nRounds = Math.max(1, opts.rounds ?? 5);
  const perCall = opts.opsPerCall ?? 1;
  const roundMs = durationMs / nRounds;
  const probe = fn();
  const isAsync = isThenable(probe);
  if (isAsync) await probe;

  // Runs fn until ms have passed; returns [calls, elapsed ms].
  const loop = async (ms: number): Promise<[number, number]> => {
    let calls = 0;
    const start = performance.now();
    const end = start + ms;
    let now = start;
    if (isAsync) {
      while (now < end) {
        await fn();
        calls++;
        now = performance.now();
      }
    } else {
      while (now < end) {
        fn();
        calls++;
        now = performance.now();
      }
    }
    return [calls, now - start];
  };

  await loop(warmupMs);
  const rounds: number[] = [];
  let ops = 0;
  for (let i = 0; i < nRounds; i++) {
    const [calls, elapsed] = await loop(roundMs);
    ops += calls * perCall;
    rounds.push((calls * perCall * 1000) / elapsed);
  }
  const r: BenchResult = { name, opsPerSec: median(rounds), rounds, ops };
  if (opts.note) r.note = opts.note;
  return r;
}

/** A figure measured elsewhere (e.g. a Go harness's JSON output) to show in the same table. */
export function external(name: string, opsPerSec: number, note?: string): BenchResult {
  const r: BenchResult = { name, opsPerSec, rounds: [], ops: 0 };
  if (note) r.note = note;
  return r;
}

function fmtRate(x: number): string {
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)} M`;
  if (x >= 1e4) return `${(x / 1e3).toFixed(1)} k`;
  return x.toFixed(x >= 100 ? 0 : 1);
}

/** Spread of the rounds around the median, in percent (max deviation). */
function spread(r: BenchResult): string {
  if (r.rounds.length < 2) return '';
  const dev = Math.max(...r.rounds.map((x) => Math.abs(x - r.opsPerSec)));
  return `±${((dev / r.opsPerSec) * 100).toFixed(1)}%`;
}

/**
 * Prints results as a table; `ratio` is each row's ops/s divided by the baseline row's (so 2.00x
 * means twice as fast as the baseline). Returns the table text.
 */
export function printTable(title: string, results: BenchResult[], baseline: string, unit = 'ops/s'): string {
  const base = results.find((r) => r.name === baseline);
  const rows = results.map((r) => [
    r.name,
    fmtRate(r.opsPerSec),
    spread(r),
    base ? `${(r.opsPerSec / base.opsPerSec).toFixed(2)}x` : '',
    r.note ?? '',
  ]);
  const head = ['', unit, 'spread', `vs ${baseline}`, ''];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [`\n${title}`, line(head), ...rows.map(line)].join('\n');
  console.log(out);
  if (!base) console.log(`(baseline '${baseline}' not among the results)`);
  return out;
}

const resultsDir = fileURLToPath(new URL('./results/', import.meta.url));

/** Writes bench/results/<name>.json with the environment alongside the data; returns its path. */
export function writeResults(name: string, data: unknown): string {
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${name}.json`);
  const payload = {
    name,
    date: new Date().toISOString(),
    node: process.version,
    openssl: process.versions.openssl,
    platform: `${process.platform}-${process.arch}`,
    cpu: cpus()[0]?.model ?? 'unknown',
    cpus: cpus().length,
    data,
  };
  writeFileSync(file, `${JSON.stringify(payload, null, 2)}\n`);
  return file;
}

/**
 * Sends a command to a bench child process (IPC) and waits for its answer: the next message that
 * carries `key`. Rejects when the child answers `{ error }` instead, or exits first.
 */
export function askChild<T>(child: ChildProcess, msg: object, key: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: Record<string, unknown>) => {
      if (!(key in m) && !('error' in m)) return;
      off();
      if ('error' in m) reject(new Error(`bench child ${child.pid}: ${String(m.error)}`));
      else resolve(m[key] as T);
    };
    const onExit = (code: number | null) => {
      off();
      reject(new Error(`bench child ${child.pid} exited (${code}) before answering ${key}`));
    };
    const off = () => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
    child.send(msg);
  });
}
