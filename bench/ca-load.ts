// The one load generator of `npm run bench -- ca`, the same for every CA: autocannon (its own HTTP
// parser, much lighter on the load side than node:https), keep-alive connections, one request in
// flight per connection, each request with the next body of a pre-made list (a fresh CSR, and for
// step-ca a fresh one-time token, all made before the timed window so the load side costs each CA
// the same). Per-request latencies are taken from autocannon's response events (exact, not its
// 1 ms histogram); the load generator's own CPU is measured so it can be reported.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';

export interface LoadOptions {
  /** https://127.0.0.1:PORT */
  origin: string;
  path: string;
  headers: Record<string, string>;
  /** Request bodies, used in order (wrapping around if the window needs more). */
  bodies: readonly string[];
  connections: number;
  durationMs: number;
  /** Status codes that count as an issuance (others are counted as failures). */
  ok: readonly number[];
}

export interface LoadResult {
  /** Issuances (ok answers) per second over the window. */
  perSec: number;
  ok: number;
  failed: number;
  /** First failure seen (status and the start of the body), for the report. */
  firstFailure?: string;
  /** Latencies of the ok answers, ms (unsorted). */
  latencies: number[];
  elapsedMs: number;
  /** CPU of this (load generator) process during the window, ms. */
  loadCpuMs: number;
  /** Bodies used (so the caller knows whether the list wrapped around). */
  used: number;
  /** The body of the first ok answer. */
  sample?: string;
}

/** Runs one timed window of load. */
export async function drive(o: LoadOptions): Promise<LoadResult> {
  let next = 0;
  const latencies: number[] = [];
  let ok = 0;
  let failed = 0;
  let firstFailure: string | undefined;
  let sample: string | undefined;
  const okSet = new Set(o.ok);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const instance = autocannon({
    url: `${o.origin}${o.path}`,
    connections: o.connections,
    pipelining: 1,
    duration: o.durationMs / 1000,
    timeout: 30,
    headers: o.headers,
    requests: [
      {
        method: 'POST',
        path: o.path,
        setupRequest: (req) => {
          req.body = o.bodies[next++ % o.bodies.length]!;
          return req;
        },
        // Bodies are only kept while a sample or a failure is still wanted.
        onResponse: (status, body) => {
          if (okSet.has(status)) sample ??= body;
          else firstFailure ??= `${status} ${String(body).slice(0, 300)}`;
        },
      },
    ],
  });
  instance.on('response', (_client, status, _bytes, ms) => {
    if (okSet.has(status)) {
      ok++;
      latencies.push(ms);
    } else failed++;
  });
  instance.on('reqError', (e) => {
    failed++;
    firstFailure ??= `error ${e.message}`;
  });
  const r = await instance;
  const elapsedMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  failed += r.timeouts;
  return {
    perSec: (ok * 1000) / elapsedMs,
    ok,
    failed,
    ...(firstFailure ? { firstFailure } : {}),
    latencies,
    elapsedMs,
    loadCpuMs: (cpu.user + cpu.system) / 1000,
    used: next,
    ...(sample ? { sample } : {}),
  };
}

/** Latency percentile (nearest rank) of a list of ms values; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** CPU time (user + system, ms) of a process and all its descendants, from /proc. */
export function processTreeCpuMs(rootPid: number): number {
  const tick = 1000 / clockTicks();
  const byParent = new Map<number, number[]>();
  const cpu = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // pid (comm) state ppid … utime(14) stime(15): comm may hold spaces, so split after the ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(f[1]);
    cpu.set(pid, (Number(f[11]) + Number(f[12])) * tick);
    const list = byParent.get(ppid);
    if (list) list.push(pid);
    else byParent.set(ppid, [pid]);
  }
  let total = 0;
  const todo = [rootPid];
  for (let n = 0; todo.length > 0 && n < 100_000; n++) {
    const pid = todo.pop()!;
    total += cpu.get(pid) ?? 0;
    todo.push(...(byParent.get(pid) ?? []));
  }
  return total;
}

let ticks: number | undefined;
/** USER_HZ, the unit of /proc/<pid>/stat times (100 on Linux, asked once). */
function clockTicks(): number {
  ticks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return ticks;
}
