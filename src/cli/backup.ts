/**
 * `fleetpki backup [--data DIR | --db sqlite:PATH] --out FILE [--json]`
 *
 * A consistent online backup of the SQLite store — safe while `fleetpki serve` (one or several
 * instances) and `ca` commands write to it: SQLite's online backup API copies one read snapshot
 * (`Store.backup`), written beside FILE and renamed into place, mode 0600. The copy is then checked
 * on its own (read-only): `PRAGMA integrity_check`, the audit hash chain from its first record, and
 * counts of what it holds; the summary prints the audit head (`SEQ:HASH`), which
 * `fleetpki audit verify --expect-head` later uses to detect a truncated log.
 *
 * The store is not the whole CA. A complete backup also needs the CA key files the store refers
 * to (listed in the summary; DIR/keys/…), the key passphrase (DIR/secrets/passphrase when `serve`
 * generated it, else wherever it is kept — never next to the backup), DIR/config.yaml, and
 * DIR/admin/ (else `serve` makes a new admin credential). Restore: put FILE at DIR/fleetpki.db
 * with those files (modes 0600 for keys and secrets) and start `fleetpki serve --data DIR`.
 * PostgreSQL stores are backed up with `pg_dump` (exit 2 here).
 */
import { chmodSync } from 'node:fs';
import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Command } from 'commander';
import { verifyAudit } from '../ca/audit.js';
import { type AuditRow, toAudit } from '../ca/store/records.js';
import type { AuditRecord, Store } from '../ca/store/types.js';
import { caCliError, openExistingStore } from './ca-dir.js';
import { CliError, EXIT_INTERNAL } from './errors.js';
import { checkOutputs } from './pki-files.js';

interface BackupOptions {
  data: string;
  db?: string;
  out: string;
  json?: boolean;
}

/** What a backup file holds, checked on the copy alone. */
export interface BackupCheck {
  integrity: string;
  certificates: Record<string, number>;
  revoked: number;
  crls: number;
  audit: { ok: boolean; records: number; head?: { seq: number; hash: string }; problem?: string };
}

/** Opens a backup (or any store file) read-only and checks it. */
export async function checkBackup(path: string): Promise<BackupCheck> {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const integrity = (db.pragma('integrity_check') as { integrity_check: string }[])
      .map((r) => r.integrity_check)
      .join('; ');
    const certificates: Record<string, number> = {};
    for (const r of db.prepare('SELECT state, count(*) AS n FROM certificates GROUP BY state').all() as {
      state: string;
      n: number;
    }[])
      certificates[r.state] = r.n;
    const revoked = (
      db.prepare('SELECT count(*) AS n FROM certificates WHERE revoked_at IS NOT NULL').get() as { n: number }
    ).n;
    const crls = (db.prepare('SELECT count(*) AS n FROM crls').get() as { n: number }).n;
    const read = db.prepare(
      `SELECT seq, time, actor, action, result, issuer_id, serial, fingerprint, detail, prev_hash, hash
       FROM audit WHERE seq > ? ORDER BY seq LIMIT ?`,
    );
    const view: Pick<Store, 'readAudit'> = {
      readAudit: async (after, limit): Promise<AuditRecord[]> =>
        (read.all(after, limit) as AuditRow[]).map(toAudit),
    };
    let audit: BackupCheck['audit'];
    try {
      const r = await verifyAudit(view);
      audit = r.ok
        ? { ok: true, records: r.records, head: r.head }
        : { ok: false, records: r.records, problem: `record ${r.seq}: ${r.code}: ${r.message}` };
    } catch (e) {
      audit = { ok: false, records: 0, problem: `unreadable: ${(e as Error).message}` };
    }
    return { integrity, certificates, revoked, crls, audit };
  } finally {
    db.close();
  }
}

async function backup(o: BackupOptions): Promise<void> {
  if (o.out === '-') throw new CliError('--out must name a file (the backup is a SQLite database)');
  checkOutputs([{ path: o.out }]);
  const { store, url } = await openExistingStore(o.data, o.db);
  let keyFiles: string[];
  try {
    if (store.kind !== 'sqlite')
      throw new CliError('backup copies a SQLite store; back up PostgreSQL with pg_dump');
    keyFiles = (await store.listIssuers()).map((i) =>
      i.key.kind === 'file' ? resolve(o.data, i.key.path) : `${i.key.uri} (on its token)`,
    );
    await store.backup(o.out);
  } catch (e) {
    throw caCliError(e, 'backup');
  } finally {
    await store.close();
  }
  chmodSync(o.out, 0o600);
  const check = await checkBackup(o.out);
  const ok = check.integrity === 'ok' && check.audit.ok;
  if (o.json)
    process.stdout.write(`${JSON.stringify({ file: o.out, store: url, ...check, keyFiles }, null, 2)}\n`);
  else {
    const certs = Object.entries(check.certificates)
      .map(([s, n]) => `${n} ${s}`)
      .join(', ');
    const head = check.audit.head ? `${check.audit.head.seq}:${check.audit.head.hash}` : 'empty';
    process.stdout.write(
      `backed up ${url} to ${o.out} (0600): integrity ${check.integrity}; certificates: ${certs || 'none'}` +
        ` (${check.revoked} revoked); ${check.crls} CRLs; audit ${check.audit.ok ? 'intact' : 'BROKEN'}, ` +
        `${check.audit.records} records, head ${head}\n` +
        '  a complete backup also needs, kept apart from this file: the key files\n' +
        keyFiles.map((k) => `    ${k}\n`).join('') +
        '  their passphrase, config.yaml and admin/ of the data directory.\n' +
        `  restore: copy ${o.out} to DATA/fleetpki.db next to those files, then fleetpki serve --data DATA\n` +
        `  later, fleetpki audit verify --expect-head ${head} shows the log was not cut short\n`,
    );
  }
  if (!ok)
    throw new CliError(
      `the backup does not check out: integrity ${check.integrity}; audit ${check.audit.problem ?? 'ok'}`,
      EXIT_INTERNAL,
    );
}

export function registerBackup(program: Command): void {
  program
    .command('backup')
    .description('consistent online backup of the SQLite store (safe while serve runs), checked after')
    .option('--data <dir>', 'data directory (serve --data, or a ca init directory)', 'fleetpki-data')
    .option('--db <url>', 'store URL: sqlite:PATH (default DATABASE_URL, else DATA/fleetpki.db)')
    .requiredOption('--out <file>', 'the backup file to write (replaced atomically)')
    .option('--json', 'print a JSON summary')
    .action(backup);
}
