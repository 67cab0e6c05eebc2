import { parentPort } from 'node:worker_threads';
import { CryptoError } from './errors.js';
import { nodeCrypto } from './node.js';
import type { VerifyJob, VerifyOutcome } from './verify-pool.js';

/**
 * A `VerifyPool` thread: runs the `node:crypto` provider's own `verify` (same prechecks, same key
 * cache, same answers) on each job of a batch it is sent.
 *
 * Messages in: { jobs: VerifyJob[] }. Messages out: { ready: true } once listening, then
 * { outcomes: VerifyOutcome[] } per batch, in order.
 */
const port = parentPort!;
port.on('message', (m: { jobs: VerifyJob[] }) => {
  const outcomes: VerifyOutcome[] = m.jobs.map((j) => {
    try {
      return { ok: nodeCrypto.verify(j.alg, j.spki, j.data, j.signature) };
    } catch (e) {
      if (e instanceof CryptoError) return { code: e.code, message: e.message };
      return { code: 'bad-key', message: `verification failed: ${(e as Error).message}` };
    }
  });
  port.postMessage({ outcomes });
});
port.postMessage({ ready: true });
