import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import Database from 'better-sqlite3';
import { storeContract } from './contract.js';
import type { Harness } from './fixtures.js';

/** The store contract on SQLite: one temporary directory, a new file per store. */
const dir = mkdtempSync(join(tmpdir(), 'fleetpki-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

const harness: Harness = {
  kind: 'sqlite',
  freshUrl: async () => `sqlite:${join(dir, `s${++n}.db`)}`,
  sql: async (url, text, params = []) => {
    const db = new Database(url.slice('sqlite:'.length), { timeout: 5000 });
    try {
      const st = db.prepare(text);
      if (st.reader) return st.all(...params) as Record<string, unknown>[];
      st.run(...params);
      return [];
    } finally {
      db.close();
    }
  },
};

// Everything with the writer on the calling thread (as the CLI runs it), then the tests of
// concurrent callers again with the writer thread (as `serve` runs it): the same SqliteWriter,
// reached through the thread's messages.
storeContract({ ...harness, variant: 'inline writer', options: { sqlite: { writer: 'inline' } } });
storeContract({ ...harness, variant: 'writer thread', only: 'concurrency' });
