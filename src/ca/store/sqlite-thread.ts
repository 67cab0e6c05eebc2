import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Outcome, WriteOp } from './ops.js';
import type { WriterThreadData } from './sqlite-worker.js';
import { StoreError } from './types.js';

/**
 * Runs `SqliteWriter` on a worker thread. Batches may be sent while others are in flight: the
 * thread commits whatever has queued for it in one transaction (see sqlite-worker.ts).
 */
export class WriterThread {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(r: Outcome[]): void; reject(e: unknown): void }>();
  private dead: StoreError | undefined;
  private closing: (() => void) | undefined;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (m: { type: string; batches?: { id: number; results: Outcome[] }[] }) => {
      if (m.type === 'results') {
        for (const b of m.batches!) {
          const p = this.pending.get(b.id);
          this.pending.delete(b.id);
          p?.resolve(b.results);
        }
      } else if (m.type === 'closed') {
        this.closing?.();
      }
    });
    const fail = (why: string) => {
      this.dead ??= new StoreError('unavailable', `the SQLite writer thread stopped: ${why}`);
      for (const p of this.pending.values()) p.reject(this.dead);
      this.pending.clear();
      this.closing?.();
    };
    worker.on('error', (e) => fail(e.message));
    worker.on('exit', (code) => fail(`exit ${code}`));
  }

  static async start(data: WriterThreadData): Promise<WriterThread> {
    const worker = await spawnWriter(data);
    return new Promise((resolvePromise, reject) => {
      const off = () => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      const onMessage = (m: { type: string; code?: string; message?: string }) => {
        off();
        if (m.type === 'ready') {
          const t = new WriterThread(worker);
          worker.unref();
          resolvePromise(t);
        } else {
          void worker.terminate();
          reject(new StoreError('unavailable', `SQLite writer thread: ${m.message}`));
        }
      };
      const onError = (e: Error) => {
        off();
        reject(new StoreError('unavailable', `SQLite writer thread: ${e.message}`, { cause: e }));
      };
      const onExit = (code: number) => {
        off();
        reject(new StoreError('unavailable', `SQLite writer thread exited (${code}) before it was ready`));
      };
      // Attached before anything can be emitted, and replaced by the WriterThread's own listeners
      // in the same call that takes 'ready': a thread that ends right after is still seen to end.
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
    });
  }

  run(ops: WriteOp[]): Promise<Outcome[]> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise((resolvePromise, reject) => {
      this.pending.set(id, { resolve: resolvePromise, reject });
      this.worker.postMessage({ type: 'batch', id, ops });
    });
  }

  /** Keeps the process alive while writes are pending, and lets it exit when idle. */
  setBusy(busy: boolean): void {
    if (busy) this.worker.ref();
    else this.worker.unref();
  }

  async close(): Promise<void> {
    if (this.dead) return;
    this.worker.ref();
    await new Promise<void>((resolvePromise) => {
      this.closing = resolvePromise;
      this.worker.postMessage({ type: 'close' });
    });
    await this.worker.terminate();
  }
}

/**
 * Starts the writer thread. Built code runs `sqlite-worker.js`. From TypeScript sources (tests and
 * benches under tsx) Node 20 cannot load a `.ts` worker and does not pass tsx's loader on to
 * worker threads, so the worker's few modules are bundled with esbuild (a dev dependency) into
 * one CommonJS script, once per process.
 */
async function spawnWriter(data: WriterThreadData): Promise<Worker> {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./sqlite-worker.js', here), { workerData: data });
  devWorkerCode ??= bundleDevWorker(fileURLToPath(new URL('./sqlite-worker.ts', here)));
  return new Worker(await devWorkerCode, { eval: true, workerData: data });
}

let devWorkerCode: Promise<string> | undefined;

async function bundleDevWorker(entry: string): Promise<string> {
  const { build } = await import('esbuild');
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['better-sqlite3'],
    write: false,
    // An eval'd worker resolves `require` from the working directory: resolve from the sources.
    banner: { js: `require = require('node:module').createRequire(${JSON.stringify(entry)});` },
  });
  return out.outputFiles[0]!.text;
}
