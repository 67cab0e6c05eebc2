import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import type { Outcome, WriteOp } from './ops.js';
import { type ConnectionOptions, openConnection } from './sqlite-connection.js';
import { SqliteWriter } from './sqlite-writer.js';

/**
 * The SQLite store's writer thread: it holds the write connection and runs the batches it is sent
 * (`SqliteWriter.runBatch`), so the commit's fsync and any wait for another process's write lock
 * block this thread, not the service's event loop.
 *
 * Group commit happens here: the service sends each burst of writes at once (GroupCommit,
 * `pipelined`), and when this thread takes a batch it also takes every batch that has queued
 * behind it (up to `maxBatch` ops) and commits them in one transaction — one fsync. So while a
 * commit runs, the next one gathers, without waiting for the service to read the last answer.
 *
 * Messages in: { type: 'batch', id, ops } | { type: 'close' }.
 * Messages out: { type: 'ready' } | { type: 'failed', code, message }
 * | { type: 'results', batches: { id, results }[] } | { type: 'closed' }.
 */
export interface WriterThreadData {
  path: string;
  connection: ConnectionOptions;
  /** Most ops merged into one transaction. */
  maxBatch: number;
}

type Message = { type: 'batch'; id: number; ops: WriteOp[] } | { type: 'close' };

const port = parentPort!;
const data = workerData as WriterThreadData;
try {
  const db = openConnection(data.path, data.connection);
  const writer = new SqliteWriter(db);
  const close = () => {
    db.close();
    port.postMessage({ type: 'closed' });
    port.close();
  };
  port.on('message', (m: Message) => {
    if (m.type === 'close') return close();
    const batches = [m];
    const ops = [...m.ops];
    let closing = false;
    while (ops.length < data.maxBatch) {
      const next = receiveMessageOnPort(port)?.message as Message | undefined;
      if (!next) break;
      if (next.type === 'close') {
        closing = true;
        break;
      }
      batches.push(next);
      for (const op of next.ops) ops.push(op);
    }
    const results = writer.runBatch(ops);
    let at = 0;
    const out: { id: number; results: Outcome[] }[] = [];
    for (const b of batches) {
      out.push({ id: b.id, results: results.slice(at, at + b.ops.length) });
      at += b.ops.length;
    }
    port.postMessage({ type: 'results', batches: out });
    if (closing) close();
  });
  port.postMessage({ type: 'ready' });
} catch (e) {
  port.postMessage({ type: 'failed', code: (e as { code?: string }).code, message: (e as Error).message });
}
