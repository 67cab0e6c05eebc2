import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { HashName, SignatureAlgorithm } from './algorithms.js';
import { CryptoError, type CryptoErrorCode } from './errors.js';
import { nodeCrypto } from './node.js';
import type { CryptoProvider } from './provider.js';

/**
 * The `node:crypto` provider with `verifyAsync` run on worker threads, for a service whose event
 * loop should not spend its time on public-key operations: a CA verifies every CSR's proof of
 * possession with a key it has never seen (importing that key costs more than the verification)
 * and checks each new signature before it leaves. On a machine with more than one core the
 * threads use the cores the event loop cannot.
 *
 *   const crypto = await VerifyPool.start();            // threads: cores − 1 (at least 1)
 *   const ok = await crypto.verifyAsync(alg, spki, tbs, sig);
 *   await crypto.close();
 *
 * Answers are exactly the Node provider's (each thread runs `nodeCrypto.verify`, errors keep their
 * `CryptoError` code). Jobs queued in one turn of the event loop go to a thread in one message;
 * a thread gets the next batch when it has answered the last. Everything else — `verify` itself,
 * digests, signing keys — runs on the calling thread, as with `nodeCrypto`. If a thread dies, its
 * jobs and every later one are verified on the calling thread, so no answer is lost. Idle threads
 * do not keep the process alive.
 */
export interface VerifyPoolOptions {
  /** Worker threads. Default: available cores − 1, at least 1. */
  threads?: number;
}

/** One verification as posted to a thread (structured-cloneable). */
export interface VerifyJob {
  alg: SignatureAlgorithm;
  spki: Uint8Array;
  data: Uint8Array;
  signature: Uint8Array;
}

/** A thread's answer to one job. */
export type VerifyOutcome = { ok: boolean } | { code: CryptoErrorCode; message: string };

interface Pending {
  job: VerifyJob;
  resolve(ok: boolean): void;
  reject(e: unknown): void;
}

/** Most jobs in one message: bounds a batch's latency and message size. */
const MAX_BATCH = 64;

/**
 * One worker thread. Its listeners are attached when it is spawned and stay: when a thread ends
 * before its messages were read, Node emits its 'message', 'error' and 'exit' in one go, and a
 * listener attached later — even a microtask later — never learns that it died (a job posted to
 * it would wait for ever).
 */
class Thread {
  busy: Pending[] | undefined;
  /** Why the thread stopped, once it has. */
  ended: CryptoError | undefined;
  /** Resolves on its first message (its script is loaded and listens); rejects if it ends first. */
  readonly ready: Promise<void>;
  /** The pool's handlers. */
  onAnswer: ((outcomes: VerifyOutcome[]) => void) | undefined;
  onEnd: (() => void) | undefined;

  constructor(readonly worker: Worker) {
    let up!: () => void;
    let down!: (e: Error) => void;
    this.ready = new Promise((resolve, reject) => {
      up = resolve;
      down = reject;
    });
    let loaded = false;
    worker.on('message', (m: { outcomes: VerifyOutcome[] }) => {
      if (loaded) this.onAnswer?.(m.outcomes);
      else {
        loaded = true;
        up();
      }
    });
    const end = (why: string) => {
      if (this.ended) return;
      this.ended = new CryptoError('thread-failed', `verification thread ${why}`);
      down(this.ended);
      this.onEnd?.();
    };
    worker.on('error', (e) => end(`failed: ${e.message}`));
    worker.on('exit', (code) => end(`exited (${code})`));
  }
}

export class VerifyPool implements CryptoProvider {
  readonly name = 'node-verify-pool';
  readonly supportsSync = true;
  private readonly queue: Pending[] = [];
  private scheduled = false;
  private closed = false;
  private broken = false;

  private constructor(private readonly threads: Thread[]) {
    for (const t of threads) {
      t.worker.unref();
      t.onAnswer = (outcomes) => this.answered(t, outcomes);
      t.onEnd = () => this.lost(t);
      if (t.ended) this.lost(t);
    }
  }

  static async start(o: VerifyPoolOptions = {}): Promise<VerifyPool> {
    const n = Math.max(1, Math.floor(o.threads ?? availableParallelism() - 1));
    return VerifyPool.withThreads(await workerSource(), n);
  }

  /** Starts `n` threads running `code` (a script's URL, or its source). */
  private static async withThreads(code: URL | string, n: number): Promise<VerifyPool> {
    const threads = Array.from({ length: n }, () => new Thread(spawn(code)));
    try {
      await Promise.all(threads.map((t) => t.ready));
    } catch (e) {
      await Promise.all(threads.map((t) => t.worker.terminate()));
      throw e;
    }
    return new VerifyPool(threads);
  }

  /** Threads in use. */
  get size(): number {
    return this.threads.length;
  }

  verifyAsync(
    alg: SignatureAlgorithm,
    spki: Uint8Array,
    data: Uint8Array,
    signature: Uint8Array,
  ): Promise<boolean> {
    if (this.closed || this.broken)
      return Promise.resolve().then(() => nodeCrypto.verify(alg, spki, data, signature));
    return new Promise((resolve, reject) => {
      const job = { alg, spki: compact(spki), data: compact(data), signature: compact(signature) };
      this.queue.push({ job, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.dispatch();
        });
      }
    });
  }

  /** Stops the threads; jobs still queued or in flight are verified on the calling thread. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const threads = this.threads.splice(0);
    for (const t of threads) this.inline(t.busy?.splice(0) ?? []);
    this.inline(this.queue.splice(0));
    await Promise.all(threads.map((t) => t.worker.terminate()));
  }

  private dispatch(): void {
    for (const t of this.threads) {
      if (this.queue.length === 0) return;
      if (t.busy) continue;
      // Share what is queued among the idle threads (a busy one takes more when it answers).
      const idle = this.threads.filter((x) => !x.busy).length;
      const take = Math.min(MAX_BATCH, Math.ceil(this.queue.length / idle));
      const batch = this.queue.splice(0, take);
      t.busy = batch;
      t.worker.ref();
      t.worker.postMessage({ jobs: batch.map((p) => p.job) });
    }
  }

  private answered(t: Thread, outcomes: VerifyOutcome[]): void {
    const batch = t.busy ?? [];
    t.busy = undefined;
    if (!this.threads.some((x) => x.busy)) for (const x of this.threads) x.worker.unref();
    batch.forEach((p, i) => {
      const o = outcomes[i];
      if (o === undefined) p.reject(new CryptoError('bad-key', 'verification thread gave no answer'));
      else if ('ok' in o) p.resolve(o.ok);
      else p.reject(new CryptoError(o.code, o.message));
    });
    this.dispatch();
  }

  /** A thread failed: its jobs, the queue and every later job are verified inline. */
  private lost(t: Thread): void {
    if (this.closed) return;
    this.broken = true;
    const i = this.threads.indexOf(t);
    if (i >= 0) this.threads.splice(i, 1);
    this.inline(t.busy?.splice(0) ?? []);
    this.inline(this.queue.splice(0));
  }

  private inline(jobs: Pending[]): void {
    for (const p of jobs) {
      try {
        p.resolve(nodeCrypto.verify(p.job.alg, p.job.spki, p.job.data, p.job.signature));
      } catch (e) {
        p.reject(e);
      }
    }
  }

  // ---- everything else: the node:crypto provider on the calling thread ---------------------------

  randomBytes(n: number): Uint8Array {
    return nodeCrypto.randomBytes(n);
  }
  digest(hash: HashName, data: Uint8Array): Uint8Array {
    return nodeCrypto.digest(hash, data);
  }
  digestAsync(hash: HashName, data: Uint8Array): Promise<Uint8Array> {
    return nodeCrypto.digestAsync(hash, data);
  }
  verify(alg: SignatureAlgorithm, spki: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
    return nodeCrypto.verify(alg, spki, data, signature);
  }
  generateKeyPair: CryptoProvider['generateKeyPair'] = (t) => nodeCrypto.generateKeyPair(t);
  publicKeyFromPrivate: CryptoProvider['publicKeyFromPrivate'] = (k, a) =>
    nodeCrypto.publicKeyFromPrivate(k, a);
  importSigningKey: CryptoProvider['importSigningKey'] = (k, a, s) => nodeCrypto.importSigningKey(k, a, s);
  pbkdf2: CryptoProvider['pbkdf2'] = (p, s, i, h, l) => nodeCrypto.pbkdf2(p, s, i, h, l);
  scrypt: CryptoProvider['scrypt'] = (p, s, o, l) => nodeCrypto.scrypt(p, s, o, l);
  hmac: CryptoProvider['hmac'] = (h, k, d) => nodeCrypto.hmac(h, k, d);
  cbc: CryptoProvider['cbc'] = (op, c, k, iv, d) => nodeCrypto.cbc(op, c, k, iv, d);
}

/**
 * The bytes of a view in an array of their own: a posted view carries its whole ArrayBuffer, and
 * parsed DER and built TBS are views into larger ones (Node's 8 KiB pool, issue/'s slabs).
 */
function compact(u: Uint8Array): Uint8Array {
  return u.byteOffset === 0 && u.byteLength === u.buffer.byteLength ? u : u.slice();
}

function spawn(code: URL | string): Worker {
  return typeof code === 'string' ? new Worker(code, { eval: true }) : new Worker(code);
}

let devSource: Promise<string> | undefined;

/**
 * Built code runs `verify-worker.js`. From TypeScript sources (tests, benches under tsx) Node 20
 * cannot load a `.ts` worker and does not pass tsx's loader on to worker threads, so the worker's
 * modules are bundled with esbuild (a dev dependency) into one script, once per process (as the
 * SQLite store's writer thread does).
 */
async function workerSource(): Promise<URL | string> {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new URL('./verify-worker.js', here);
  devSource ??= (async () => {
    const entry = fileURLToPath(new URL('./verify-worker.ts', here));
    const { build } = await import('esbuild');
    const out = await build({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      write: false,
      banner: { js: `require = require('node:module').createRequire(${JSON.stringify(entry)});` },
    });
    return out.outputFiles[0]!.text;
  })();
  return devSource;
}
