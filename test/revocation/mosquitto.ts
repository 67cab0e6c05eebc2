import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Starts a real Mosquitto broker from ../shared/peers/mosquitto-mtls.conf.tmpl (RECIPES §4) on
 * 127.0.0.1, retrying other ports when one is taken. (The shared peers/mosquitto-proc.ts does the
 * same but cannot be type-checked from here: ../shared has no ESM package.json.)
 */
export const MOSQUITTO_TEMPLATE = join(import.meta.dirname, '../../../shared/peers/mosquitto-mtls.conf.tmpl');

export interface Broker {
  port: number;
  log(): string;
  /**
   * SIGHUP, resolved once the broker logs "Reloading config.": it reloads (and re-reads the
   * crlfile) in the same turn of its single-threaded loop, so a connection made after that is
   * judged by the new CRL — no sleep, no guess at how long a reload takes.
   */
  hup(): Promise<void>;
  stop(): Promise<void>;
}

export async function startBroker(pkiDir: string, workDir: string): Promise<Broker> {
  let last: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 20000);
    try {
      return await startOnce(pkiDir, workDir, port);
    } catch (e) {
      last = e;
      if (!/Address already in use/.test(String(e))) throw e;
    }
  }
  throw last;
}

function startOnce(pkiDir: string, workDir: string, port: number): Promise<Broker> {
  const conf = readFileSync(MOSQUITTO_TEMPLATE, 'utf8')
    .replaceAll('@PORT@', String(port))
    .replaceAll('@PKI@', pkiDir);
  const confPath = join(workDir, `mosquitto-${port}.conf`);
  writeFileSync(confPath, conf);
  const proc: ChildProcess = spawn('mosquitto', ['-c', confPath, '-v'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let buf = '';
  const broker: Broker = {
    port,
    log: () => buf,
    hup: () =>
      new Promise<void>((resolve, reject) => {
        const seen = (buf.match(/Reloading config/g) ?? []).length;
        const onData = () => {
          if ((buf.match(/Reloading config/g) ?? []).length > seen) done();
        };
        // Bounds a broker that never answers; not an expectation about its speed.
        const timer = setTimeout(() => done(new Error(`mosquitto did not reload:\n${buf}`)), 10_000);
        const done = (e?: Error) => {
          clearTimeout(timer);
          proc.stdout!.off('data', onData);
          proc.stderr!.off('data', onData);
          e ? reject(e) : resolve();
        };
        // Registered after the buffer's own listener (below), so `buf` already holds the new data.
        proc.stdout!.on('data', onData);
        proc.stderr!.on('data', onData);
        proc.kill('SIGHUP');
      }),
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
    }, 5000);
    const onData = (d: Buffer) => {
      buf += d.toString();
      if (/ running\b/.test(buf)) {
        clearTimeout(timer);
        resolve(broker);
      } else if (/Error: /.test(buf)) {
        clearTimeout(timer);
        proc.kill('SIGKILL');
        reject(new Error(`mosquitto failed:\n${buf}`));
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
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
