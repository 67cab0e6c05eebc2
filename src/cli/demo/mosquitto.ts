import { type ChildProcess, spawn } from 'node:child_process';

/**
 * A Mosquitto broker run as a child process (`mosquitto -c CONF`, RECIPES §4): ready when its log
 * says "running"; port taken → a typed failure the caller retries with another port; stopped with
 * SIGTERM (SIGKILL after 3 s). Used by `fleetpki demo`.
 */
export interface BrokerProcess {
  pid: number;
  log(): string;
  /** Resolves when `re` matches the log after `from`; rejects after `ms`. */
  waitForLog(re: RegExp, from?: number, ms?: number): Promise<void>;
  stop(): Promise<void>;
}

export class PortInUse extends Error {}

export function startMosquitto(conf: string, o: { signal?: AbortSignal } = {}): Promise<BrokerProcess> {
  const proc: ChildProcess = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  let buf = '';
  const waiters = new Set<() => void>();
  const onData = (d: Buffer) => {
    // Bounded: keep the last 1 MiB of log.
    buf = (buf + d.toString()).slice(-1_048_576);
    for (const w of waiters) w();
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const waitForLog = (re: RegExp, from = buf.length, ms = 10_000) =>
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
        reject(new Error(`mosquitto: no ${re} in its log`));
      }, ms);
      waiters.add(check);
      check();
    });
  const broker: BrokerProcess = {
    pid: proc.pid ?? -1,
    log: () => buf,
    waitForLog,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    },
  };
  return new Promise((resolve, reject) => {
    const onExit = () => {
      const why = buf.trim().split('\n').slice(-3).join(' | ');
      reject(/Address already in use/.test(buf) ? new PortInUse(why) : new Error(`mosquitto exited: ${why}`));
    };
    proc.once('exit', onExit);
    proc.once('error', (e) =>
      reject(new Error(`cannot run mosquitto (apt-get install mosquitto): ${(e as Error).message}`)),
    );
    o.signal?.addEventListener('abort', () => void broker.stop(), { once: true });
    waitForLog(/mosquitto version \S+ running/).then(
      () => {
        proc.off('exit', onExit);
        resolve(broker);
      },
      (e) => {
        void broker.stop();
        reject(e);
      },
    );
  });
}
