// Seeding a store with N synthetic certificates quickly, for bench/store.bench.ts: rows are written
// directly in large transactions with the certificate indexes and triggers set aside (and rebuilt
// afterwards), then the statistics counters are filled from the rows in one aggregate query.
// The rows follow the schema's invariants (issued rows with their DER; revoked ones issued), so
// the store opens them as it would its own.
//
// Distribution: 3 issuers (devices-1 70 %, devices-2 29 %, root 1 %), profiles device 90 % /
// gateway 9 % / server 1 %, issued uniformly over the 365 days before `now`, 30-day validity
// (server: 365 days), 1 % revoked and 0.1 % on hold, a random 16-byte serial, subject
// `CN=device-<16 hex>,O=Acme Fleet`, one DNS SAN (servers two), a ~450-byte DER.
import { createHash, randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import pg from 'pg';
import { searchKeys } from '../src/ca/store/search-keys.js';

export const DAY = 86_400_000;
const HOUR = 3_600_000;

export interface SeedRow {
  issuerId: string;
  serial: string;
  profile: string;
  subject: string;
  cnLc: string | null;
  sans: string[];
  notBefore: number;
  notAfter: number;
  issuedAt: number;
  der: Buffer;
  fingerprint: string;
  revokedAt: number | null;
  reason: string | null;
}

/** Rows i ∈ [from, to) of the synthetic population (deterministic shape, random serials and DER). */
export function seedRows(from: number, to: number, now: number): SeedRow[] {
  const out: SeedRow[] = [];
  const bytes = randomBytes((to - from) * 440);
  for (let i = from; i < to; i++) {
    const k = i - from;
    const der = bytes.subarray(k * 440, k * 440 + 440);
    der[0] = 0x30;
    const serialBytes = Buffer.from(der.subarray(8, 24));
    serialBytes[0] = (serialBytes[0]! & 0x7f) | 0x01;
    const serial = serialBytes.toString('hex');
    const name = der.subarray(24, 32).toString('hex');
    const r = i % 1000;
    const issuerId = r < 10 ? 'root' : r < 300 ? 'devices-2' : 'devices-1';
    const profile = r % 100 === 7 ? 'server' : r % 11 === 3 ? 'gateway' : 'device';
    const issuedAt = now - Math.floor(((i * 7919) % 1_000_003) * ((365 * DAY) / 1_000_003));
    const notAfter = issuedAt + (profile === 'server' ? 365 : 30) * DAY;
    const sans = [`dns:device-${name}.fleet.example`];
    if (profile === 'server') sans.push(`ip:10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    const revoked =
      r === 500 || r === 501 || r % 100 === 42 ? 'keyCompromise' : r === 999 ? 'certificateHold' : null;
    out.push({
      issuerId,
      serial,
      profile,
      subject: `CN=device-${name},O=Acme Fleet`,
      cnLc: searchKeys(`CN=device-${name},O=Acme Fleet`, sans).cnLc,
      sans,
      notBefore: issuedAt - 60_000,
      notAfter,
      issuedAt,
      der,
      fingerprint: createHash('sha256').update(der).digest('hex'),
      revokedAt: revoked ? issuedAt + DAY : null,
      reason: revoked,
    });
  }
  return out;
}

const ISSUERS = ['root', 'devices-1', 'devices-2'];

/** Issuer records for the seeded stores (the bench opens the store and calls initHierarchy first). */
export const SEED_ISSUERS = ISSUERS;

const BATCH = 20_000;

/** Seeds an initialised SQLite store file (closed) with `n` issued certificates. */
export function seedSqlite(path: string, n: number, now: number, log: (s: string) => void): void {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF'); // the seed only: the bench's measurements use the store's own settings
  db.pragma('cache_size = -262144');
  const saved = db
    .prepare(
      `SELECT type, name, sql FROM sqlite_schema
       WHERE tbl_name IN ('certificates', 'certificate_sans') AND type IN ('index', 'trigger') AND sql IS NOT NULL`,
    )
    .all() as { type: string; name: string; sql: string }[];
  db.exec('BEGIN');
  for (const s of saved) db.exec(`DROP ${s.type.toUpperCase()} ${s.name}`);
  db.exec('COMMIT');
  const ins = db.prepare(
    `INSERT INTO certificates (id, issuer_id, serial, state, profile, subject, subject_lc, cn_lc, sans, not_before,
       not_after, requester, reserved_at, listed_at, der, fingerprint, issued_at, revoked_at, revocation_reason)
     VALUES (?, ?, ?, 'issued', ?, ?, ?, ?, ?, ?, ?, 'admin:token:bench', ?, ?, ?, ?, ?, ?, ?)`,
  );
  const san = db.prepare('INSERT OR IGNORE INTO certificate_sans (san, certificate_id) VALUES (?, ?)');
  const base = (db.prepare('SELECT coalesce(max(id), 0) AS m FROM certificates').get() as { m: number }).m;
  const t0 = performance.now();
  for (let from = 0; from < n; from += BATCH) {
    const rows = seedRows(from, Math.min(n, from + BATCH), now);
    db.transaction(() => {
      rows.forEach((r, k) => {
        const id = base + from + k + 1;
        ins.run(
          id,
          r.issuerId,
          r.serial,
          r.profile,
          r.subject,
          r.subject.toLowerCase(),
          r.cnLc,
          JSON.stringify(r.sans),
          r.notBefore,
          r.notAfter,
          r.issuedAt,
          r.issuedAt,
          r.der,
          r.fingerprint,
          r.issuedAt,
          r.revokedAt,
          r.reason,
        );
        for (const s of r.sans) san.run(s, id);
      });
    })();
    if ((from / BATCH) % 10 === 9)
      log(`  sqlite: ${from + BATCH} rows (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  }
  log('  sqlite: indexes, triggers, counters, ANALYZE');
  db.exec('BEGIN');
  for (const s of saved.filter((x) => x.type === 'index')) db.exec(s.sql);
  for (const s of saved.filter((x) => x.type === 'trigger')) db.exec(s.sql);
  db.exec(STATS_SQL);
  db.exec('COMMIT');
  db.exec('ANALYZE');
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

/** The counters, rebuilt from the rows (what the triggers would have kept). */
const STATS_SQL = `
DELETE FROM stat_expiry; DELETE FROM stat_revoked; DELETE FROM stat_issued;
INSERT INTO stat_expiry (hour, issuer_id, n)
  SELECT not_after / ${HOUR}, issuer_id, count(*) FROM certificates
  WHERE state = 'issued' AND revoked_at IS NULL GROUP BY 1, 2;
INSERT INTO stat_revoked (issuer_id, hold, n)
  SELECT issuer_id, revocation_reason = 'certificateHold', count(*) FROM certificates
  WHERE state = 'issued' AND revoked_at IS NOT NULL GROUP BY 1, 2;
INSERT INTO stat_issued (hour, n)
  SELECT issued_at / ${HOUR}, count(*) FROM certificates WHERE state = 'issued' GROUP BY 1;
`;

/** Seeds an initialised PostgreSQL store with `n` issued certificates. */
export async function seedPostgres(
  url: string,
  n: number,
  now: number,
  log: (s: string) => void,
): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(`SET maintenance_work_mem = '512MB'`);
    const idx = (
      await c.query(
        `SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def
         FROM pg_index i WHERE i.indrelid IN ('certificates'::regclass, 'certificate_sans'::regclass)
           AND NOT i.indisunique AND NOT i.indisprimary`,
      )
    ).rows as { name: string; def: string }[];
    for (const i of idx) await c.query(`DROP INDEX ${i.name}`);
    // Triggers are skipped for this session (the counters are rebuilt below).
    await c.query(`SET session_replication_role = replica`);
    const t0 = performance.now();
    for (let from = 0; from < n; from += BATCH) {
      const rows = seedRows(from, Math.min(n, from + BATCH), now);
      const col = <T>(f: (r: SeedRow) => T) => rows.map(f);
      await c.query('BEGIN');
      const ids = await c.query(
        `INSERT INTO certificates (issuer_id, serial, state, profile, subject, subject_lc, cn_lc, sans, not_before,
           not_after, requester, reserved_at, listed_at, der, fingerprint, issued_at, revoked_at, revocation_reason)
         SELECT issuer_id, serial, 'issued', profile, subject, lower(subject), cn_lc, sans, not_before, not_after,
           'admin:token:bench', issued_at, issued_at, der, fingerprint, issued_at, revoked_at, reason
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[],
           $8::bigint[], $9::bytea[], $10::text[], $11::bigint[], $12::bigint[], $13::text[])
           AS t(issuer_id, serial, profile, subject, cn_lc, sans, not_before, not_after, der, fingerprint,
                issued_at, revoked_at, reason)
         RETURNING id`,
        [
          col((r) => r.issuerId),
          col((r) => r.serial),
          col((r) => r.profile),
          col((r) => r.subject),
          col((r) => r.cnLc),
          col((r) => JSON.stringify(r.sans)),
          col((r) => r.notBefore),
          col((r) => r.notAfter),
          col((r) => r.der),
          col((r) => r.fingerprint),
          col((r) => r.issuedAt),
          col((r) => r.revokedAt),
          col((r) => r.reason),
        ],
      );
      const sanVals: string[] = [];
      const sanIds: string[] = [];
      ids.rows.forEach((row: { id: string }, k) => {
        for (const s of rows[k]!.sans) {
          sanVals.push(s);
          sanIds.push(row.id);
        }
      });
      await c.query(
        'INSERT INTO certificate_sans (san, certificate_id) SELECT * FROM unnest($1::text[], $2::bigint[]) ON CONFLICT DO NOTHING',
        [sanVals, sanIds],
      );
      await c.query('COMMIT');
      if ((from / BATCH) % 10 === 9)
        log(`  postgres: ${from + BATCH} rows (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    }
    await c.query(`SET session_replication_role = origin`);
    log('  postgres: indexes, counters, VACUUM ANALYZE');
    for (const i of idx) await c.query(i.def);
    await c.query(`BEGIN; ${STATS_SQL} COMMIT;`);
    await c.query('VACUUM ANALYZE');
  } finally {
    await c.end();
  }
}
