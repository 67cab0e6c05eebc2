import { closeSync, constants, existsSync, fsyncSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type Database from 'better-sqlite3';
import type { SerialStatus } from '../../revocation/status-source.js';
import { GroupCommit, type WriteQueue } from './group-commit.js';
import { QueuedWrites } from './queued-writes.js';
import {
  type AuditRow,
  CERTIFICATE_COLUMNS,
  type CertificateRow,
  type CrlRow,
  ENROLLMENT_CREDENTIAL_COLUMNS,
  type EnrollmentCredentialRow,
  type IssuerRow,
  PENDING_COLUMNS,
  type PendingRow,
  type RevokedDbRow,
  type StatusRow,
  toAudit,
  toCrl,
  toEnrollmentCredential,
  toIssuer,
  toPage,
  toPending,
  toRecord,
  toReservation,
  toRevoked,
  toStatus,
} from './records.js';
import { CANDIDATE_LIMIT, planSearch, SQLITE_DIALECT } from './search.js';
import { type ConnectionOptions, openConnection, sqliteError } from './sqlite-connection.js';
import { migrateSqlite } from './sqlite-migrate.js';
import { WriterThread } from './sqlite-thread.js';
import { SqliteWriter } from './sqlite-writer.js';
import { computeStatistics, type StatisticsQueries } from './statistics.js';
import {
  type AuditRecord,
  type CertificatePage,
  type CertificateQuery,
  type CertificateRecord,
  type CertificateStatistics,
  type CrlRecord,
  type EnrollmentCredential,
  type IssuerRecord,
  type PendingRequest,
  type PendingState,
  type Reservation,
  type RevokedRow,
  type StatusChange,
  type Store,
  StoreError,
} from './types.js';
import {
  checkAfterSeq,
  checkLimit,
  checkPendingState,
  checkSerial,
  checkText,
  checkTime,
} from './validate.js';

/**
 * The embedded store: one SQLite file (WAL, `synchronous = FULL`), safe for several processes.
 *
 * Writes go through group commit (`GroupCommit`) to one write connection, by default on a writer
 * thread so that fsyncs and waits for other processes' write locks never block the event loop;
 * `writer: 'inline'` runs them on the calling thread instead (a short-lived CLI command saves the
 * thread's start-up). Reads use their own connection on the calling thread: in WAL mode they see
 * every committed write and are never blocked by a writer.
 */
export interface SqliteStoreOptions {
  /** Where the write connection lives. Default `thread`. */
  writer?: 'thread' | 'inline';
  /** How long a write waits for other processes' transactions before failing `unavailable`. Default 10 s. */
  busyTimeoutMs?: number;
  /**
   * Search: a name filter (subject, SAN, serial prefix) with at most this many matches is resolved
   * to its ids before the page is read; above it, the sort index is walked. Default 5000.
   */
  candidateLimit?: number;
  /** Most writes in one transaction. Default 512. */
  maxBatch?: number;
  /**
   * Page cache of the read connection, KiB; the writer thread's connection gets twice as much (its
   * random index inserts touch pages all over the indexes). Default 64 MiB.
   */
  cacheKiB?: number;
}

/** Largest `limit` for `unresolvedReservations`, `statusChanges` and `readAudit`. */
export const MAX_READ_BATCH = 10_000;

export class SqliteStore extends QueuedWrites implements Store {
  readonly kind = 'sqlite' as const;
  private readonly statements = new Map<string, Database.Statement>();

  private constructor(
    /** The file, absolute. */
    readonly path: string,
    private readonly db: Database.Database,
    commit: WriteQueue,
    private readonly closeWriter: () => Promise<void>,
    private readonly candidateLimit: number,
  ) {
    super(commit);
  }

  /**
   * Opens (creating if needed, mode 0600) and migrates the store at `path`; the directory must
   * exist. Fails with `unavailable` (cannot open, not a fleetpki store) or `schema-too-new`.
   */
  static async open(path: string, options: SqliteStoreOptions = {}): Promise<SqliteStore> {
    const file = resolve(path);
    const dir = dirname(file);
    if (!existsSync(dir) || !statSync(dir).isDirectory())
      throw new StoreError(
        'unavailable',
        `cannot open SQLite store ${file}: directory ${dir} does not exist`,
      );
    try {
      closeSync(openSync(file, constants.O_CREAT | constants.O_RDWR, 0o600));
    } catch (e) {
      throw new StoreError('unavailable', `cannot open SQLite store ${file}: ${(e as Error).message}`, {
        cause: e,
      });
    }
    const connection: ConnectionOptions = {
      busyTimeoutMs: options.busyTimeoutMs ?? 10_000,
      cacheKiB: options.cacheKiB ?? 65_536,
    };
    const db = openConnection(file, connection);
    try {
      migrateSqlite(db);
    } catch (e) {
      db.close();
      throw e;
    }
    const maxBatch = options.maxBatch ?? 512;
    const candidateLimit = options.candidateLimit ?? CANDIDATE_LIMIT;
    if ((options.writer ?? 'thread') === 'inline') {
      const writer = new SqliteWriter(db);
      const commit = new GroupCommit(async (ops) => writer.runBatch(ops), { maxBatch });
      return new SqliteStore(file, db, commit, async () => {}, candidateLimit);
    }
    let thread: WriterThread;
    try {
      thread = await WriterThread.start({
        path: file,
        connection: { ...connection, cacheKiB: 2 * connection.cacheKiB },
        maxBatch,
      });
    } catch (e) {
      db.close();
      throw e;
    }
    const commit = new GroupCommit((ops) => thread.run(ops), {
      maxBatch,
      onBusy: (busy) => thread.setBusy(busy),
      mode: 'pipelined',
    });
    return new SqliteStore(file, db, commit, () => thread.close(), candidateLimit);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.commit.close();
    await this.closeWriter();
    try {
      this.db.pragma('optimize');
    } catch {
      // Only planner statistics; another process may hold the write lock.
    }
    this.db.close();
  }

  /**
   * SQLite's online backup API, all pages in one step: one read snapshot of a consistent state,
   * while writers (this process's writer thread, other processes) go on in WAL mode. Blocks the
   * calling thread while it copies (meant for `fleetpki backup`, a process of its own). The copy is
   * written to a temporary file beside `path`, switched to a self-contained rollback journal,
   * synced, then renamed over `path`.
   */
  async backup(path: string): Promise<void> {
    const dest = resolve(path);
    if (dest === this.path) throw new StoreError('bad-input', 'backup: the destination is the store itself');
    const tmp = join(dirname(dest), `.${basename(dest)}.${process.pid}.${Date.now()}.tmp`);
    try {
      await this.db.backup(tmp, { progress: () => 0x7fffffff });
      const copy = openConnection(tmp, { busyTimeoutMs: 1000, cacheKiB: 2000 });
      copy.pragma('journal_mode = DELETE');
      copy.close();
      const fd = openSync(tmp, 'r+');
      fsyncSync(fd);
      closeSync(fd);
      renameSync(tmp, dest);
      const dfd = openSync(dirname(dest), 'r');
      fsyncSync(dfd);
      closeSync(dfd);
    } catch (e) {
      for (const f of [tmp, `${tmp}-wal`, `${tmp}-shm`, `${tmp}-journal`]) rmSync(f, { force: true });
      throw sqliteError(e, `backup to ${dest}`);
    }
  }

  // ---- reads (this thread's connection) ---------------------------------------------------------

  private read<T>(what: string, f: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new StoreError('unavailable', 'the store is closed'));
    try {
      return Promise.resolve(f());
    } catch (e) {
      return Promise.reject(sqliteError(e, what));
    }
  }

  /** Prepared statements by SQL text (search queries vary in shape; their number is small). */
  private st(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      if (this.statements.size >= 256) this.statements.clear();
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  listIssuers(): Promise<IssuerRecord[]> {
    return this.read('listIssuers', () =>
      (
        this.st(
          `SELECT id, role, parent_id, status, certificate, key_ref, created_at, crl_number
           FROM issuers ORDER BY created_at, id`,
        )
          .safeIntegers(true)
          .all() as IssuerRow[]
      ).map(toIssuer),
    );
  }

  getCertificate(issuerId: string, serialHex: string): Promise<CertificateRecord | undefined> {
    return this.read('getCertificate', () => {
      const row = this.st(
        `SELECT ${CERTIFICATE_COLUMNS} FROM certificates c WHERE serial = ? AND issuer_id = ?`,
      ).get(checkSerial(serialHex), checkText(issuerId, 'issuerId')) as CertificateRow | undefined;
      return row && toRecord(row);
    });
  }

  findBySerial(serialHex: string): Promise<CertificateRecord[]> {
    return this.read('findBySerial', () =>
      (
        this.st(`SELECT ${CERTIFICATE_COLUMNS} FROM certificates c WHERE serial = ? ORDER BY issuer_id`).all(
          checkSerial(serialHex),
        ) as CertificateRow[]
      ).map(toRecord),
    );
  }

  findByRequestId(requestId: string): Promise<CertificateRecord | undefined> {
    return this.read('findByRequestId', () => {
      const row = this.st(`SELECT ${CERTIFICATE_COLUMNS} FROM certificates c WHERE request_id = ?`).get(
        checkText(requestId, 'requestId'),
      ) as CertificateRow | undefined;
      return row && toRecord(row);
    });
  }

  unresolvedReservations(before: number, limit: number): Promise<Reservation[]> {
    return this.read('unresolvedReservations', () =>
      (
        this.st(
          `SELECT ${CERTIFICATE_COLUMNS}, c.tbs FROM certificates c
           WHERE c.state = 'reserved' AND c.reserved_at < ? ORDER BY c.reserved_at, c.id LIMIT ?`,
        ).all(checkTime(before, 'before'), checkLimit(limit, 'limit', MAX_READ_BATCH)) as (CertificateRow & {
          tbs: Uint8Array;
        })[]
      ).map(toReservation),
    );
  }

  findCertificates(q: CertificateQuery): Promise<CertificatePage> {
    return this.read('findCertificates', () => {
      const plan = planSearch(q, SQLITE_DIALECT);
      if (plan.empty) return { items: [] };
      let candidates: number[] | undefined;
      for (const probe of plan.probes) {
        const ids = this.st(probe.sql)
          .pluck()
          .all(...probe.params) as number[];
        if (ids.length <= this.candidateLimit && (candidates === undefined || ids.length < candidates.length))
          candidates = ids;
      }
      const page = plan.page(candidates);
      // A candidate list makes each query's text unique: not worth keeping prepared.
      const st = candidates === undefined ? this.st(page.sql) : this.db.prepare(page.sql);
      return toPage(st.all(...page.params) as CertificateRow[], plan);
    });
  }

  async statistics(now: number, expiringUntil: number): Promise<CertificateStatistics> {
    if (this.closed) throw new StoreError('unavailable', 'the store is closed');
    const all = <T>(sql: string, ...params: unknown[]) => this.st(sql).all(...params) as T[];
    const q: StatisticsQueries = {
      unrevokedByIssuer: async () =>
        all<{ issuerId: string; n: number }>(
          'SELECT issuer_id AS issuerId, sum(n) AS n FROM stat_expiry GROUP BY issuer_id',
        ),
      revokedByIssuer: async () =>
        all<{ issuerId: string; hold: number; n: number }>(
          'SELECT issuer_id AS issuerId, hold, sum(n) AS n FROM stat_revoked GROUP BY issuer_id, hold',
        ).map((r) => ({ ...r, hold: r.hold === 1 })),
      unrevokedInHours: async (from, to) =>
        all<{ n: number | null }>(
          'SELECT sum(n) AS n FROM stat_expiry WHERE hour >= ? AND hour < ?',
          from,
          to,
        )[0]!.n ?? 0,
      unrevokedPerDay: async (from, to) =>
        all<{ day: number; n: number }>(
          'SELECT hour / 24 AS day, sum(n) AS n FROM stat_expiry WHERE hour >= ? AND hour < ? GROUP BY hour / 24',
          from,
          to,
        ),
      issuedPerHour: async (from, to) =>
        all<{ hour: number; n: number }>(
          'SELECT hour, n FROM stat_issued WHERE hour >= ? AND hour < ? ORDER BY hour',
          from,
          to,
        ),
      countUnrevoked: async (from, to) =>
        all<{ n: number }>(
          `SELECT count(*) AS n FROM certificates
           WHERE not_after >= ? AND not_after < ? AND state = 'issued' AND revoked_at IS NULL`,
          from,
          to,
        )[0]!.n,
    };
    try {
      return await computeStatistics(q, now, expiringUntil);
    } catch (e) {
      throw sqliteError(e, 'statistics');
    }
  }

  status(issuerId: string, serialHex: string): Promise<SerialStatus | undefined> {
    return this.read('status', () => {
      const row = this.st(
        'SELECT state, revoked_at, revocation_reason, invalidity_date FROM certificates WHERE serial = ? AND issuer_id = ?',
      ).get(checkSerial(serialHex), checkText(issuerId, 'issuerId')) as StatusRow | undefined;
      return toStatus(row);
    });
  }

  revokedEntries(issuerId: string): Promise<RevokedRow[]> {
    return this.read('revokedEntries', () =>
      (
        this.st(
          `SELECT serial, revoked_at, revocation_reason, invalidity_date FROM certificates
           WHERE issuer_id = ? AND revoked_at IS NOT NULL ORDER BY length(serial), serial`,
        ).all(checkText(issuerId, 'issuerId')) as RevokedDbRow[]
      ).map(toRevoked),
    );
  }

  statusChanges(afterSeq: number, limit: number): Promise<StatusChange[]> {
    return this.read(
      'statusChanges',
      () =>
        this.st(
          'SELECT seq, issuer_id AS issuerId, serial AS serialHex FROM status_changes WHERE seq > ? ORDER BY seq LIMIT ?',
        ).all(checkAfterSeq(afterSeq), checkLimit(limit, 'limit', MAX_READ_BATCH)) as StatusChange[],
    );
  }

  latestCrl(issuerId: string): Promise<CrlRecord | undefined> {
    return this.read('latestCrl', () => {
      const row = this.st(
        `SELECT issuer_id, crl_number, this_update, next_update, der FROM crls
         WHERE issuer_id = ? ORDER BY crl_number DESC LIMIT 1`,
      )
        .safeIntegers(true)
        .get(checkText(issuerId, 'issuerId')) as CrlRow | undefined;
      return row && toCrl(row);
    });
  }

  readAudit(afterSeq: number, limit: number): Promise<AuditRecord[]> {
    return this.read('readAudit', () =>
      (
        this.st(
          `SELECT seq, time, actor, action, result, issuer_id, serial, fingerprint, detail, prev_hash, hash
           FROM audit WHERE seq > ? ORDER BY seq LIMIT ?`,
        ).all(checkAfterSeq(afterSeq), checkLimit(limit, 'limit', MAX_READ_BATCH)) as AuditRow[]
      ).map(toAudit),
    );
  }

  getPending(id: string): Promise<PendingRequest | undefined> {
    return this.read('getPending', () => {
      const row = this.st(`SELECT ${PENDING_COLUMNS} FROM pending_requests WHERE id = ?`).get(
        checkText(id, 'id'),
      ) as PendingRow | undefined;
      return row && toPending(row);
    });
  }

  listPending(q: { state?: PendingState; limit: number; afterId?: string }): Promise<PendingRequest[]> {
    return this.read('listPending', () => {
      const state = checkPendingState(q.state);
      const limit = checkLimit(q.limit, 'limit', MAX_READ_BATCH);
      const rows = (
        q.afterId === undefined
          ? this.st(
              `SELECT ${PENDING_COLUMNS} FROM pending_requests WHERE state = ? ORDER BY created_at, id LIMIT ?`,
            ).all(state, limit)
          : this.st(
              `SELECT ${PENDING_COLUMNS} FROM pending_requests WHERE state = ?
               AND (created_at, id) > (SELECT created_at, id FROM pending_requests WHERE id = ?)
               ORDER BY created_at, id LIMIT ?`,
            ).all(state, checkText(q.afterId, 'afterId'), limit)
      ) as PendingRow[];
      return rows.map(toPending);
    });
  }

  getEnrollmentCredential(id: string): Promise<EnrollmentCredential | undefined> {
    return this.read('getEnrollmentCredential', () => {
      const row = this.st(
        `SELECT ${ENROLLMENT_CREDENTIAL_COLUMNS} FROM enrollment_credentials WHERE id = ?`,
      ).get(checkText(id, 'id')) as EnrollmentCredentialRow | undefined;
      return row && toEnrollmentCredential(row);
    });
  }

  listEnrollmentCredentials(q: { limit: number; afterId?: string }): Promise<EnrollmentCredential[]> {
    return this.read('listEnrollmentCredentials', () => {
      const limit = checkLimit(q.limit, 'limit', MAX_READ_BATCH);
      const rows = (
        q.afterId === undefined
          ? this.st(
              `SELECT ${ENROLLMENT_CREDENTIAL_COLUMNS} FROM enrollment_credentials ORDER BY id LIMIT ?`,
            ).all(limit)
          : this.st(
              `SELECT ${ENROLLMENT_CREDENTIAL_COLUMNS} FROM enrollment_credentials WHERE id > ? ORDER BY id LIMIT ?`,
            ).all(checkText(q.afterId, 'afterId'), limit)
      ) as EnrollmentCredentialRow[];
      return rows.map(toEnrollmentCredential);
    });
  }

  getSetting(key: string): Promise<string | undefined> {
    return this.read('getSetting', () => {
      const row = this.st('SELECT value FROM settings WHERE key = ?').get(checkText(key, 'key')) as
        | { value: string }
        | undefined;
      return row?.value;
    });
  }
}
