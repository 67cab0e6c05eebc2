// Helpers for the service tests: the real `fleetpki serve` in a child process (tsx, no build),
// and a small HTTPS client that keeps every response for later inspection.
import { type ChildProcess, spawn } from 'node:child_process';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
// Resolved here: the children run in temp dirs, where a bare `--import tsx` would not resolve.
const tsx = import.meta.resolve('tsx');

export interface ServeProcess {
  proc: ChildProcess;
  url: string;
  port: number;
  stdout: () => string;
  stderr: () => string;
  /** SIGTERM (default) and wait for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number>;
  exited: Promise<number>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

/**
 * Starts `fleetpki serve ARGS` and resolves once it printed its summary (the URL), or rejects with
 * its output when it exits first or does not start within `timeoutMs`.
 */
export function spawnServe(
  args: readonly string[],
  o: { cwd: string; env?: Record<string, string | undefined>; timeoutMs?: number },
): Promise<ServeProcess> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...o.env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  const proc = spawn(process.execPath, ['--import', tsx, join(root, 'src/cli/main.ts'), 'serve', ...args], {
    cwd: o.cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(proc);
  let out = '';
  let err = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  const exited = new Promise<number>((resolve) => {
    proc.once('exit', (code, signal) => {
      running.delete(proc);
      resolve(code ?? (signal ? 128 : 1));
    });
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`serve did not start in time\nstdout: ${out}\nstderr: ${err}`));
    }, o.timeoutMs ?? 60_000);
    const check = () => {
      const m = /CA service on (https:\/\/[^\s]+:(\d+))/.exec(out);
      if (m && out.includes('  try ')) {
        clearTimeout(timer);
        proc.stdout!.off('data', check);
        resolve({
          proc,
          url: m[1]!,
          port: Number(m[2]),
          stdout: () => out,
          stderr: () => err,
          exited,
          stop(signal = 'SIGTERM') {
            if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
            return exited;
          },
        });
      }
    };
    proc.stdout!.on('data', check);
    exited.then((code) => {
      clearTimeout(timer);
      reject(
        Object.assign(new Error(`serve exited with ${code}\nstdout: ${out}\nstderr: ${err}`), {
          code,
          out,
          err,
        }),
      );
    });
  });
}

/** Runs `fleetpki serve ARGS` expecting it to fail at start: its exit code and output. */
export async function serveFails(
  args: readonly string[],
  o: { cwd: string; env?: Record<string, string | undefined> },
): Promise<{ code: number; out: string; err: string }> {
  try {
    const p = await spawnServe(args, { ...o, timeoutMs: 60_000 });
    await p.stop('SIGKILL');
    throw new Error('serve started but was expected to refuse');
  } catch (e) {
    const x = e as { code?: number; out?: string; err?: string };
    if (typeof x.code !== 'number') throw e;
    return { code: x.code, out: x.out ?? '', err: x.err ?? '' };
  }
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
  json<T = unknown>(): T;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Trust anchor PEM (none = do not verify the server: bootstrapping, like curl -k). */
  ca?: string;
  cert?: string;
  key?: string;
}

/** One HTTPS request on its own connection (no agent): the status, headers and body. */
export function request(url: string, o: RequestOptions = {}): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const body = o.body === undefined ? undefined : Buffer.from(o.body);
    const req = httpsRequest(
      url,
      {
        method: o.method ?? (body ? 'POST' : 'GET'),
        headers: {
          ...(body ? { 'content-length': String(body.length) } : {}),
          ...o.headers,
        },
        ca: o.ca,
        rejectUnauthorized: o.ca !== undefined,
        cert: o.cert,
        key: o.key,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const b = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: b,
            text: b.toString('utf8'),
            json: <T>() => JSON.parse(b.toString('utf8')) as T,
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** JSON helper: POST/GET with a JSON body and a bearer token. */
export function api(
  base: string,
  path: string,
  o: { token?: string; ca?: string; cert?: string; key?: string; method?: string; json?: unknown } = {},
): Promise<HttpResponse> {
  const headers: Record<string, string> = {};
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  if (o.json !== undefined) headers['content-type'] = 'application/json';
  return request(`${base}${path}`, {
    method: o.method,
    headers,
    body: o.json === undefined ? undefined : JSON.stringify(o.json),
    ca: o.ca,
    cert: o.cert,
    key: o.key,
  });
}
