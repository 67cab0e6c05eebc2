import pg from 'pg';
import type { SerialStatus } from '../../revocation/status-source.js';
import { GroupCommit, type WriteQueue } from './group-commit.js';
import { pgError } from './postgres-error.js';
import { migratePostgres } from './postgres-migrate.js';
import { PostgresWriter } from './postgres-writer.js';
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
import { CANDIDATE_LIMIT, POSTGRES_DIALECT, planSearch } from './search.js';
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
 * The store on PostgreSQL, for several `fleetpki serve` instances behind a load balancer. Writes
 * go through group commit like SQLite's (one transaction per batch, see `PostgresWriter`: every
 * batch of every instance locks the audit head first, so writes are serialised across instances
 * and the audit chain stays linear); reads use a connection pool and see every committed write.
 * The tables live in the connection's current schema (`?options=-c search_path=NAME` in the URL
 * chooses another than `public`).
 */
export interface PostgresStoreOptions {
  /** Pool connections (reads and the writer). Default 10. */
  poolSize?: number;
  /**
   * Search: a name filter (subject, SAN, serial prefix) with at most this many matches is resolved
   * to its ids before the page is read; above it, the sort index is walked. Default 5000.
   */
  candidateLimit?: number;
  /** Most writes in one transaction. Default 256. */
  maxBatch?: number;
  /** Further `pg.Pool` settings (TLS, timeouts); the connection string comes from the URL. */
  pool?: Omit<pg.PoolConfig, 'connectionString'>;
}

/** Largest `limit` for `unresolvedReservations`, `statusChanges` and `readAudit`. */
const MAX_READ_BATCH = 10_000;

export class PostgresStore extends QueuedWrites implements Store {
  readonly kind = 'postgres' as const;

  private constructor(
    private readonly pool: pg.Pool,
    commit: WriteQueue,
    private readonly candidateLimit: number,
  ) {
    super(commit);
  }

  /** Connects, migrates the schema, and returns the store; `unavailable` when unreachable. */
  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const pool = new pg.Pool({
      allowExitOnIdle: true,
      // Named per process, so `pg_stat_activity` tells the instances sharing a database apart.
      application_name: `fleetpki-${process.pid}`,
      // A connection that cannot be had (server stalled, pool exhausted) fails the operation as
      // `unavailable` instead of waiting for ever.
      connectionTimeoutMillis: 30_000,
      ...options.pool,
      connectionString: url,
      max: options.poolSize ?? 10,
    });
    // An idle connection that breaks (server restart) must not crash the process; the next query
    // gets a new one.
    pool.on('error', () => {});
    try {
      await migratePostgres(pool);
    } catch (e) {
      await pool.end().catch(() => {});
      const err = pgError(e, 'open');
      if (err.code !== 'unavailable') throw err;
      throw new StoreError(
        'unavailable',
        `cannot open the PostgreSQL store at ${describe(url)}: ${err.message}`,
        {
          cause: e,
        },
      );
    }
    const writer = new PostgresWriter(pool);
    const commit = new GroupCommit((ops) => writer.runBatch(ops), { maxBatch: options.maxBatch ?? 256 });
    return new PostgresStore(pool, commit, options.candidateLimit ?? CANDIDATE_LIMIT);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.commit.close();
    await this.pool.end();
  }

  async backup(_path: string): Promise<void> {
    throw new StoreError(
      'unsupported',
      'backup is for the SQLite store; back up PostgreSQL with pg_dump (e.g. pg_dump -Fc -f fleetpki.dump DBNAME)',
    );
  }

  private async rows<T>(what: string, text: string, values: unknown[], name?: string): Promise<T[]> {
    if (this.closed) throw new StoreError('unavailable', 'the store is closed');
    try {
      const r = await this.pool.query(name ? { name, text, values } : { text, values });
      return r.rows as T[];
    } catch (e) {
      throw pgError(e, what);
    }
  }

  async listIssuers(): Promise<IssuerRecord[]> {
    return (
      await this.rows<IssuerRow>(
        'listIssuers',
        `SELECT id, role, parent_id, status, certificate, key_ref, created_at, crl_number
         FROM issuers ORDER BY created_at, id`,
        [],
      )
    ).map(toIssuer);
  }

  async getCertificate(issuerId: string, serialHex: string): Promise<CertificateRecord | undefined> {
    const [row] = await this.rows<CertificateRow>(
      'getCertificate',
      `SELECT ${CERTIFICATE_COLUMNS} FROM certificates c WHERE serial = $1 AND issuer_id = $2`,
      [checkSerial(serialHex), checkText(issuerId, 'issuerId')],
      'fp_get_certificate',
    );
    return row && toRecord(row);
  }

  async findBySerial(serialHex: string): Promise<CertificateRecord[]> {
    return (
      await this.rows<CertificateRow>(
        'findBySerial',
        `SELECT ${CERTIFICATE_COLUMNS} FROM certificates c WHERE serial = $1 ORDER BY issuer_id`,
        [checkSerial(serialHex)],
        'fp_find_by_serial',
      )
    ).map(toRecord);
  }

  async findByRequestId(requestId: string): Promise<CertificateRecord | undefined> {
    const [row] = await this.rows<CertificateRow>(
      'findByRequestId',
      `SELECT ${CERTIFICATE_COLUMNS} FROM certificates c WHERE request_id = $1`,
      [checkText(requestId, 'requestId')],
      'fp_find_by_request',
    );
    return row && toRecord(row);
  }

  async unresolvedReservations(before: number, limit: number): Promise<Reservation[]> {
    return (
      await this.rows<CertificateRow & { tbs: Uint8Array }>(
        'unresolvedReservations',
        `SELECT ${CERTIFICATE_COLUMNS}, c.tbs FROM certificates c
         WHERE c.state = 'reserved' AND c.reserved_at < $1 ORDER BY c.reserved_at, c.id LIMIT $2`,
        [checkTime(before, 'before'), checkLimit(limit, 'limit', MAX_READ_BATCH)],
      )
    ).map(toReservation);
  }

  async findCertificates(q: CertificateQuery): Promise<CertificatePage> {
    const plan = planSearch(q, POSTGRES_DIALECT);
    if (plan.empty) return { items: [] };
    let candidates: number[] | undefined;
    for (const probe of plan.probes) {
      const ids = (await this.rows<{ id: string }>('findCertificates', probe.sql, probe.params)).map((r) =>
        Number(r.id),
      );
      if (ids.length <= this.candidateLimit && (candidates === undefined || ids.length < candidates.length))
        candidates = ids;
    }
    const page = plan.page(candidates);
    return toPage(await this.rows<CertificateRow>('findCertificates', page.sql, page.params), plan);
  }

  async statistics(now: number, expiringUntil: number): Promise<CertificateStatistics> {
    const num = (v: unknown) => Number(v ?? 0);
    const q: StatisticsQueries = {
      unrevokedByIssuer: async () =>
        (
          await this.rows<{ issuer_id: string; n: string }>(
            'statistics',
            'SELECT issuer_id, sum(n) AS n FROM stat_expiry GROUP BY issuer_id',
            [],
          )
        ).map((r) => ({ issuerId: r.issuer_id, n: num(r.n) })),
      revokedByIssuer: async () =>
        (
          await this.rows<{ issuer_id: string; hold: boolean; n: string }>(
            'statistics',
            'SELECT issuer_id, hold, sum(n) AS n FROM stat_revoked GROUP BY issuer_id, hold',
            [],
          )
        ).map((r) => ({ issuerId: r.issuer_id, hold: r.hold, n: num(r.n) })),
      unrevokedInHours: async (from, to) =>
        num(
          (
            await this.rows<{ n: string | null }>(
              'statistics',
              'SELECT sum(n) AS n FROM stat_expiry WHERE hour >= $1 AND hour < $2',
              [from, to],
            )
          )[0]!.n,
        ),
      unrevokedPerDay: async (from, to) =>
        (
          await this.rows<{ day: string; n: string }>(
            'statistics',
            'SELECT hour / 24 AS day, sum(n) AS n FROM stat_expiry WHERE hour >= $1 AND hour < $2 GROUP BY hour / 24',
            [from, to],
          )
        ).map((r) => ({ day: num(r.day), n: num(r.n) })),
      issuedPerHour: async (from, to) =>
        (
          await this.rows<{ hour: string; n: string }>(
            'statistics',
            'SELECT hour, n FROM stat_issued WHERE hour >= $1 AND hour < $2 ORDER BY hour',
            [from, to],
          )
        ).map((r) => ({ hour: num(r.hour), n: num(r.n) })),
      countUnrevoked: async (from, to) =>
        num(
          (
            await this.rows<{ n: string }>(
              'statistics',
              `SELECT count(*) AS n FROM certificates
               WHERE not_after >= $1 AND not_after < $2 AND state = 'issued' AND revoked_at IS NULL`,
              [from, to],
            )
          )[0]!.n,
        ),
    };
    return computeStatistics(q, now, expiringUntil);
  }

  async status(issuerId: string, serialHex: string): Promise<SerialStatus | undefined> {
    const [row] = await this.rows<StatusRow>(
      'status',
      'SELECT state, revoked_at, revocation_reason, invalidity_date FROM certificates WHERE serial = $1 AND issuer_id = $2',
      [checkSerial(serialHex), checkText(issuerId, 'issuerId')],
      'fp_status',
    );
    return toStatus(row);
  }

  async revokedEntries(issuerId: string): Promise<RevokedRow[]> {
    return (
      await this.rows<RevokedDbRow>(
        'revokedEntries',
        `SELECT serial, revoked_at, revocation_reason, invalidity_date FROM certificates
         WHERE issuer_id = $1 AND revoked_at IS NOT NULL ORDER BY length(serial), serial`,
        [checkText(issuerId, 'issuerId')],
      )
    ).map(toRevoked);
  }

  async statusChanges(afterSeq: number, limit: number): Promise<StatusChange[]> {
    return (
      await this.rows<{ seq: string; issuer_id: string; serial: string }>(
        'statusChanges',
        'SELECT seq, issuer_id, serial FROM status_changes WHERE seq > $1 ORDER BY seq LIMIT $2',
        [checkAfterSeq(afterSeq), checkLimit(limit, 'limit', MAX_READ_BATCH)],
        'fp_status_changes',
      )
    ).map((r) => ({ seq: Number(r.seq), issuerId: r.issuer_id, serialHex: r.serial }));
  }

  async latestCrl(issuerId: string): Promise<CrlRecord | undefined> {
    const [row] = await this.rows<CrlRow>(
      'latestCrl',
      `SELECT issuer_id, crl_number, this_update, next_update, der FROM crls
       WHERE issuer_id = $1 ORDER BY crl_number DESC LIMIT 1`,
      [checkText(issuerId, 'issuerId')],
    );
    return row && toCrl(row);
  }

  async readAudit(afterSeq: number, limit: number): Promise<AuditRecord[]> {
    return (
      await this.rows<AuditRow>(
        'readAudit',
        `SELECT seq, time, actor, action, result, issuer_id, serial, fingerprint, detail, prev_hash, hash
         FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2`,
        [checkAfterSeq(afterSeq), checkLimit(limit, 'limit', MAX_READ_BATCH)],
      )
    ).map(toAudit);
  }

  async getPending(id: string): Promise<PendingRequest | undefined> {
    const [row] = await this.rows<PendingRow>(
      'getPending',
      `SELECT ${PENDING_COLUMNS} FROM pending_requests WHERE id = $1`,
      [checkText(id, 'id')],
    );
    return row && toPending(row);
  }

  async listPending(q: { state?: PendingState; limit: number; afterId?: string }): Promise<PendingRequest[]> {
    const state = checkPendingState(q.state);
    const limit = checkLimit(q.limit, 'limit', MAX_READ_BATCH);
    const rows =
      q.afterId === undefined
        ? await this.rows<PendingRow>(
            'listPending',
            `SELECT ${PENDING_COLUMNS} FROM pending_requests WHERE state = $1 ORDER BY created_at, id LIMIT $2`,
            [state, limit],
          )
        : await this.rows<PendingRow>(
            'listPending',
            `SELECT ${PENDING_COLUMNS} FROM pending_requests WHERE state = $1
             AND (created_at, id) > (SELECT created_at, id FROM pending_requests WHERE id = $2)
             ORDER BY created_at, id LIMIT $3`,
            [state, checkText(q.afterId, 'afterId'), limit],
          );
    return rows.map(toPending);
  }

  async getEnrollmentCredential(id: string): Promise<EnrollmentCredential | undefined> {
    const [row] = await this.rows<EnrollmentCredentialRow>(
      'getEnrollmentCredential',
      `SELECT ${ENROLLMENT_CREDENTIAL_COLUMNS} FROM enrollment_credentials WHERE id = $1`,
      [checkText(id, 'id')],
    );
    return row && toEnrollmentCredential(row);
  }

  async listEnrollmentCredentials(q: { limit: number; afterId?: string }): Promise<EnrollmentCredential[]> {
    const limit = checkLimit(q.limit, 'limit', MAX_READ_BATCH);
    const rows =
      q.afterId === undefined
        ? await this.rows<EnrollmentCredentialRow>(
            'listEnrollmentCredentials',
            `SELECT ${ENROLLMENT_CREDENTIAL_COLUMNS} FROM enrollment_credentials ORDER BY id LIMIT $1`,
            [limit],
          )
        : await this.rows<EnrollmentCredentialRow>(
            'listEnrollmentCredentials',
            `SELECT ${ENROLLMENT_CREDENTIAL_COLUMNS} FROM enrollment_credentials WHERE id > $1 ORDER BY id LIMIT $2`,
            [checkText(q.afterId, 'afterId'), limit],
          );
    return rows.map(toEnrollmentCredential);
  }

  async getSetting(key: string): Promise<string | undefined> {
    const [row] = await this.rows<{ value: string }>(
      'getSetting',
      'SELECT value FROM settings WHERE key = $1',
      [checkText(key, 'key')],
    );
    return row?.value;
  }
}

/** host:port/database of a connection URL, without user or password (for messages). */
function describe(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname || 'localhost'}${u.port ? `:${u.port}` : ''}${u.pathname}`;
  } catch {
    return 'the given URL';
  }
}
