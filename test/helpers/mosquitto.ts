// A real Mosquitto broker for tests (adapted from ../shared/peers/mosquitto-proc.ts, RECIPES §4):
// `mosquitto -c CONF -v` in the foreground as a child process, ready when its log says "running",
// on a random high port on 127.0.0.1 with a retry on "Address already in use" (the configuration
// is written for each port tried). Stopped with SIGTERM; callers stop it in `after`/finally.
import { type ChildProcess, spawn } from 'node:child_process';

export interface Broker {
  port: number;
  pid: number;
  log(): string;
  /** SIGHUP (re-reads the configuration and the crlfile), resolved once the broker logged it. */
  hup(): Promise<void>;
  /** Resolves when `re` matches the log after position `from` (default: now); rejects after `ms`. */
  waitForLog(re: RegExp, from?: number, ms?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a broker; `writeConf(port)` writes the configuration for that port and returns its path. */
export async function startMosquitto(writeConf: (port: number) => string): Promise<Broker> {
  let last: unknown;
  for (let attempt = 0; attempt < 8; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 40000);
    try {
      return await startOnce(writeConf(port), port);
    } catch (e) {
      last = e;
      if (!/Address already in use/.test(String(e))) throw e;
    }
  }
  throw last;
}

function startOnce(conf: string, port: number): Promise<Broker> {
  const proc: ChildProcess = spawn('mosquitto', ['-c', conf, '-v'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let buf = '';
  const waiters = new Set<() => void>();
  const onData = (d: Buffer) => {
    buf += d.toString();
    for (const w of waiters) w();
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);

  const waitForLog = (re: RegExp, from = buf.length, ms = 5000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (re.test(buf.slice(from))) {
          waiters.delete(check);
          clearTimeout(t);
          resolve();
        }
      };
      const t = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`mosquitto log never matched ${re}:\n${buf.slice(from)}`));
      }, ms);
      waiters.add(check);
      check();
    });

  const broker: Broker = {
    port,
    pid: proc.pid!,
    log: () => buf,
    hup: async () => {
      const from = buf.length;
      proc.kill('SIGHUP');
      // Mosquitto is single-threaded: once it has logged the reload, it has finished it before it
      // handles the next connection.
      await waitForLog(/Reloading config/, from);
    },
    waitForLog,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`mosquitto not ready in time:\n${buf}`));
    }, 10_000);
    const check = () => {
      if (/ running\b/.test(buf)) {
        waiters.delete(check);
        clearTimeout(timer);
        resolve(broker);
      } else if (/Error: /.test(buf)) {
        waiters.delete(check);
        clearTimeout(timer);
        proc.kill('SIGKILL');
        reject(new Error(`mosquitto failed:\n${buf}`));
      }
    };
    waiters.add(check);
    proc.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`mosquitto exited ${code}:\n${buf}`));
    });
  });
}
