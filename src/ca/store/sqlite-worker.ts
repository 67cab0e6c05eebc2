import { parentPort, workerData } from 'node:worker_threads';
import type { WriteOp } from './ops.js';
import { type ConnectionOptions, openConnection } from './sqlite-connection.js';
import { SqliteWriter } from './sqlite-writer.js';

/**
 * The SQLite store's writer thread: it holds the write connection and runs each batch it is sent
 * (`SqliteWriter.runBatch`), so the commit's fsync and any wait for another process's write lock
 * block this thread, not the service's event loop.
 *
 * Messages in: { type: 'batch', id, ops } | { type: 'close' }.
 * Messages out: { type: 'ready' } | { type: 'failed', code, message } | { type: 'results', id, results }
 * | { type: 'closed' }.
 */
export interface WriterThreadData {
  path: string;
  connection: ConnectionOptions;
}

const port = parentPort!;
const data = workerData as WriterThreadData;
try {
  const db = openConnection(data.path, data.connection);
  const writer = new SqliteWriter(db);
  port.on('message', (m: { type: 'batch'; id: number; ops: WriteOp[] } | { type: 'close' }) => {
    if (m.type === 'batch') {
      port.postMessage({ type: 'results', id: m.id, results: writer.runBatch(m.ops) });
    } else {
      db.close();
      port.postMessage({ type: 'closed' });
      port.close();
    }
  });
  port.postMessage({ type: 'ready' });
} catch (e) {
  port.postMessage({ type: 'failed', code: (e as { code?: string }).code, message: (e as Error).message });
}
