/**
 * `fleetpki audit verify [--data DIR | --db URL] [--expect-head SEQ:HASH] [--json]`
 *
 * Walks the store's audit log from its first record and recomputes the hash chain
 * (ca/audit-hash.ts, ca/audit.ts). Exit 0 when every record fits; exit 1 naming the first record
 * that does not — `hash-mismatch` (its content was edited), `broken-link` (a record before it was
 * removed, or records were reordered), `seq-gap` (numbers do not run 1, 2, 3 …), `unreadable`
 * (a stored field no longer parses) or, with `--expect-head`, `truncated` (the log no longer reaches
 * a head noted earlier, e.g. the one `fleetpki backup` printed). Exit 2 when there is no store.
 * The store is only read (its schema is brought up to date on open, as every command does).
 */
import type { Command } from 'commander';
import { type AuditVerifyResult, verifyAudit } from '../ca/audit.js';
import type { AuditRecord, Store } from '../ca/store/types.js';
import { caCliError, openExistingStore } from './ca-dir.js';
import { CliError, EXIT_NEGATIVE } from './errors.js';

interface AuditVerifyOptions {
  data: string;
  db?: string;
  expectHead?: string;
  json?: boolean;
}

/** A record whose stored fields no longer parse (edited into invalid JSON, for instance). */
class UnreadableRecord extends Error {
  constructor(readonly seq: number) {
    super(`record ${seq} cannot be read back (a stored field was edited into something unreadable)`);
  }
}

/**
 * `readAudit` that, when a page fails to read, reads that stretch one record at a time to name the
 * record at fault.
 */
function pinpointing(store: Store): Pick<Store, 'readAudit'> {
  return {
    async readAudit(afterSeq: number, limit: number): Promise<AuditRecord[]> {
      try {
        return await store.readAudit(afterSeq, limit);
      } catch {
        const out: AuditRecord[] = [];
        let after = afterSeq;
        // Bounded by `limit`: one read per record of the failed page.
        for (let i = 0; i < limit; i++) {
          let one: AuditRecord[];
          try {
            one = await store.readAudit(after, 1);
          } catch {
            throw new UnreadableRecord(after + 1);
          }
          if (one.length === 0) break;
          out.push(one[0]!);
          after = one[0]!.seq;
        }
        return out;
      }
    },
  };
}

export function parseExpectHead(text: string): { seq: number; hash: string } {
  const m = /^([1-9][0-9]{0,15}):([0-9a-f]{64})$/.exec(text.trim().toLowerCase());
  if (!m) throw new CliError(`--expect-head must be SEQ:HASH (the head backup printed), got "${text}"`);
  return { seq: Number(m[1]), hash: m[2]! };
}

async function verify(o: AuditVerifyOptions): Promise<void> {
  const expectHead = o.expectHead === undefined ? undefined : parseExpectHead(o.expectHead);
  const { store } = await openExistingStore(o.data, o.db);
  let r: AuditVerifyResult | { ok: false; code: 'unreadable'; seq: number; message: string; records: number };
  try {
    r = await verifyAudit(pinpointing(store), { expectHead });
  } catch (e) {
    if (!(e instanceof UnreadableRecord)) throw caCliError(e, 'audit verify');
    r = { ok: false, code: 'unreadable', seq: e.seq, message: e.message, records: e.seq - 1 };
  } finally {
    await store.close();
  }
  if (o.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
  else if (r.ok)
    process.stdout.write(
      `audit log intact: ${r.records} records` +
        (r.head ? `; head ${r.head.seq}:${r.head.hash}` : '') +
        (expectHead ? ' (reaches the expected head)' : '') +
        '\n',
    );
  else
    process.stdout.write(
      `audit log NOT intact: record ${r.seq}: ${r.code}: ${r.message} (${r.records} records before it are intact)\n`,
    );
  if (!r.ok) process.exitCode = EXIT_NEGATIVE;
}

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description("the CA's hash-chained audit log");
  audit
    .command('verify')
    .description(
      'check the audit log: exit 0 when intact, 1 naming the first edited, reordered or removed record',
    )
    .option('--data <dir>', 'data directory (serve --data, or a ca init directory)', 'fleetpki-data')
    .option(
      '--db <url>',
      'store URL: sqlite:PATH or postgres://… (default DATABASE_URL, else DATA/fleetpki.db)',
    )
    .option(
      '--expect-head <seq:hash>',
      'also check that the log still reaches this record (detects truncation)',
    )
    .option('--json', 'print the result as JSON')
    .action(verify);
}
